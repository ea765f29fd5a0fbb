// Face coverage on the labelled photographs (shared/testdata/faces): every labelled face
// must be at least 90% masked in every frame of the redacted output, read back from the
// decoded pixels, for the photos as they are, at half size, darkened and rotated 15 degrees.
#include <catch2/catch.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <optional>

#include "base/testing/temp_dir.h"
#include "redaction/redactor.h"
#include "redaction/testing/face_fixture.h"

namespace custodian::redaction {
namespace {

using testing::Variant;

void CheckVariant(Variant v) {
  auto dir = testing::FindFacesDir(CUSTODIAN_SOURCE_DIR);
  if (!dir) {
    WARN("SKIPPED: labelled face photos not found (set CUSTODIAN_FACES_DIR or provide "
         "../shared/testdata/faces beside the source tree)");
    return;
  }
  auto photos = testing::LoadLabelledPhotos(*dir);
  REQUIRE(photos.ok());
  std::vector<testing::LabelledPhoto> variants;
  size_t faces = 0;
  for (const auto& p : *photos) {
    variants.push_back(testing::MakeVariant(p, v));
    faces += p.faces.size();
  }
  REQUIRE(faces == 18);
  custodian::testing::TempDir tmp("redact-faces");
  RedactionOptions o;
  auto cov = testing::MeasureFaceCoverage(variants, tmp.path(), o);
  REQUIRE(cov.ok());
  REQUIRE(cov->size() == faces);
  int covered = 0;
  for (const auto& c : *cov) {
    INFO(testing::VariantName(v) << ": " << c.photo << " face " << c.face << " masked "
                                 << c.min_fraction);
    CHECK(c.min_fraction >= 0.9);
    if (c.min_fraction >= 0.9) ++covered;
  }
  std::printf("%s: %d/%zu labelled faces at least 90%% masked in every frame\n",
              testing::VariantName(v), covered, faces);
}

TEST_CASE("every labelled face in the photos is masked") { CheckVariant(Variant::kOriginal); }
TEST_CASE("every labelled face is masked in the photos at half size") {
  CheckVariant(Variant::kHalfSize);
}
TEST_CASE("every labelled face is masked in the darkened photos") { CheckVariant(Variant::kDark); }
TEST_CASE("every labelled face is masked in the photos rotated 15 degrees") {
  CheckVariant(Variant::kRotated15);
}

std::optional<std::vector<testing::LabelledPhoto>> Photos() {
  auto dir = testing::FindFacesDir(CUSTODIAN_SOURCE_DIR);
  if (!dir) {
    WARN("SKIPPED: labelled face photos not found");
    return std::nullopt;
  }
  auto photos = testing::LoadLabelledPhotos(*dir);
  REQUIRE(photos.ok());
  return std::move(photos).value();
}

// The input and the redacted output, decoded; the output has all `frames` frames.
std::pair<std::vector<testing::DecodedFrame>, std::vector<testing::DecodedFrame>> DecodeBoth(
    const std::string& in, const std::string& out, int frames) {
  auto din = testing::DecodeVideo(in);
  auto dout = testing::DecodeVideo(out);
  REQUIRE(din.ok());
  REQUIRE(dout.ok());
  REQUIRE(dout->size() == static_cast<size_t>(frames));
  return {std::move(din).value(), std::move(dout).value()};
}

// HD frames (over 0.5 MP) take the other detection path: a thorough scan of the whole frame
// at the start, then only where the picture changes (docs/design/redaction.md).
TEST_CASE("every labelled face is masked in the photos placed in a 1080p frame") {
  auto photos = Photos();
  if (!photos) return;
  std::vector<testing::LabelledPhoto> hd;
  for (const auto& p : *photos) hd.push_back(testing::OnCanvas(p, {1920, 1080}, 1.0));
  custodian::testing::TempDir tmp("redact-faces-hd");
  auto cov = testing::MeasureFaceCoverage(hd, tmp.path(), RedactionOptions{});
  REQUIRE(cov.ok());
  REQUIRE(cov->size() == 18);
  for (const auto& c : *cov) {
    INFO(c.photo << " face " << c.face << " masked " << c.min_fraction);
    CHECK(c.min_fraction >= 0.9);
  }
}

// Faces that arrive in a still HD scene after the first frame and stay: found by the crops
// around the motion they make or, once still, by the thorough scan of what changed. Every
// face must be masked in every frame from the time the scene has settled on, and the frame
// from which each is masked is printed.
TEST_CASE("faces arriving in a still 1080p scene are masked once they stay") {
  auto photos = Photos();
  if (!photos) return;
  constexpr int kArrive = 20, kFrames = 80, kSettled = 30;
  custodian::testing::TempDir tmp("redact-faces-arrive");
  for (size_t k : {size_t{0}, size_t{1}}) {  // the two group photos: 13 faces of 37-53 px
    testing::LabelledPhoto hd = testing::OnCanvas((*photos)[k], {1920, 1080}, 1.0);
    cv::Mat empty(hd.bgr.size(), hd.bgr.type(), cv::Scalar(96, 104, 112));
    std::vector<cv::Mat> frames;
    for (int i = 0; i < kFrames; ++i) frames.push_back(i < kArrive ? empty : hd.bgr);
    std::string in = tmp.path() + "/arrive" + std::to_string(k) + ".mp4";
    std::string out = tmp.path() + "/arrive" + std::to_string(k) + ".redacted.mp4";
    REQUIRE(testing::WriteVideo(in, frames, 25).ok());
    REQUIRE(RedactVideo(in, out, RedactionOptions{}).ok());
    auto [din, dout] = DecodeBoth(in, out, kFrames);
    for (size_t f = 0; f < hd.faces.size(); ++f) {
      int masked_from = kFrames;
      for (int i = kFrames - 1; i >= kArrive; --i) {
        if (testing::MaskedFraction(dout[i], &din[i], hd.faces[f]) < 0.9) break;
        masked_from = i;
      }
      std::printf("%s face %zu: masked from frame %d (arrives at %d)\n", hd.file.c_str(), f,
                  masked_from, kArrive);
      INFO(hd.file << " face " << f << " masked from frame " << masked_from);
      CHECK(masked_from <= kSettled);
    }
  }
}

// A still scene asks the second look about the same box once per sweep (2 s), not at every
// detection: its answer stands while nothing moves over the box; and a tile where the network
// found nothing is not scanned again while nothing moves there. Every face stays masked.
TEST_CASE("a still scene reuses second looks and empty tiles and every face stays masked") {
  auto photos = Photos();
  if (!photos) return;
  constexpr int kFrames = 100;  // 4 s at 25 fps: 20 detections, two sweeps
  custodian::testing::TempDir tmp("redact-faces-still");
  // The second group photo (faces of 37-53 px): some of its faces score under the second
  // look's bar at every detection.
  testing::LabelledPhoto hd = testing::OnCanvas((*photos)[1], {1920, 1080}, 1.0);
  std::vector<cv::Mat> frames(kFrames, hd.bgr);
  std::string in = tmp.path() + "/still.mp4", out = tmp.path() + "/still.redacted.mp4";
  REQUIRE(testing::WriteVideo(in, frames, 25).ok());
  auto rec = RedactVideo(in, out, RedactionOptions{});
  REQUIRE(rec.ok());
  const nlohmann::json& look = rec->json["detectors"][0]["second_look"];
  int64_t looks = look["looks"], reused = look["reused_while_still"];
  std::printf("still scene: %lld second looks, %lld answers reused\n",
              static_cast<long long>(looks), static_cast<long long>(reused));
  REQUIRE(looks > 0);
  CHECK(reused > looks);
  int64_t tiles = rec->json["detectors"][0]["tiles_scanned"];
  int64_t empty = rec->json["detectors"][0]["still_tiles_reused"]["count"];
  std::printf("still scene: %lld tiles scanned, %lld empty tiles not scanned again\n",
              static_cast<long long>(tiles), static_cast<long long>(empty));
  CHECK(empty > 0);
  auto [din, dout] = DecodeBoth(in, out, kFrames);
  for (size_t f = 0; f < hd.faces.size(); ++f) {
    for (int i = 0; i < kFrames; ++i) {
      INFO("face " << f << " frame " << i);
      REQUIRE(testing::MaskedFraction(dout[i], &din[i], hd.faces[f]) >= 0.9);
    }
  }
}

}  // namespace
}  // namespace custodian::redaction
