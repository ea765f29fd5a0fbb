#include "redaction/contact_sheet.h"

#include <cstdio>
#include <cstring>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace custodian::redaction {
namespace {
constexpr int kThumbWidth = 320;
constexpr int kColumns = 4;
}  // namespace

ContactSheet::ContactSheet(int count, int64_t total_frames) : count_(count), total_(total_frames) {}

bool ContactSheet::Wants(int64_t index) const {
  if (count_ <= 0 || static_cast<int>(thumbs_.size()) >= count_) return false;
  if (total_ <= 0) return index % 50 == 0;
  if (count_ == 1) return index == 0;
  for (int i = 0; i < count_; ++i) {
    if (index == i * (total_ - 1) / (count_ - 1)) return true;
  }
  return false;
}

void ContactSheet::Add(int64_t index, double seconds, const AVFrame* f,
                       const std::vector<Box>& masks, const std::vector<Box>& kept) {
  int w = f->width & ~1, h = f->height & ~1;
  cv::Mat i420(h * 3 / 2, w, CV_8UC1);
  for (int y = 0; y < h; ++y) std::memcpy(i420.ptr(y), f->data[0] + y * f->linesize[0], w);
  uint8_t* u = i420.ptr(h);
  uint8_t* v = u + (w / 2) * (h / 2);
  for (int y = 0; y < h / 2; ++y) {
    std::memcpy(u + y * (w / 2), f->data[1] + y * f->linesize[1], w / 2);
    std::memcpy(v + y * (w / 2), f->data[2] + y * f->linesize[2], w / 2);
  }
  cv::Mat bgr, thumb;
  cv::cvtColor(i420, bgr, cv::COLOR_YUV2BGR_I420);
  double s = static_cast<double>(kThumbWidth) / w;
  cv::resize(bgr, thumb, cv::Size(), s, s, cv::INTER_AREA);
  auto draw = [&](const Box& b, const cv::Scalar& c) {
    cv::rectangle(thumb, cv::Rect(int(b.x * s), int(b.y * s), int(b.w * s) + 1, int(b.h * s) + 1), c, 1);
  };
  for (const Box& b : masks) draw(b, {0, 0, 255});
  for (const Box& b : kept) draw(b, {0, 255, 0});
  char label[64];
  std::snprintf(label, sizeof label, "frame %lld  %.2f s", static_cast<long long>(index), seconds);
  cv::putText(thumb, label, {4, 14}, cv::FONT_HERSHEY_SIMPLEX, 0.4, {0, 0, 0}, 3);
  cv::putText(thumb, label, {4, 14}, cv::FONT_HERSHEY_SIMPLEX, 0.4, {255, 255, 255}, 1);
  thumbs_[index] = thumb;
}

void ContactSheet::MarkFlagged(int64_t index) {
  auto it = thumbs_.find(index);
  if (it != thumbs_.end()) {
    cv::rectangle(it->second, cv::Rect(0, 0, it->second.cols, it->second.rows), {0, 255, 255}, 3);
  }
}

void ContactSheet::LabelFlagged(int64_t index, const std::string& label) {
  auto it = thumbs_.find(index);
  if (it == thumbs_.end()) return;
  cv::Mat& t = it->second;
  const cv::Point at{6, t.rows - 8};
  cv::rectangle(t, cv::Rect(3, t.rows - 22, t.cols - 6, 19), {0, 0, 0}, cv::FILLED);
  cv::putText(t, label, at, cv::FONT_HERSHEY_SIMPLEX, 0.45, {0, 255, 255}, 1);
}

Status ContactSheet::Write(const std::string& path) const {
  if (thumbs_.empty()) return Status::Ok();
  int th = thumbs_.begin()->second.rows;
  int rows = (static_cast<int>(thumbs_.size()) + kColumns - 1) / kColumns;
  cv::Mat sheet(rows * th, kColumns * kThumbWidth, CV_8UC3, cv::Scalar(40, 40, 40));
  int i = 0;
  for (const auto& [index, t] : thumbs_) {
    cv::Rect cell((i % kColumns) * kThumbWidth, (i / kColumns) * th, t.cols, std::min(t.rows, th));
    t(cv::Rect(0, 0, cell.width, cell.height)).copyTo(sheet(cell));
    ++i;
  }
  try {
    if (!cv::imwrite(path, sheet, {cv::IMWRITE_JPEG_QUALITY, 85})) {
      return IoError("cannot write the contact sheet " + path);
    }
  } catch (const cv::Exception& e) {
    return IoError("cannot write the contact sheet " + path + ": " + e.what());
  }
  return Status::Ok();
}

}  // namespace custodian::redaction
