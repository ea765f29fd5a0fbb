#include "redaction/mask.h"

#include <algorithm>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace custodian::redaction {
namespace {

cv::Mat Plane(AVFrame* f, int i) {
  int w = i == 0 ? f->width : (f->width + 1) / 2;
  int h = i == 0 ? f->height : (f->height + 1) / 2;
  return cv::Mat(h, w, CV_8UC1, f->data[i], static_cast<size_t>(f->linesize[i]));
}

void Pixelate(cv::Mat roi, int block) {
  for (int y = 0; y < roi.rows; y += block) {
    for (int x = 0; x < roi.cols; x += block) {
      cv::Mat cell = roi(cv::Rect(x, y, std::min(block, roi.cols - x), std::min(block, roi.rows - y)));
      cell.setTo(cv::mean(cell));
    }
  }
}

void MaskPlane(cv::Mat roi, int block, MaskStyle style, uint8_t fill) {
  switch (style) {
    case MaskStyle::kSolid:
      roi.setTo(fill);
      return;
    case MaskStyle::kPixelate:
      Pixelate(roi, block);
      return;
    case MaskStyle::kBlur: {
      Pixelate(roi, block);
      int k = std::max(3, block | 1);
      cv::Mat copy = roi.clone();
      cv::blur(copy, roi, cv::Size(k, k), cv::Point(-1, -1), cv::BORDER_REPLICATE);
      return;
    }
  }
}

}  // namespace

int PixelBlock(const Box& box) {
  int longer = std::max(box.w, box.h);
  return std::max(16, (longer + 3) / 4) & ~1;
}

void MaskBox(AVFrame* frame, const Box& box, MaskStyle style) {
  Box b = ClipTo(box, frame->width, frame->height);
  if (b.empty()) return;
  // Even coordinates so the chroma planes cover exactly the same area.
  int x0 = b.x & ~1, y0 = b.y & ~1;
  int x1 = std::min(frame->width, (b.right() + 1) & ~1);
  int y1 = std::min(frame->height, (b.bottom() + 1) & ~1);
  if (x1 <= x0 || y1 <= y0) return;
  int block = PixelBlock(b);
  MaskPlane(Plane(frame, 0)(cv::Rect(x0, y0, x1 - x0, y1 - y0)), block, style, 16);
  cv::Rect c(x0 / 2, y0 / 2, std::max(1, (x1 - x0 + 1) / 2), std::max(1, (y1 - y0 + 1) / 2));
  for (int i = 1; i <= 2; ++i) {
    cv::Mat p = Plane(frame, i);
    c &= cv::Rect(0, 0, p.cols, p.rows);
    MaskPlane(p(c), std::max(2, block / 2), style, 128);
  }
}

void MaskOutside(AVFrame* frame, const Box& keep, MaskStyle style) {
  int W = frame->width, H = frame->height;
  Box k = ClipTo(keep, W, H);
  if (k.empty()) {
    MaskBox(frame, {0, 0, W, H}, style);
    return;
  }
  MaskBox(frame, {0, 0, W, k.y}, style);
  MaskBox(frame, {0, k.bottom(), W, H - k.bottom()}, style);
  MaskBox(frame, {0, k.y, k.x, k.h}, style);
  MaskBox(frame, {k.right(), k.y, W - k.right(), k.h}, style);
}

}  // namespace custodian::redaction
