// Finding faces and people in a frame. The face network (BlazeFace, face_net.h) does most of
// the work, on tiles of the frame at a few scales so that faces from min_face_px up reach the
// size it finds; OpenCV's frontal Haar cascade is a second face detector around motion and
// tracked faces; background subtraction (MOG2) finds what moves, and moving figures of a
// person's shape are people (their heads are masked in faces mode).
//
// Cost decides the schedule (docs/design/redaction.md): frames whose finest level has at most
// max_tiles tiles are scanned whole at every detection; larger ones (HD) are scanned where
// something moves or a face is tracked, and elsewhere in turn. Detectors are loaded once and
// fail closed: a missing model or cascade is an error, never a silent pass with fewer
// detectors. A Detectors object is used by one thread.
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
  // A face's evidence: the network's score (0-1); 0 for the Haar cascade, which gives
  // none; 1 for what is not a face detection.
  float score = 1.0f;
};

// The default directory of opencv-data's cascades.
std::string DefaultCascadeDir();

// The people among a frame's moving things (motion blobs, frame pixels; the frame is
// `frame_height` tall): a figure taller than wide is a person; a blob of people walking
// together is nearly as tall as wide; a figure that background subtraction split (a head
// above its body) is joined again. Their heads are masked in faces mode (HeadOf).
std::vector<Box> PeopleIn(const std::vector<Box>& blobs, int frame_height);

class Detectors {
 public:
  // `params` must have been resolved for the frame rate (ResolveForFrameRate).
  static Result<std::unique_ptr<Detectors>> Load(const RedactionOptions& options,
                                                 const DetectionParams& params, int width,
                                                 int height);
  ~Detectors();

  // Detections in frame `index`: `luma` is its luma plane and `rgb` the frame in RGB, both
  // full size; `hints` are the boxes of live tracks (scanned first).
  std::vector<Detection> Detect(const cv::Mat& luma, const cv::Mat& rgb, int64_t index,
                                const std::vector<Detection>& hints);

  // Whether the last frame given to Detect changed as a whole from the one before (a cut).
  bool last_was_cut() const;

  // What ran and with which parameters, for the redaction record.
  nlohmann::json Describe() const;

 private:
  struct Impl;
  explicit Detectors(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custodian::redaction
