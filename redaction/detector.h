// Finding faces and people in a frame with what Debian 12 ships: OpenCV 4.6's Haar cascades
// (frontal, and profile in both orientations by flipping the image), dlib 19.24's HOG frontal
// face detector, OpenCV's HOG people detector, and background subtraction (MOG2) for motion.
//
// Cost decides the design (docs/design/redaction.md): a full scan of the whole frame runs
// now and then; between full scans the face detectors look only where something moves or
// where a track is, on crops scaled so that the smallest face sought is large enough for the
// cascades. Detectors are loaded once and fail closed: a missing cascade is an error, never a
// silent pass with fewer detectors. A Detectors object is used by one thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <opencv2/core.hpp>

#include "base/status.h"
#include "redaction/options.h"

namespace custodian::redaction {

enum class DetectionKind { kFace, kPerson, kMotion };

struct Detection {
  Box box;  // frame pixels
  DetectionKind kind;
};

// The default directory of opencv-data's cascades.
std::string DefaultCascadeDir();

class Detectors {
 public:
  static Result<std::unique_ptr<Detectors>> Load(const RedactionOptions& options, int width,
                                                 int height);
  ~Detectors();

  // Detections in frame `index` (luma plane, full size), around motion and around `hints`
  // (boxes of live tracks). `full_scan`: on frames up to 0.5 MP the whole frame is scanned;
  // on larger frames a coarse whole-frame scan and the people detector run, while the
  // thorough scans follow what changed (DetectionParams::change_threshold).
  std::vector<Detection> Detect(const cv::Mat& luma, int64_t index, bool full_scan,
                                const std::vector<Detection>& hints);

  // What ran and with which parameters, for the redaction record.
  nlohmann::json Describe() const;

 private:
  struct Impl;
  explicit Detectors(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custodian::redaction
