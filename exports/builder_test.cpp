#include "exports/builder.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include <random>

#include "base/sha256.h"
#include "exports/hash_worker.h"
#include "exports/testing.h"
#include "exports/verify.h"
#include "requests/workflow.h"

using namespace custodian;
using namespace custodian::exports;
using namespace custodian::exports::testing;

namespace {

constexpr int64_t kSecond = kMicrosPerSecond;

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("a range across a gap and a resolution change is split into parts, the gap reported") {
  Site s;
  const UtcMicros t = kT0 - kHour;
  AddSegment(*s.db, s.dir.path(), "door-1", t, 320, 240, 10);
  AddSegment(*s.db, s.dir.path(), "door-1", t + 10 * kSecond, 320, 240, 10);
  REQUIRE(s.db->InsertGap({0, "door-1", t + 20 * kSecond, t + 30 * kSecond,
                           records::GapReason::kCameraOffline, "no route to host"})
              .ok());
  AddSegment(*s.db, s.dir.path(), "door-1", t + 30 * kSecond, 320, 240, 10);
  AddSegment(*s.db, s.dir.path(), "door-1", t + 40 * kSecond, 640, 360, 10);
  AddSegment(*s.db, s.dir.path(), "door-1", t + 50 * kSecond, 640, 360, 10);
  const int64_t ex = ApprovedExport(s, {{"door-1", t + 5 * kSecond + 300'000, t + 55 * kSecond}});
  // What the camera is, as its configuration gave it to the records.
  REQUIRE(s.db->UpsertCamera({"door-1", "Front door", {}, "Acme", "Dome 9", "V5.7.3"}).ok());

  Built b = Build(s, ex);
  INFO(b.result.status().ToString());
  REQUIRE(b.result.ok());
  const Manifest& m = b.result->manifest;
  std::vector<const ManifestFile*> videos;
  for (const ManifestFile& f : m.files) {
    if (f.kind == "video") videos.push_back(&f);
  }
  REQUIRE(videos.size() == 3);
  // Starts at the keyframe before the requested start (5.3 s in: the keyframe at 5 s).
  REQUIRE(videos[0]->from == t + 5 * kSecond);
  REQUIRE(videos[0]->to == t + 20 * kSecond);
  REQUIRE(videos[0]->source_segments.size() == 2);
  REQUIRE(videos[0]->path ==
          "working/export-" + std::to_string(ex) + "_door-1_" + FormatUtcCompact(t + 5 * kSecond) + ".mp4");
  REQUIRE(videos[1]->from == t + 30 * kSecond);
  REQUIRE(videos[1]->to == t + 40 * kSecond);
  REQUIRE(videos[2]->from == t + 40 * kSecond);
  REQUIRE(videos[2]->to == t + 55 * kSecond);
  REQUIRE(videos[2]->width == 640);
  REQUIRE(ProbeVideo(b.dir + "/" + videos[0]->path) == "320x240x375");
  REQUIRE(ProbeVideo(b.dir + "/" + videos[1]->path) == "320x240x250");
  REQUIRE(ProbeVideo(b.dir + "/" + videos[2]->path) == "640x360x375");
  for (const ManifestFile* v : videos) REQUIRE(DecodesCleanly(b.dir + "/" + v->path));

  REQUIRE(m.gaps.size() == 1);
  REQUIRE(m.gaps[0].from == t + 20 * kSecond);
  REQUIRE(m.gaps[0].to == t + 30 * kSecond);
  REQUIRE(m.gaps[0].reason.find("camera_offline") != std::string::npos);
  REQUIRE(m.ranges.size() == 1);
  REQUIRE(m.ranges[0].covered_from == t + 5 * kSecond);
  REQUIRE(m.ranges[0].covered_to == t + 55 * kSecond);
  REQUIRE(m.segments.size() == 5);
  for (const ManifestSegment& seg : m.segments) REQUIRE(seg.sha256_verified);

  auto json = ReadJson(b.dir + "/manifest.json");
  REQUIRE(json["format"] == kManifestFormat);
  REQUIRE(json["request"]["reference"] == "CR/1");
  REQUIRE(json["ranges"][0]["requested_from_local"] == "2026-01-15T09:00:05.300000+00:00");
  CHECK(json["ranges"][0]["camera_make"] == "Acme");
  CHECK(json["ranges"][0]["camera_model"] == "Dome 9");
  CHECK(json["ranges"][0]["camera_firmware"] == "V5.7.3");
  REQUIRE(json["gaps"][0]["seconds"] == 10.0);
  REQUIRE(json["approver"]["name"] == "blake");
  REQUIRE(json["exporter"]["name"] == "sam");
  REQUIRE(json["files"].size() == 7);  // 3 videos, player, public key, README, SHA256SUMS

  auto v = VerifyPackage(b.dir, std::nullopt);
  REQUIRE(v.ok());
  INFO((v->problems.empty() ? "" : v->problems.front()));
  REQUIRE(v->ok);
  REQUIRE(v->key_from_package);
  REQUIRE(Run("cd '" + b.dir + "' && sha256sum --quiet -c SHA256SUMS") == 0);
}

TEST_CASE("originals are copied bit for bit beside the spliced file") {
  Site s;
  const UtcMicros t = kT0 - kHour;
  const int64_t a = AddSegment(*s.db, s.dir.path(), "yard", t, 320, 240, 4);
  AddSegment(*s.db, s.dir.path(), "yard", t + 4 * kSecond, 320, 240, 4);
  const int64_t ex = ApprovedExport(s, {{"yard", t, t + 8 * kSecond}}, /*originals=*/true);
  Built b = Build(s, ex);
  REQUIRE(b.result.ok());
  int originals = 0;
  for (const ManifestFile& f : b.result->manifest.files) {
    if (f.kind != "original") continue;
    ++originals;
    REQUIRE(f.path.rfind("master/yard/", 0) == 0);  // the master exhibit's own folder
    const auto seg = **s.db->GetSegment(f.source_segments.at(0));
    REQUIRE(f.sha256 == *seg.sha256);
    REQUIRE(*Sha256File(b.dir + "/" + f.path) == *seg.sha256);
  }
  REQUIRE(originals == 2);
  // The README says which folder is which, and that only the master is evidence.
  std::ifstream readme_in(b.dir + "/README.txt");
  const std::string readme((std::istreambuf_iterator<char>(readme_in)), {});
  CHECK(readme.find("master/       THE MASTER EXHIBIT") != std::string::npos);
  CHECK(readme.find("Only\n                these are evidence of exactly what was recorded") !=
        std::string::npos);
  CHECK(readme.find("working/      WORKING COPIES") != std::string::npos);
  CHECK(readme.find("player.html") != std::string::npos);
  CHECK(readme.find("every time here is the appliance's clock") != std::string::npos);
  CHECK(readme.find("camera yard: +0.0 s") != std::string::npos);  // measured 12 ms ahead
  auto json = ReadJson(b.dir + "/manifest.json");
  for (const auto& f : json["files"]) {
    if (f["kind"] == "original") CHECK(f["role"] == "master exhibit");
    if (f["kind"] == "video") CHECK(f["role"] == "working copy");
  }
  REQUIRE(b.result->manifest.gaps.empty());
  (void)a;
}

TEST_CASE("a source segment altered on disk fails the build") {
  Site s;
  const UtcMicros t = kT0 - kHour;
  const int64_t id = AddSegment(*s.db, s.dir.path(), "door-1", t, 320, 240, 4);
  const auto seg = **s.db->GetSegment(id);
  {
    std::fstream f(s.dir.File(seg.path), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-10, std::ios::end);
    f.put('\x5a');
  }
  const int64_t ex = ApprovedExport(s, {{"door-1", t, t + 4 * kSecond}});
  Built b = Build(s, ex);
  REQUIRE(b.result.status().kind() == ErrorKind::kDataLoss);
  REQUIRE(b.result.status().message().find("recorded SHA-256") != std::string::npos);
  // The error names the segment, by id and by file.
  REQUIRE(b.result.status().message().find("segment " + std::to_string(id) + " (" + seg.path +
                                           ")") != std::string::npos);
}

TEST_CASE("one flipped bit in spliced segments fails the build, naming each altered segment") {
  // Four segments; the last byte of the media of the second and the third is changed. The
  // splice copies media without reading it, so only the source hashes can notice; the
  // builder checks sources on two workers (the third goes beside the output), and both
  // alterations must be caught.
  Site s;
  const UtcMicros t = kT0 - kHour;
  std::vector<int64_t> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(AddSegment(*s.db, s.dir.path(), "door-1", t + i * 2 * kSecond, 320, 240, 2));
  }
  for (int i : {1, 2}) {
    const auto seg = **s.db->GetSegment(ids[i]);
    std::fstream f(s.dir.File(seg.path), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-1, std::ios::end);
    const char last = static_cast<char>(f.get());
    f.seekp(-1, std::ios::end);
    f.put(static_cast<char>(last ^ 1));
  }
  const int64_t ex = ApprovedExport(s, {{"door-1", t, t + 8 * kSecond}});
  Built b = Build(s, ex);
  REQUIRE(b.result.status().kind() == ErrorKind::kDataLoss);
  const std::string& why = b.result.status().message();
  INFO(why);
  REQUIRE(why.find("segment " + std::to_string(ids[1]) + " (") != std::string::npos);
  REQUIRE(why.find("segment " + std::to_string(ids[2]) + " (") != std::string::npos);
  REQUIRE(why.find("segment " + std::to_string(ids[0]) + " (") == std::string::npos);
  REQUIRE(why.find("segment " + std::to_string(ids[3]) + " (") == std::string::npos);
}

TEST_CASE("export hashing matches OpenSSL's SHA-256 for every length and split") {
  std::mt19937_64 rng(7);
  std::vector<uint8_t> data(300000);
  for (uint8_t& c : data) c = static_cast<uint8_t>(rng());
  INFO("SHA extensions: " << Sha256Stream::ShaExtensionsAvailable());
  for (auto engine : {Sha256Stream::Engine::kAuto, Sha256Stream::Engine::kOpenSsl}) {
    for (size_t len : {0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 4097, 300000}) {
      const std::string want = Sha256Hex(std::string(data.begin(), data.begin() + len));
      Sha256Stream whole(engine);
      whole.Update(data.data(), len);
      REQUIRE(whole.FinishHex() == want);
      // Fed in pieces of random sizes, and two streams at once with different splits.
      Sha256Stream a(engine), b(engine);
      size_t pa = 0, pb = 0;
      while (pa < len || pb < len) {
        const size_t na = std::min<size_t>(len - pa, rng() % 300);
        const size_t nb = std::min<size_t>(len - pb, rng() % 3 == 0 ? rng() % 70 : rng() % 5000);
        Sha256Stream::UpdateBoth(a, data.data() + pa, na, b, data.data() + pb, nb);
        pa += na;
        pb += nb;
      }
      REQUIRE(a.FinishHex() == want);
      REQUIRE(b.FinishHex() == want);
    }
  }
}

TEST_CASE("the hash worker digests runs and the source alongside them") {
  std::mt19937_64 rng(11);
  auto bytes = std::make_shared<std::vector<uint8_t>>(200000);
  for (uint8_t& c : *bytes) c = static_cast<uint8_t>(rng());
  const uint8_t* d = bytes->data();
  HashWorker w;
  const int out = w.Begin(), other = w.Begin(), source = w.Begin();
  // The output takes a header, then pieces of the source; `other` gets a piece in between.
  w.Update(out, bytes, d, 100);
  w.Update(bytes, {{out, {{d + 1000, 5000}, {d + 7000, 3}}}, {other, {{d, 64}}},
                   {out, {{d + 9000, 150000}}}},
           HashRun{source, {{d, 120000}, {d + 120000, 80000}}});
  const std::string got_out = w.Finish(out).get();
  const std::string got_other = w.Finish(other).get();
  const std::string got_source = w.Finish(source).get();
  auto hex = [&](std::vector<std::pair<size_t, size_t>> parts) {
    std::string all;
    for (auto [at, n] : parts) all.append(reinterpret_cast<const char*>(d + at), n);
    return Sha256Hex(all);
  };
  REQUIRE(got_out == hex({{0, 100}, {1000, 5000}, {7000, 3}, {9000, 150000}}));
  REQUIRE(got_other == hex({{0, 64}}));
  REQUIRE(got_source == hex({{0, 200000}}));
}

TEST_CASE("a range with no footage at all gives a package that says so") {
  Site s;
  const int64_t ex = ApprovedExport(s, {{"yard", kT0 - kHour, kT0 - kHour + 60 * kSecond}});
  Built b = Build(s, ex);
  REQUIRE(b.result.ok());
  REQUIRE(b.result->manifest.gaps.size() == 1);
  REQUIRE(b.result->manifest.gaps[0].reason == "no footage recorded");
  REQUIRE_FALSE(b.result->manifest.ranges[0].covered_from.has_value());
  auto v = VerifyPackage(b.dir, std::nullopt);
  REQUIRE(v->ok);
  // A file the operating system added is a warning; a missing file is a problem.
  std::ofstream(b.dir + "/Thumbs.db") << "x";
  v = VerifyPackage(b.dir, std::nullopt);
  REQUIRE(v->ok);
  REQUIRE(v->warnings.back().find("Thumbs.db: not listed") != std::string::npos);
  std::filesystem::remove(b.dir + "/README.txt");
  v = VerifyPackage(b.dir, std::nullopt);
  REQUIRE_FALSE(v->ok);
  REQUIRE(v->problems.front() == "README.txt: missing");
  REQUIRE(VerifyPackage(b.dir + "/nowhere", std::nullopt).status().kind() == ErrorKind::kNotFound);

  // A read error is reported as one, not as a missing or altered file.
  FaultInjectingFilesystem fs(PosixFilesystem::Instance());
  fs.FailReads(true);
  v = VerifyPackage(b.dir, std::nullopt, fs);
  REQUIRE_FALSE(v->ok);
  REQUIRE(v->problems.front().rfind("cannot read manifest.json: ", 0) == 0);
  REQUIRE(v->problems.front().find("(injected)") != std::string::npos);
}

TEST_CASE("a cancelled build stops between segments") {
  Site s;
  const UtcMicros t = kT0 - kHour;
  AddSegment(*s.db, s.dir.path(), "door-1", t, 320, 240, 2);
  AddSegment(*s.db, s.dir.path(), "door-1", t + 2 * kSecond, 320, 240, 2);
  const int64_t ex = ApprovedExport(s, {{"door-1", t, t + 4 * kSecond}});
  int calls = 0;
  Built b = Build(s, ex, [&] { return ++calls > 1; });
  REQUIRE(b.result.status().message() == "export cancelled");
  REQUIRE(calls == 2);
}

TEST_CASE("an export that would not fit on the disk is refused before it starts") {
  Site s;
  const UtcMicros t = kT0 - kHour;
  AddSegment(*s.db, s.dir.path(), "door-1", t, 320, 240, 2);
  const int64_t ex = ApprovedExport(s, {{"door-1", t, t + 2 * kSecond}});
  auto plan = PlanExport(*s.db, ex, "Test site");
  REQUIRE(plan.ok());
  auto key = SigningKey::LoadOrCreate(s.dir.File("keys"));
  FaultInjectingFilesystem full(PosixFilesystem::Instance());
  full.SetSpace({100ull << 30, 1ull << 20});
  auto built = BuildPackage(*plan, s.dir.path(), s.dir.File("out"), *key, full, s.clock,
                            TimeZone::UkLocal(), BuildOptions{}, {}, {});
  REQUIRE(built.status().kind() == ErrorKind::kResourceExhausted);
}

TEST_CASE("a disk that fills while the footage is copied fails the build as out of space") {
  Site s;
  const UtcMicros t = kT0 - kHour;
  AddSegment(*s.db, s.dir.path(), "door-1", t, 320, 240, 2);
  AddSegment(*s.db, s.dir.path(), "door-1", t + 2 * kSecond, 320, 240, 2);
  const int64_t ex = ApprovedExport(s, {{"door-1", t, t + 4 * kSecond}});
  auto plan = PlanExport(*s.db, ex, "Test site");
  REQUIRE(plan.ok());
  auto key = SigningKey::LoadOrCreate(s.dir.File("keys"));
  // Room for the header and the first segment's fragments, not for the second's.
  FaultInjectingFilesystem full(PosixFilesystem::Instance());
  full.FailWritesAfter(plan->ranges.front().segments.front().bytes + 4096);
  auto built = BuildPackage(*plan, s.dir.path(), s.dir.File("out"), *key, full, s.clock,
                            TimeZone::UkLocal(), BuildOptions{}, {}, {});
  REQUIRE(built.status().kind() == ErrorKind::kResourceExhausted);
  REQUIRE(built.status().message().find("(injected)") != std::string::npos);
}

TEST_CASE("the package's player lists its working copies and loads nothing from elsewhere") {
  Site s;
  const UtcMicros t = kT0 - kHour;
  AddSegment(*s.db, s.dir.path(), "door-1", t, 320, 240, 4);
  AddSegment(*s.db, s.dir.path(), "yard", t, 320, 240, 4);
  const int64_t ex = ApprovedExport(s, {{"door-1", t, t + 4 * kSecond}, {"yard", t, t + 4 * kSecond}});
  Built b = Build(s, ex);
  REQUIRE(b.result.ok());
  std::ifstream in(b.dir + "/player.html");
  const std::string page((std::istreambuf_iterator<char>(in)), {});
  const size_t open = page.find("<script type=\"application/json\" id=\"package\">");
  REQUIRE(open != std::string::npos);
  const size_t from = page.find('>', open) + 1;
  const auto data = nlohmann::json::parse(page.substr(from, page.find("</script>", from) - from));
  CHECK(data["export_id"] == ex);
  REQUIRE(data["files"].size() == 2);
  CHECK(data["files"][0]["camera_name"] == "Front door");
  CHECK(data["files"][0]["path"].get<std::string>().rfind("working/export-", 0) == 0);
  CHECK(data["files"][0]["from_ms"] == t.us / 1000);
  CHECK(data["files"][1]["camera_id"] == "yard");
  CHECK(data["manifest"] == "manifest.json");
  CHECK(data["redacted"] == false);
  // The manifest read back gives what a redacted package's player needs of each copy.
  std::ifstream manifest_in(b.dir + "/manifest.json");
  auto parsed = ParseManifest(std::string((std::istreambuf_iterator<char>(manifest_in)), {}));
  REQUIRE(parsed.ok());
  CHECK(parsed->site_name == "Test site");
  REQUIRE(parsed->ranges.size() == 2);
  CHECK(parsed->ranges[0].camera_name == "Front door");
  const ManifestFile& first = parsed->files[0];
  CHECK(first.kind == "video");
  CHECK(first.camera_id == "door-1");
  CHECK(first.from == std::optional<UtcMicros>(t));
  CHECK(first.to.has_value());
  CHECK(first.width == 320);
  CHECK(first.timed_text_track != 0);
  // No address outside the package: no scheme-qualified or protocol-relative URL at all.
  CHECK(page.find("http://") == std::string::npos);
  CHECK(page.find("https://") == std::string::npos);
  CHECK(page.find("src=\"//") == std::string::npos);
  // Listed and hashed like every other file.
  bool listed = false;
  for (const ManifestFile& f : b.result->manifest.files)
    listed = listed || (f.path == "player.html" && f.kind == "player" && f.sha256 == *Sha256File(b.dir + "/player.html"));
  CHECK(listed);
}
