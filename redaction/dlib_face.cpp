#include "redaction/dlib_face.h"

#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>

namespace custodian::redaction {

struct DlibFaceDetector::Impl {
  dlib::frontal_face_detector detector = dlib::get_frontal_face_detector();
  dlib::array2d<unsigned char> image;
};

DlibFaceDetector::DlibFaceDetector() : impl_(std::make_unique<Impl>()) {}
DlibFaceDetector::~DlibFaceDetector() = default;

std::vector<cv::Rect> DlibFaceDetector::Detect(const cv::Mat& gray) {
  CV_Assert(gray.type() == CV_8UC1);
  impl_->image.set_size(gray.rows, gray.cols);
  for (int y = 0; y < gray.rows; ++y) {
    const unsigned char* row = gray.ptr<unsigned char>(y);
    std::copy(row, row + gray.cols, &impl_->image[y][0]);
  }
  std::vector<cv::Rect> out;
  for (const dlib::rectangle& r : impl_->detector(impl_->image)) {
    out.emplace_back(static_cast<int>(r.left()), static_cast<int>(r.top()),
                     static_cast<int>(r.width()), static_cast<int>(r.height()));
  }
  return out;
}

}  // namespace custodian::redaction
