#include "redaction/mask.h"

#include <algorithm>
#include <cstring>
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

// Copies of the pixels of boxes (luma and chroma), to put back after masking.
struct Saved {
  Box box;
  std::vector<uint8_t> planes[3];
};

Saved SavePixels(const AVFrame* f, Box b) {
  b = ClipTo(b, f->width, f->height);
  b = {b.x & ~1, b.y & ~1, (b.w + 1) & ~1, (b.h + 1) & ~1};
  b = ClipTo(b, f->width & ~1, f->height & ~1);
  Saved s{b, {}};
  for (int i = 0; i < 3; ++i) {
    int d = i == 0 ? 1 : 2;
    for (int y = b.y / d; y < b.bottom() / d; ++y) {
      const uint8_t* row = f->data[i] + y * f->linesize[i] + b.x / d;
      s.planes[i].insert(s.planes[i].end(), row, row + b.w / d);
    }
  }
  return s;
}

void RestorePixels(AVFrame* f, const Saved& s) {
  const Box& b = s.box;
  for (int i = 0; i < 3; ++i) {
    int d = i == 0 ? 1 : 2;
    const uint8_t* src = s.planes[i].data();
    for (int y = b.y / d; y < b.bottom() / d; ++y) {
      std::memcpy(f->data[i] + y * f->linesize[i] + b.x / d, src, b.w / d);
      src += b.w / d;
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

FrameMasks ComposeMasks(const RedactionOptions& o, const std::vector<MaskBoxAt>& boxes,
                        double seconds) {
  FrameMasks m;
  switch (o.mode) {
    case Mode::kFaces:
      for (const MaskBoxAt& b : boxes) {
        if (b.kind == DetectionKind::kFace) m.masks.push_back(b.box);
        if (b.kind == DetectionKind::kPerson) m.masks.push_back(o.mask_people ? b.box : b.head);
      }
      break;
    case Mode::kKeepSubject: {
      for (const MaskBoxAt& b : boxes) {
        if (b.subject) m.kept.push_back(b.box);
      }
      for (const MaskBoxAt& b : boxes) {
        if (b.subject) continue;
        // A box that is mostly inside the subject's is the subject seen again (a second
        // detector's track, or the subject moving), not another person.
        int64_t inside = 0;
        for (const Box& k : m.kept) inside = std::max(inside, Intersect(b.box, k).area());
        if (inside * 2 >= b.box.area()) continue;
        m.masks.push_back(b.box);
        if (b.kind == DetectionKind::kFace) m.faces_over.push_back(b.tight);
      }
      break;
    }
    case Mode::kKeepRegion:
      m.outside_region = true;
      break;
  }
  for (const ManualRegion& r : o.manual) {
    if (seconds >= r.from_s && seconds <= r.to_s) {
      m.masks.push_back(r.box);
      m.faces_over.push_back(r.box);
    }
  }
  return m;
}

void ApplyMasks(AVFrame* f, const RedactionOptions& o, const FrameMasks& m) {
  std::vector<Saved> saved;
  for (const Box& k : m.kept) saved.push_back(SavePixels(f, k));
  if (m.outside_region && o.region) MaskOutside(f, *o.region, o.style);
  for (const Box& b : m.masks) MaskBox(f, b, o.style);
  for (const Saved& s : saved) RestorePixels(f, s);
  // Other people's faces (and manual regions) stay masked even in front of the subject.
  if (!saved.empty()) {
    for (const Box& b : m.faces_over) MaskBox(f, b, o.style);
  }
}

}  // namespace custodian::redaction
