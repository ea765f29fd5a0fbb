// The burned-in working copy, built into a real package and read back with ffmpeg.
#include "exports/burned_copy.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "exports/testing.h"
#include "exports/verify.h"

using namespace custodian;
using namespace custodian::exports;
using namespace custodian::exports::testing;

namespace {

constexpr int64_t kSecond = kMicrosPerSecond;

// The first picture of a video as 8-bit grey, row by row.
std::string FirstPictureGrey(const std::string& path) {
  return RunOutput(std::string(CUSTODIAN_FFMPEG_CLI) + " -nostdin -v quiet -i '" + path +
                   "' -map 0:v:0 -frames:v 1 -f rawvideo -pix_fmt gray - 2>/dev/null");
}

// Mean absolute difference of two grey pictures over rows [y0, y1) and columns [x0, x1).
double MeanDifference(const std::string& a, const std::string& b, int width, int x0, int x1,
                      int y0, int y1) {
  double sum = 0;
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      const size_t i = static_cast<size_t>(y) * width + x;
      sum += std::abs(static_cast<int>(static_cast<uint8_t>(a[i])) -
                      static_cast<int>(static_cast<uint8_t>(b[i])));
    }
  }
  return sum / ((x1 - x0) * (y1 - y0));
}

}  // namespace

TEST_CASE("a burned-in working copy has the time in the picture and is listed as derived") {
  Site s;
  const UtcMicros t = kT0 - kHour;
  AddSegment(*s.db, s.dir.path(), "door-1", t, 320, 240, 10);
  AddSegment(*s.db, s.dir.path(), "door-1", t + 10 * kSecond, 320, 240, 10);
  const int64_t ex = ApprovedExport(s, {{"door-1", t, t + 20 * kSecond}}, /*originals=*/true);
  auto plan = PlanExport(*s.db, ex, "Test site");
  REQUIRE(plan.ok());
  plan->burned_in_copy = true;
  auto key = SigningKey::LoadOrCreate(s.dir.File("keys"));
  REQUIRE(key.ok());
  const std::string dir = s.dir.File("out");
  auto built = BuildPackage(*plan, s.dir.path(), dir, *key, PosixFilesystem::Instance(), s.clock,
                            TimeZone::UkLocal(), BuildOptions{}, {}, {});
  INFO(built.status().ToString());
  REQUIRE(built.ok());

  const ManifestFile* working = nullptr;
  const ManifestFile* burned = nullptr;
  int masters = 0;
  for (const ManifestFile& f : built->manifest.files) {
    if (f.kind == "video") working = &f;
    if (f.kind == "burned_in") burned = &f;
    if (f.kind == "original") ++masters;
  }
  REQUIRE(working != nullptr);
  REQUIRE(burned != nullptr);
  CHECK(masters == 2);  // the master stays, beside both copies
  CHECK(burned->derived_from == working->path);
  CHECK(burned->source_segments == working->source_segments);
  CHECK(burned->path == "working/export-" + std::to_string(ex) + "_door-1_" +
                            FormatUtcCompact(t) + "_burned-in.mp4");

  // Every frame is there, and it decodes.
  CHECK(ProbeVideo(dir + "/" + burned->path) == "320x240x500");
  CHECK(DecodesCleanly(dir + "/" + burned->path));

  // The caption sits in the bottom-left corner; the rest of the picture is the recorded one
  // (re-encoded, so close but not equal).
  const std::string original = FirstPictureGrey(dir + "/" + working->path);
  const std::string drawn = FirstPictureGrey(dir + "/" + burned->path);
  REQUIRE(original.size() == 320u * 240u);
  REQUIRE(drawn.size() == 320u * 240u);
  const double caption = MeanDifference(original, drawn, 320, 10, 150, 205, 235);
  const double elsewhere = MeanDifference(original, drawn, 320, 0, 320, 0, 150);
  INFO("caption " << caption << ", elsewhere " << elsewhere);
  CHECK(caption > 25);
  CHECK(elsewhere < 6);

  // The package verifies with the copy in it.
  auto v = VerifyPackage(dir, std::nullopt);
  REQUIRE(v.ok());
  INFO((v->problems.empty() ? "" : v->problems.front()));
  CHECK(v->ok);
}

TEST_CASE("a burned-in copy across the change to BST is made whole") {
  Site s;
  const UtcMicros start{1743296395LL * kSecond};  // 00:59:55 GMT on 30 March 2025
  AddSegment(*s.db, s.dir.path(), "door-1", start, 320, 240, 10);
  const int64_t ex = ApprovedExport(s, {{"door-1", start, start + 10 * kSecond}});
  auto plan = PlanExport(*s.db, ex, "Test site");
  REQUIRE(plan.ok());
  plan->burned_in_copy = true;
  auto key = SigningKey::LoadOrCreate(s.dir.File("keys"));
  REQUIRE(key.ok());
  const std::string dir = s.dir.File("out");
  auto built = BuildPackage(*plan, s.dir.path(), dir, *key, PosixFilesystem::Instance(), s.clock,
                            TimeZone::UkLocal(), BuildOptions{}, {}, {});
  INFO(built.status().ToString());
  REQUIRE(built.ok());
  const ManifestFile* burned = nullptr;
  for (const ManifestFile& f : built->manifest.files)
    if (f.kind == "burned_in") burned = &f;
  REQUIRE(burned != nullptr);
  CHECK(ProbeVideo(dir + "/" + burned->path) == "320x240x250");
  CHECK(DecodesCleanly(dir + "/" + burned->path));
  // The caption changes with the clock: the picture's caption box differs between the last
  // GMT second and the first BST second by more than a second's digit would.
  const std::string gmt = RunOutput(std::string(CUSTODIAN_FFMPEG_CLI) + " -nostdin -v quiet -ss 4.5 -i '" +
                                    dir + "/" + burned->path +
                                    "' -frames:v 1 -f rawvideo -pix_fmt gray - 2>/dev/null");
  const std::string bst = RunOutput(std::string(CUSTODIAN_FFMPEG_CLI) + " -nostdin -v quiet -ss 5.5 -i '" +
                                    dir + "/" + burned->path +
                                    "' -frames:v 1 -f rawvideo -pix_fmt gray - 2>/dev/null");
  REQUIRE(gmt.size() == 320u * 240u);
  REQUIRE(bst.size() == 320u * 240u);
  CHECK(MeanDifference(gmt, bst, 320, 10, 150, 205, 235) > 3);
}

TEST_CASE("a burned-in copy of a file that is not video fails with the reason") {
  TempDir dir;
  const std::string path = dir.File("not-video.mp4");
  { std::ofstream(path) << "not a video"; }
  Status st = WriteBurnedInCopy(path, {kT0, kT0 + kSecond, "Yard", 1}, TimeZone::UkLocal(),
                                [](const uint8_t*, size_t) { return Status::Ok(); }, {});
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("not-video.mp4") != std::string::npos);
}
