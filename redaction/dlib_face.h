// dlib's HOG frontal face detector behind a small interface, so that dlib's heavy headers
// are compiled in one file only.
#pragma once

#include <memory>
#include <vector>

#include <opencv2/core.hpp>

namespace custodian::redaction {

class DlibFaceDetector {
 public:
  DlibFaceDetector();
  ~DlibFaceDetector();
  DlibFaceDetector(const DlibFaceDetector&) = delete;
  DlibFaceDetector& operator=(const DlibFaceDetector&) = delete;
  // Faces in an 8-bit grayscale image, in its pixels. dlib's window is 80x80: smaller faces
  // need the caller to upscale the image. Not thread-safe: one detector per thread.
  std::vector<cv::Rect> Detect(const cv::Mat& gray);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace custodian::redaction
