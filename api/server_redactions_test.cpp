// Redaction of a DSAR export over HTTP: the real server, serve's own worker running the real
// redaction pipeline on the exported footage, the contact sheet behind a purpose, the
// sign-off recorded once, the handover refused before it and accepted after, and the
// downloaded package holding the redacted files (one frame decoded with the ffmpeg CLI: the
// manual region is black) under a redaction manifest that minisign verifies.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/testing/api_fixture.h"
#include "api/testing/serve_worker.h"
#include "api/testing/shell.h"
#include "base/filesystem.h"
#include "base/sha256.h"
#include "base/zoneinfo.h"
#include "exports/timed_text.h"

namespace custodian::api::testing {
namespace {

using records::AccessResult;
using records::Role;
using json = nlohmann::json;
namespace fs = std::filesystem;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The manual region, in pixels of the 320x240 test clip.
constexpr int kX = 40, kY = 30, kW = 120, kH = 90;

class DsarFlow {
 public:
  DsarFlow() {
    f.AddUser("ann", Role::kManager, {"door-1"});
    f.AddUser("ben", Role::kManager, {"door-1"});
    f.AddUser("sam", Role::kStaff, {"door-1"});
    f.AddUser("dee", Role::kDpo, {});  // the DPO, without the camera permission
    for (int i = 0; i < 2; ++i) f.AddSegment("door-1", kFootageT0 + i * 4 * kSecond);
    ann = f.Login("ann");
    ben = f.Login("ben");
    sam = f.Login("sam");
    dee = f.Login("dee");
  }
  ~DsarFlow() { StopWorker(); }

  void StartWorker() { worker_.Start(); }
  void StopWorker() { worker_.Stop(); }

  // A DSAR logged by ann, verified, approved by ben and exported; returns the export path.
  std::string ReadyDsarExport(std::string* request_path) {
    *request_path = ApprovedDsar(f, ann, ben, kFootageT0 + kSecond, kFootageT0 + 6 * kSecond);
    auto queued = f.Call("POST", *request_path + "/exports", ben, "{}");
    INFO(queued.body);
    REQUIRE(queued.status == 202);
    const std::string path =
        "/api/v1/exports/" + std::to_string(json::parse(queued.body)["export_id"].get<int64_t>());
    json e;
    for (int i = 0; i < 600; ++i) {
      e = json::parse(f.Get(path, ben).body);
      if (e["state"] != "building") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    INFO(e.dump());
    REQUIRE(e["state"] == "ready");
    return path;
  }

  json WaitForRedaction(const std::string& path) {
    json r;
    for (int i = 0; i < 3000; ++i) {
      auto got = f.Get(path, ben);
      REQUIRE(got.status == 200);
      r = json::parse(got.body);
      if (r["state"] != "queued" && r["state"] != "running") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return r;
  }

  ApiServerFixture f;
  SignedIn ann, ben, sam, dee;

 private:
  ServeWorker worker_{f};
};

TEST_CASE("api DSAR export redacted by serve's worker, reviewed, signed off, handed over") {
  DsarFlow t;
  ApiServerFixture& f = t.f;
  t.StartWorker();
  std::string request_path;
  const std::string export_path = t.ReadyDsarExport(&request_path);
  const int64_t export_id = std::stoll(export_path.substr(export_path.rfind('/') + 1));
  // The export names its video files' camera, start and frame size (the UI draws on the
  // first frame, fetched as a thumbnail at that start).
  {
    const json ex = json::parse(f.Get(export_path, t.ben).body);
    json video;
    for (const json& file : ex["files"]) {
      if (file["kind"] == "video" && video.is_null()) video = file;
    }
    INFO(ex.dump());
    REQUIRE(video.is_object());
    CHECK(video["width"] == 320);
    CHECK(video["height"] == 240);
    CHECK(video["camera"] == "door-1");
    UtcMicros from;
    REQUIRE(ParseUtc(video["from"].get<std::string>(), &from));
    auto thumb = f.Get("/api/v1/cameras/door-1/thumbnail.jpg?at=" + At(from + kSecond) + "&" +
                           PurposeParams(),
                       t.ben);
    INFO(video["from"]);
    CHECK(thumb.status == 200);
  }
  const json handover = {{"export_id", export_id},
                         {"recipient_name", "A. Subject"},
                         {"method", "download"}};

  // 1. Unredacted and unjustified: the handover is refused.
  auto refused = f.Call("POST", "/api/v1/disclosures", t.ben, handover.dump());
  INFO(refused.body);
  CHECK(refused.status == 409);
  CHECK(Contains(refused.body, "not redacted"));

  // 2. Bad requests: wrong role, bad options, no such export; nothing is queued.
  const json body = {{"mode", "faces"},
                     {"style", "solid"},
                     {"manual", {{{"x", kX}, {"y", kY}, {"w", kW}, {"h", kH},
                                  {"from", 0}, {"to", 3600}}}}};
  CHECK(f.Call("POST", export_path + "/redactions", t.sam, body.dump()).status == 403);
  json bad = body;
  bad["mode"] = "everything";
  auto bad_mode = f.Call("POST", export_path + "/redactions", t.ben, bad.dump());
  CHECK(bad_mode.status == 400);
  CHECK(Contains(bad_mode.body, "mode"));
  bad = body;
  bad["manual"][0]["w"] = -5;
  CHECK(f.Call("POST", export_path + "/redactions", t.ben, bad.dump()).status == 400);
  bad = body;
  bad["manual"][0]["to"] = 0;
  CHECK(f.Call("POST", export_path + "/redactions", t.ben, bad.dump()).status == 400);
  CHECK(f.Call("POST", "/api/v1/exports/999/redactions", t.ben, body.dump()).status == 404);
  REQUIRE(f.db().ListRedactionsForExport(export_id)->empty());

  // 3. Queued while the worker is down; a "dead process" claims the job and leaves a partial
  // directory; the next start requeues it and redoes it from scratch.
  t.StopWorker();
  auto queued = f.Call("POST", export_path + "/redactions", t.ben, body.dump());
  INFO(queued.body);
  REQUIRE(queued.status == 202);
  CHECK(f.LastAccess().action == "redaction_start");
  const int64_t redaction_id = json::parse(queued.body)["redaction_id"].get<int64_t>();
  const std::string path = "/api/v1/redactions/" + std::to_string(redaction_id);
  CHECK(queued.Header("location") == path);
  auto claimed = f.db().ClaimNextJob({"redaction"}, "dead-process");
  REQUIRE(claimed.ok());
  REQUIRE(*claimed);
  const std::string container = f.data_dir() + "/exports/" + std::to_string(export_id);
  const std::string package_name =
      "export-" + std::to_string(export_id) + "-redaction-" + std::to_string(redaction_id);
  fs::create_directories(container + "/" + package_name + ".partial/redacted");
  std::ofstream(container + "/" + package_name + ".partial/redacted/junk") << "half done";
  CHECK(json::parse(f.Get(path, t.ben).body)["state"] == "running");

  const auto started = std::chrono::steady_clock::now();
  t.StartWorker();
  json r = t.WaitForRedaction(path);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  INFO(r.dump());
  REQUIRE(r["state"] == "done");
  WARN("redaction job of " << r["record"]["files"].size() << " file(s) took " << seconds << " s");
  CHECK(r["progress"] == 100);
  CHECK(r["job"]["attempts"] == 2);
  CHECK(r["export_id"] == export_id);
  CHECK(r["output_sha256"].get<std::string>().size() == 64);
  CHECK(r["signed_off"].is_null());
  CHECK(r["flagged"].is_array());
  REQUIRE(r["record"]["files"].size() >= 1);
  for (const json& file : r["record"]["files"]) {
    CHECK(file["frames"].get<int64_t>() > 0);
    CHECK(file["frames_masked"] == file["frames"]);  // the manual region is in every frame
    CHECK(file["output_sha256"] != file["input_sha256"]);
  }
  CHECK_FALSE(fs::exists(container + "/" + package_name + ".partial"));
  CHECK_FALSE(fs::exists(container + "/" + package_name + "/redacted/junk"));
  // The original package is untouched: its manifest still verifies (checked below by hash).
  CHECK(f.LastAccess().action == "redaction_view");

  // 4. The contact sheet reveals footage: a purpose is required, and the camera permission
  // even for the DPO; each attempt is logged.
  auto no_purpose = f.Get(path + "/contact.jpg", t.ben);
  CHECK(no_purpose.status == 400);
  CHECK(f.LastAccess().action == "redaction_contact_sheet");
  CHECK(f.LastAccess().result == AccessResult::kDenied);
  CHECK(f.Get(path + "/contact.jpg?" + PurposeParams(), t.dee).status == 403);
  CHECK(f.Get(path + "/contact.jpg?" + PurposeParams(), t.sam).status == 403);
  auto sheet = f.Get(path + "/contact.jpg?" + PurposeParams(), t.ben);
  REQUIRE(sheet.status == 200);
  CHECK(sheet.Header("content-type") == "image/jpeg");
  REQUIRE(sheet.body.size() > 100);
  CHECK(static_cast<unsigned char>(sheet.body[0]) == 0xFF);
  CHECK(static_cast<unsigned char>(sheet.body[1]) == 0xD8);
  auto e = f.LastAccess();
  CHECK(e.result == AccessResult::kOk);
  CHECK(e.user_name == "ben");
  CHECK(e.purpose_text == kPurposeText);
  CHECK(e.camera_id == "door-1");
  CHECK(f.Get(path + "/contact.jpg?file=99&" + PurposeParams(), t.ben).status == 404);

  // 5. Still refused before the sign-off; so is a removable-media copy, which would hold
  // the unredacted original.
  CHECK(f.Call("POST", "/api/v1/disclosures", t.ben, handover.dump()).status == 409);
  auto early_zip = f.Call("POST", export_path + "/encrypted-zip", t.ben, "{}");
  INFO(early_zip.body);
  CHECK(early_zip.status == 409);
  CHECK(Contains(early_zip.body, "subject access request"));

  // 6. Signed off once: staff cannot, the second attempt is refused and changes nothing.
  CHECK(f.Call("POST", path + "/sign-off", t.sam, json{{"note", "x"}}.dump()).status == 403);
  // A sign-off says what was checked: an empty or blank note is refused.
  auto blank = f.Call("POST", path + "/sign-off", t.ben, json{{"note", "  "}}.dump());
  CHECK(blank.status == 400);
  CHECK(Contains(blank.body, "note"));
  CHECK(f.Call("POST", path + "/sign-off", t.ben, "").status == 400);
  // Every flagged range confirmed as checked (whatever the pipeline flagged on the pattern).
  json checked = json::array();
  for (const json& range : r["flagged"]) checked.push_back(range["id"]);
  auto signed_off = f.Call("POST", path + "/sign-off", t.ben,
                           json{{"note", "checked all 16 frames"}, {"checked", checked}}.dump());
  INFO(signed_off.body);
  REQUIRE(signed_off.status == 200);
  CHECK(f.LastAccess().action == "redaction_sign_off");
  const json first = json::parse(f.Get(path, t.ann).body);
  CHECK(first["state"] == "signed_off");
  CHECK(first["signed_off"].is_string());
  CHECK(first["record"]["sign_off"]["note"] == "checked all 16 frames");
  auto again = f.Call("POST", path + "/sign-off", t.ann, json{{"note", "me too"}}.dump());
  CHECK(again.status == 409);
  const json second = json::parse(f.Get(path, t.ann).body);
  CHECK(second["reviewer_user_id"] == first["reviewer_user_id"]);
  CHECK(second["signed_off"] == first["signed_off"]);
  const json ex = json::parse(f.Get(export_path, t.ben).body);
  CHECK(ex["redacted"] == true);
  REQUIRE(ex["redactions"].size() == 1);
  CHECK(ex["redactions"][0]["id"] == redaction_id);
  CHECK(ex["redactions"][0]["signed_off"] == first["signed_off"]);

  // 6b. Once signed off, the removable-media copy holds the redacted package only.
  auto zip = f.Call("POST", export_path + "/encrypted-zip", t.ben, "{}");
  INFO(zip.body);
  REQUIRE(zip.status == 201);
  {
    const std::string password = json::parse(zip.body)["password"].get<std::string>();
    const std::string zip_path =
        f.data_dir() + "/exports/" + std::to_string(export_id) + "/export-" +
        std::to_string(export_id) + ".zip";
    const std::string listing = f.data_dir() + "/../zip-listing.txt";
    REQUIRE(std::system(("7z l -slt -p'" + password + "' '" + zip_path + "' > '" + listing +
                         "' 2>&1").c_str()) == 0);
    std::ifstream in(listing);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    CHECK(Contains(text, "-redaction-"));
    CHECK(Contains(text, "redaction-manifest.json"));
  }

  // 7. The handover is now accepted.
  auto handed = f.Call("POST", "/api/v1/disclosures", t.ben, handover.dump());
  INFO(handed.body);
  CHECK(handed.status == 201);

  // 8. The download is the redacted package: its signed manifest lists the redacted files;
  // the manual region of a decoded frame is black while the rest of the picture is not.
  auto got = f.Get(export_path + "/download?" + PurposeParams(), t.ben);
  REQUIRE(got.status == 200);
  CHECK(Contains(got.Header("content-disposition"), package_name + ".tar"));
  const std::string out = f.data_dir() + "/../received";
  fs::create_directories(out);
  std::ofstream(out + "/package.tar", std::ios::binary) << got.body;
  std::string said;
  REQUIRE(Run("tar -xf '" + out + "/package.tar' -C '" + out + "'", &said) == 0);
  const std::string package = out + "/" + package_name;
  REQUIRE(fs::exists(package + "/redaction-manifest.json"));
  CHECK_FALSE(fs::exists(package + "/manifest.json"));  // the originals do not go out
  const json manifest = json::parse(ReadFile(package + "/redaction-manifest.json"));
  CHECK(manifest["redaction_id"] == redaction_id);
  CHECK(manifest["reviewer"]["name"] == "ben");
  const std::string pubkey = json::parse(f.Get("/api/v1/signing-key", t.ben).body)["public_key"];
  INFO(said);
  CHECK(Run("cd '" + package + "' && " CUSTODIAN_MINISIGN_CLI
            " -Vm redaction-manifest.json -P " + pubkey,
            &said) == 0);
  std::string video;
  for (const json& file : manifest["files"]) {
    CHECK(file["sha256"].get<std::string>().size() == 64);
    if (file["kind"] == "redacted_video" && video.empty()) video = file["path"];
  }
  REQUIRE_FALSE(video.empty());
  // The recipient's player and README are in the package and listed in the signed manifest.
  for (const char* name : {"player.html", "README.txt", "SHA256SUMS"}) {
    INFO(name);
    REQUIRE(fs::exists(package + "/" + name));
    const auto listed = std::find_if(manifest["files"].begin(), manifest["files"].end(),
                                     [&](const json& f) { return f["path"] == name; });
    REQUIRE(listed != manifest["files"].end());
    CHECK((*listed)["sha256"] == *Sha256File(package + "/" + name));
  }
  const std::string player = ReadFile(package + "/player.html");
  CHECK(Contains(player, "\"manifest\":\"redaction-manifest.json\""));
  CHECK(Contains(player, "\"path\":\"" + video + "\""));
  CHECK(Contains(ReadFile(package + "/README.txt"), "subtitle track"));
  // Every redacted video carries the wall-clock subtitle track, and its first cue is the
  // working copy's start in UK local time, as the original's own track shows it.
  const json source_manifest =
      json::parse(ReadFile(container + "/export-" + std::to_string(export_id) + "/manifest.json"));
  int redacted_videos = 0;
  for (const json& file : manifest["files"]) {
    if (file["kind"] != "redacted_video") continue;
    ++redacted_videos;
    const std::string source = file["source"];
    INFO(source);
    CHECK(file.value("timed_text", json::object()).value("format", "") == "mov_text (MP4 tx3g)");
    json original;
    for (const json& f : source_manifest["files"]) {
      if (f["path"] == source) original = f;
    }
    REQUIRE(original.is_object());
    UtcMicros from;
    REQUIRE(ParseUtc(original["from_utc"].get<std::string>(), &from));
    std::string camera_name;
    for (const json& r : source_manifest["ranges"]) {
      if (r["camera_id"] == original["camera_id"]) camera_name = r["camera_name"];
    }
    const std::string mp4 = package + "/" + file["path"].get<std::string>();
    std::string streams;
    REQUIRE(
        Run("ffprobe -v error -show_entries stream=codec_type,codec_name -of csv=p=0 '" + mp4 + "'",
            &streams) == 0);
    CHECK(Contains(streams, "h264,video"));
    CHECK(Contains(streams, "mov_text,subtitle"));
    std::string srt;
    REQUIRE(
        Run(std::string(CUSTODIAN_FFMPEG_CLI) + " -v error -i '" + mp4 + "' -map 0:s:0 -f srt -",
            &srt) == 0);
    // "1\n00:00:00,000 --> 00:00:01,000\n<text>\n\n2\n..."
    const size_t arrow = srt.find(" --> ");
    REQUIRE(arrow != std::string::npos);
    CHECK(srt.substr(arrow - 12, 12) == "00:00:00,000");
    const size_t text_at = srt.find('\n', arrow) + 1;
    std::string first_cue = srt.substr(text_at, srt.find('\n', text_at) - text_at);
    // ffmpeg wraps the text in a font tag for the track's style.
    for (size_t lt; (lt = first_cue.find('<')) != std::string::npos;)
      first_cue.erase(lt, first_cue.find('>', lt) + 1 - lt);
    CHECK(first_cue == exports::WallClockCueText(from, camera_name, TimeZone::UkLocal()));
  }
  CHECK(redacted_videos >= 1);
  const std::string gray = out + "/frame.gray";
  REQUIRE(Run(std::string(CUSTODIAN_FFMPEG_CLI) + " -v error -y -i '" + package + "/" + video +
                  "' -frames:v 1 -f rawvideo -pix_fmt gray '" + gray + "'",
              &said) == 0);
  // The same frame of the original (still in the export's own package, unchanged).
  const std::string original = container + "/export-" + std::to_string(export_id) + "/" +
                               video.substr(std::string("redacted/").size());
  const std::string original_gray = out + "/original.gray";
  REQUIRE(Run(std::string(CUSTODIAN_FFMPEG_CLI) + " -v error -y -i '" + original +
                  "' -frames:v 1 -f rawvideo -pix_fmt gray '" + original_gray + "'",
              &said) == 0);
  auto region_max = [&](const std::string& pixels) {
    int m = 0;
    for (int y = kY + 4; y < kY + kH - 4; ++y)
      for (int x = kX + 4; x < kX + kW - 4; ++x)
        m = std::max<int>(m, static_cast<unsigned char>(pixels[y * 320 + x]));
    return m;
  };
  auto outside_mean = [&](const std::string& pixels) {
    double sum = 0;
    int n = 0;
    for (int y = 0; y < 240; ++y)
      for (int x = 200; x < 320; ++x, ++n) sum += static_cast<unsigned char>(pixels[y * 320 + x]);
    return sum / n;
  };
  const std::string pixels = ReadFile(gray);
  const std::string before = ReadFile(original_gray);
  REQUIRE(pixels.size() == 320u * 240u);
  REQUIRE(before.size() == 320u * 240u);
  WARN("manual region max luma: original " << region_max(before) << ", redacted "
                                           << region_max(pixels) << "; outside mean: original "
                                           << outside_mean(before) << ", redacted "
                                           << outside_mean(pixels));
  CHECK(region_max(before) > 40);  // there was picture there
  CHECK(region_max(pixels) <= 24);  // black (limited-range luma 16), allowing for coding noise
  CHECK(outside_mean(pixels) > 40);
  CHECK(std::abs(outside_mean(pixels) - outside_mean(before)) < 10);
}

// The review: both videos behind a purpose, each request logged with it before a byte goes
// out; the sign-off refused until every flagged range is confirmed; the reviewer's name and
// role in the record and the manifest.
TEST_CASE("api redaction review: videos logged with the purpose, every flagged range confirmed") {
  DsarFlow t;
  ApiServerFixture& f = t.f;
  t.StartWorker();
  std::string request_path;
  const std::string export_path = t.ReadyDsarExport(&request_path);
  auto queued = f.Call("POST", export_path + "/redactions", t.ben,
                       json{{"mode", "faces"},
                            {"manual", {{{"x", kX}, {"y", kY}, {"w", kW}, {"h", kH},
                                         {"from", 0}, {"to", 3600}}}}}
                           .dump());
  REQUIRE(queued.status == 202);
  const int64_t redaction_id = json::parse(queued.body)["redaction_id"].get<int64_t>();
  const std::string path = "/api/v1/redactions/" + std::to_string(redaction_id);
  {
    const json r = t.WaitForRedaction(path);
    INFO(r.dump());
    REQUIRE(r["state"] == "done");
  }
  t.StopWorker();
  // Whatever the pipeline flagged on the test pattern, the record is given two known ranges
  // (as the pipeline writes them), to be confirmed at the sign-off.
  {
    auto row = f.db().GetRedaction(redaction_id);
    REQUIRE(row.ok());
    json record = json::parse((*row)->record_json);
    record["files"][0]["flagged"] = {
        {{"from_frame", 10}, {"to_frame", 20}, {"from_s", 0.4}, {"to_s", 0.8},
         {"reason", "track lost"}},
        {{"from_frame", 50}, {"to_frame", 50}, {"from_s", 2.0}, {"to_s", 2.0},
         {"reason", "person with no face detection"}}};
    REQUIRE(f.db().UpdateRedactionRecord(redaction_id, (*row)->output_sha256, record.dump()).ok());
  }
  const json r = json::parse(f.Get(path, t.ben).body);
  REQUIRE(r["flagged"].size() == 2);
  CHECK(r["flagged"][0]["id"] == "0:10-20");
  CHECK(r["flagged"][1]["id"] == "0:50-50");
  CHECK(r["flagged"][1]["file_index"] == 0);
  CHECK(r["reviewer"].is_null());
  const std::string source = r["record"]["files"][0]["source"];

  // 1. The redacted video and its original: a purpose, and the camera permission even for
  // the DPO; every refusal logged, and each file's viewing.
  for (const std::string route : {"/video", "/original"}) {
    const std::string action = route == "/video" ? "redaction_video" : "redaction_original";
    INFO(route);
    CHECK(f.Get(path + route, t.ben).status == 400);
    CHECK(f.LastAccess().action == action);
    CHECK(f.LastAccess().result == AccessResult::kDenied);
    CHECK(f.Get(path + route + "?" + PurposeParams(), t.dee).status == 403);
    CHECK(f.LastAccess().result == AccessResult::kDenied);
    CHECK(f.Get(path + route + "?" + PurposeParams(), t.sam).status == 403);
    CHECK(f.Get(path + route + "?file=1&" + PurposeParams(), t.ben).status == 404);
    CHECK(f.LastAccess().action == action);
    CHECK(f.LastAccess().result == AccessResult::kError);
    CHECK(f.Get(path + route + "?file=x&" + PurposeParams(), t.ben).status == 400);

    const size_t before = f.AccessLog().size();
    auto whole = f.Get(path + route + "?" + PurposeParams(), t.ben);
    REQUIRE(whole.status == 200);
    CHECK(whole.Header("content-type") == "video/mp4");
    CHECK(whole.Header("accept-ranges") == "bytes");
    CHECK(whole.body.substr(4, 4) == "ftyp");
    auto part = f.Get(path + route + "?" + PurposeParams(), t.ben, {{"Range", "bytes=0-99"}});
    REQUIRE(part.status == 206);
    CHECK(part.body == whole.body.substr(0, 100));
    CHECK(part.Header("content-range") == "bytes 0-99/" + std::to_string(whole.body.size()));
    CHECK(f.Get(path + route + "?" + PurposeParams(), t.ben,
                {{"Range", "bytes=" + std::to_string(whole.body.size() + 10) + "-"}})
              .status == 416);
    // One viewing: the first request's start entry, which the range joins; the refused
    // range is logged as the failure it is.
    const auto log = f.AccessLog();
    REQUIRE(log.size() == before + 2);
    const records::AccessEntry& e = log[before];
    CHECK(e.action == action);
    CHECK(e.result == AccessResult::kOk);
    CHECK(e.user_name == "ben");
    CHECK(e.purpose_text == kPurposeText);
    CHECK(e.camera_id == "door-1");  // the file's own camera and span, from the manifest
    CHECK(e.from.has_value());
    CHECK(Contains(e.detail, "viewing started: "));
    CHECK(Contains(e.detail, source));
    CHECK(part.Header("x-access-entry") == std::to_string(e.id));
    CHECK(whole.Header("x-access-entry") == std::to_string(e.id));
    CHECK(log[before + 1].result == AccessResult::kError);
  }
  // The two are different files: the original is the export's own copy.
  const std::string redacted = f.Get(path + "/video?" + PurposeParams(), t.ben).body;
  const std::string original = f.Get(path + "/original?" + PurposeParams(), t.ben).body;
  CHECK(redacted != original);
  CHECK(original == ReadFile(f.data_dir() + "/exports/" + std::to_string(r["export_id"].get<int64_t>()) +
                             "/export-" + std::to_string(r["export_id"].get<int64_t>()) + "/" + source));

  // 2. The sign-off confirms every flagged range: one left out, or one that is not flagged,
  // is refused with the reason, and nothing is signed.
  const std::string note = "played both ranges beside the original";
  auto none = f.Call("POST", path + "/sign-off", t.ann, json{{"note", note}}.dump());
  INFO(none.body);
  CHECK(none.status == 400);
  CHECK(Contains(none.body, "every flagged range"));
  CHECK(Contains(none.body, "2 of 2"));
  auto one = f.Call("POST", path + "/sign-off", t.ann,
                    json{{"note", note}, {"checked", {"0:10-20"}}}.dump());
  CHECK(one.status == 400);
  CHECK(Contains(one.body, "1 of 2 not confirmed (0:50-50)"));
  auto stale = f.Call("POST", path + "/sign-off", t.ann,
                      json{{"note", note}, {"checked", {"0:10-20", "0:50-50", "0:70-80"}}}.dump());
  CHECK(stale.status == 400);
  CHECK(Contains(stale.body, "0:70-80"));
  CHECK(f.Call("POST", path + "/sign-off", t.ann, json{{"note", note}, {"checked", "0:10-20"}}.dump())
            .status == 400);
  auto blank = f.Call("POST", path + "/sign-off", t.ann,
                      json{{"note", " "}, {"checked", {"0:10-20", "0:50-50"}}}.dump());
  CHECK(blank.status == 400);
  CHECK(Contains(blank.body, "note"));
  CHECK_FALSE((*f.db().GetRedaction(redaction_id))->signed_off);
  CHECK(json::parse(f.Get(path, t.ann).body)["state"] == "done");

  auto signed_off = f.Call("POST", path + "/sign-off", t.ann,
                           json{{"note", note}, {"checked", {"0:50-50", "0:10-20"}}}.dump());
  INFO(signed_off.body);
  REQUIRE(signed_off.status == 200);
  CHECK(json::parse(signed_off.body)["reviewer"]["name"] == "ann");

  // 3. The record and the manifest name the reviewer and role, and what was checked.
  const json done = json::parse(f.Get(path, t.ben).body);
  CHECK(done["state"] == "signed_off");
  CHECK(done["reviewer"]["name"] == "ann");
  CHECK(done["reviewer"]["role"] == "manager");
  CHECK(done["record"]["sign_off"]["note"] == note);
  REQUIRE(done["record"]["sign_off"]["flagged_ranges_checked"].size() == 2);
  CHECK(done["record"]["sign_off"]["flagged_ranges_checked"][0]["id"] == "0:10-20");
  CHECK(done["record"]["sign_off"]["flagged_ranges_checked"][0]["reason"] == "track lost");
  const int64_t export_id = done["export_id"].get<int64_t>();
  const json manifest = json::parse(
      ReadFile(f.data_dir() + "/exports/" + std::to_string(export_id) + "/export-" +
               std::to_string(export_id) + "-redaction-" + std::to_string(redaction_id) +
               "/redaction-manifest.json"));
  CHECK(manifest["reviewer"]["name"] == "ann");
  CHECK(manifest["reviewer"]["role"] == "manager");
  CHECK(manifest["flagged_ranges_checked"].size() == 2);
  // Signed off, the videos can still be reviewed.
  CHECK(f.Get(path + "/video?" + PurposeParams(), t.ben, {{"Range", "bytes=0-9"}}).status == 206);
}

TEST_CASE("api redaction routes refuse what is not ready or not theirs") {
  DsarFlow t;
  ApiServerFixture& f = t.f;
  CHECK(f.Get("/api/v1/redactions/999", t.ben).status == 404);
  CHECK(f.Get("/api/v1/redactions/0", t.ben).status == 400);
  CHECK(f.Call("POST", "/api/v1/redactions/999/sign-off", t.ben, "{}").status == 404);
  // An export still building cannot be redacted; a redaction not done cannot be signed off.
  t.StartWorker();
  std::string request_path;
  const std::string export_path = t.ReadyDsarExport(&request_path);
  t.StopWorker();
  auto queued = f.Call("POST", export_path + "/redactions", t.ben,
                       json{{"mode", "keep-region"}, {"region", {{"x", 0}, {"y", 0}, {"w", 100}, {"h", 100}}}}
                           .dump());
  REQUIRE(queued.status == 202);
  const std::string path =
      "/api/v1/redactions/" + std::to_string(json::parse(queued.body)["redaction_id"].get<int64_t>());
  CHECK(json::parse(f.Get(path, t.ben).body)["state"] == "queued");
  auto early = f.Call("POST", path + "/sign-off", t.ben, "{}");
  CHECK(early.status == 409);
  CHECK(Contains(early.body, "finished"));
  CHECK(f.Get(path + "/contact.jpg?" + PurposeParams(), t.ben).status == 404);
  // keep-subject without a subject is refused with the reason.
  auto no_subject =
      f.Call("POST", export_path + "/redactions", t.ben, json{{"mode", "keep-subject"}}.dump());
  CHECK(no_subject.status == 400);
}

}  // namespace
}  // namespace custodian::api::testing
