// Test and benchmark fixtures for redaction: the labelled face photographs in
// shared/testdata/faces, variants of them (half size, darkened, rotated), short videos made
// from images, and the measurement of how much of a labelled face a redacted video masks,
// read back from the decoded output's pixels.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "base/status.h"
#include "redaction/options.h"

namespace custodian::redaction::testing {

// The face photographs' directory: $CUSTODIAN_FACES_DIR, else <source>/../shared/testdata/
// faces, else /work/shared/testdata/faces; nullopt when none exists.
std::optional<std::string> FindFacesDir(const std::string& source_dir);

struct LabelledPhoto {
  std::string file;
  cv::Mat bgr;
  std::vector<std::vector<cv::Point2f>> faces;  // each a quadrilateral, image pixels
};

// Reads training.xml and the photos it names.
Result<std::vector<LabelledPhoto>> LoadLabelledPhotos(const std::string& dir);

enum class Variant { kOriginal, kHalfSize, kDark, kRotated15 };
const char* VariantName(Variant v);
LabelledPhoto MakeVariant(const LabelledPhoto& photo, Variant v);

// The photo scaled by `scale` in the middle of a plain frame of `canvas` size, its labels
// moved with it: the same faces as an HD camera's frame shows them.
LabelledPhoto OnCanvas(const LabelledPhoto& photo, cv::Size canvas, double scale);

// Encodes BGR frames as an H.264 MP4 at `fps` (with the pipeline's own writer).
Status WriteVideo(const std::string& path, const std::vector<cv::Mat>& frames, int fps);

// Decodes every frame of a video as BGR and as planar luma/chroma (Y, U, V at full size).
struct DecodedFrame {
  cv::Mat y, u, v;  // u and v upsampled to the luma size
};
Result<std::vector<DecodedFrame>> DecodeVideo(const std::string& path);

// Whether a decoded pixel is painted by the solid mask (black).
inline bool IsMaskPixel(int y, int u, int v) {
  return y <= 30 && std::abs(u - 128) <= 10 && std::abs(v - 128) <= 10;
}

// Fraction of the polygon's pixels (inside the frame) that are masked in `out`; pixels that
// were already mask-black in the input (`in_y` etc. from the same frame) count as masked.
double MaskedFraction(const DecodedFrame& out, const DecodedFrame* in,
                      const std::vector<cv::Point2f>& polygon);

// Runs the real pipeline (mode faces, solid) on a short video of each photo and returns,
// per labelled face, the lowest masked fraction over the output's frames.
struct FaceCoverage {
  std::string photo;
  int face = 0;
  double min_fraction = 0;
};
Result<std::vector<FaceCoverage>> MeasureFaceCoverage(const std::vector<LabelledPhoto>& photos,
                                                      const std::string& work_dir,
                                                      const RedactionOptions& options,
                                                      int frames = 10);

}  // namespace custodian::redaction::testing
