#include "redaction/testing/face_fixture.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <regex>
#include <sstream>

#include "redaction/redactor.h"
#include "redaction/video_io.h"

namespace custodian::redaction::testing {
namespace {

bool IsDir(const std::string& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p + "/training.xml", ec);
}

int Attr(const std::string& tag, const std::string& name) {
  std::smatch m;
  std::regex re(name + "='([0-9]+)'");
  return std::regex_search(tag, m, re) ? std::stoi(m[1]) : 0;
}

}  // namespace

std::optional<std::string> FindFacesDir(const std::string& source_dir) {
  if (const char* env = std::getenv("CUSTODIAN_FACES_DIR"); env && *env) {
    if (IsDir(env)) return std::string(env);
  }
  for (std::string d : {source_dir + "/../shared/testdata/faces",
                        std::string("/work/shared/testdata/faces")}) {
    if (IsDir(d)) return d;
  }
  return std::nullopt;
}

Result<std::vector<LabelledPhoto>> LoadLabelledPhotos(const std::string& dir) {
  std::ifstream in(dir + "/training.xml");
  if (!in) return NotFound(dir + "/training.xml cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string xml = ss.str();
  std::vector<LabelledPhoto> out;
  std::regex image_re("<image file='([^']+)'[^>]*>([\\s\\S]*?)</image>");
  std::regex box_re("<box [^>]*/>");
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), image_re); it != std::sregex_iterator();
       ++it) {
    LabelledPhoto p;
    p.file = (*it)[1];
    p.bgr = cv::imread(dir + "/" + p.file, cv::IMREAD_COLOR);
    if (p.bgr.empty()) return DataLoss("cannot read " + dir + "/" + p.file);
    std::string body = (*it)[2];
    for (auto b = std::sregex_iterator(body.begin(), body.end(), box_re); b != std::sregex_iterator();
         ++b) {
      std::string tag = b->str();
      float x = Attr(tag, "left"), y = Attr(tag, "top"), w = Attr(tag, "width"), h = Attr(tag, "height");
      p.faces.push_back({{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}});
    }
    out.push_back(std::move(p));
  }
  if (out.empty()) return DataLoss(dir + "/training.xml names no images");
  return out;
}

const char* VariantName(Variant v) {
  switch (v) {
    case Variant::kOriginal: return "original";
    case Variant::kHalfSize: return "half size";
    case Variant::kDark: return "darkened";
    case Variant::kRotated15: return "rotated 15 degrees";
  }
  return "?";
}

LabelledPhoto MakeVariant(const LabelledPhoto& photo, Variant v) {
  LabelledPhoto p = photo;
  // A copy of the header shares the pixels: each variant writes into new ones, or making
  // one would change the photo it came from (and every variant made after it).
  p.bgr = cv::Mat();
  switch (v) {
    case Variant::kOriginal:
      p.bgr = photo.bgr.clone();
      break;
    case Variant::kHalfSize:
      cv::resize(photo.bgr, p.bgr, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
      for (auto& f : p.faces) {
        for (auto& pt : f) pt *= 0.5f;
      }
      break;
    case Variant::kDark:
      photo.bgr.convertTo(p.bgr, -1, 0.35, 0);
      break;
    case Variant::kRotated15: {
      cv::Point2f c(photo.bgr.cols / 2.0f, photo.bgr.rows / 2.0f);
      cv::Mat r = cv::getRotationMatrix2D(c, 15.0, 1.0);
      cv::warpAffine(photo.bgr, p.bgr, r, photo.bgr.size(), cv::INTER_LINEAR,
                     cv::BORDER_REPLICATE);
      for (auto& f : p.faces) cv::transform(f, f, r);
      break;
    }
  }
  return p;
}

LabelledPhoto OnCanvas(const LabelledPhoto& photo, cv::Size canvas, double scale) {
  LabelledPhoto out;
  out.file = photo.file;
  cv::Mat img;
  cv::resize(photo.bgr, img, cv::Size(), scale, scale, cv::INTER_LINEAR);
  out.bgr = cv::Mat(canvas, CV_8UC3, cv::Scalar(96, 104, 112));
  int ox = (canvas.width - img.cols) / 2, oy = (canvas.height - img.rows) / 2;
  img.copyTo(out.bgr(cv::Rect(ox, oy, img.cols, img.rows)));
  for (const auto& face : photo.faces) {
    std::vector<cv::Point2f> moved;
    for (const cv::Point2f& q : face) {
      moved.emplace_back(static_cast<float>(q.x * scale + ox), static_cast<float>(q.y * scale + oy));
    }
    out.faces.push_back(moved);
  }
  return out;
}

Status WriteVideo(const std::string& path, const std::vector<cv::Mat>& frames, int fps) {
  if (frames.empty()) return InvalidArgument("no frames");
  int w = frames[0].cols & ~1, h = frames[0].rows & ~1;
  VideoInfo info;
  info.width = w;
  info.height = h;
  info.time_base = {1, fps};
  info.frame_rate = {fps, 1};
  auto writer = VideoWriter::Open(path, info, nullptr);
  if (!writer.ok()) return writer.status();
  for (size_t i = 0; i < frames.size(); ++i) {
    cv::Mat even = frames[i](cv::Rect(0, 0, w, h)), i420;
    cv::cvtColor(even, i420, cv::COLOR_BGR2YUV_I420);
    Frame f(av_frame_alloc());
    f->format = AV_PIX_FMT_YUV420P;
    f->width = w;
    f->height = h;
    if (av_frame_get_buffer(f.get(), 0) < 0) return Internal("frame buffer");
    const uint8_t* src = i420.data;
    for (int y = 0; y < h; ++y) std::memcpy(f->data[0] + y * f->linesize[0], src + y * w, w);
    src += w * h;
    for (int y = 0; y < h / 2; ++y) std::memcpy(f->data[1] + y * f->linesize[1], src + y * w / 2, w / 2);
    src += w * h / 4;
    for (int y = 0; y < h / 2; ++y) std::memcpy(f->data[2] + y * f->linesize[2], src + y * w / 2, w / 2);
    f->pts = static_cast<int64_t>(i);
    CUSTODIAN_RETURN_IF_ERROR((*writer)->WriteFrame(f.get()));
  }
  return (*writer)->Finish();
}

Result<std::vector<DecodedFrame>> DecodeVideo(const std::string& path) {
  auto reader = VideoReader::Open(path, false);
  if (!reader.ok()) return reader.status();
  std::vector<DecodedFrame> out;
  for (;;) {
    auto f = (*reader)->Next();
    if (!f.ok()) return f.status();
    if (!*f) break;
    AVFrame* a = f->get();
    DecodedFrame d;
    cv::Mat(a->height, a->width, CV_8UC1, a->data[0], a->linesize[0]).copyTo(d.y);
    cv::Size half((a->width + 1) / 2, (a->height + 1) / 2);
    cv::resize(cv::Mat(half, CV_8UC1, a->data[1], a->linesize[1]), d.u, d.y.size(), 0, 0,
               cv::INTER_NEAREST);
    cv::resize(cv::Mat(half, CV_8UC1, a->data[2], a->linesize[2]), d.v, d.y.size(), 0, 0,
               cv::INTER_NEAREST);
    out.push_back(std::move(d));
  }
  return out;
}

double MaskedFraction(const DecodedFrame& out, const DecodedFrame* in,
                      const std::vector<cv::Point2f>& polygon) {
  cv::Mat region = cv::Mat::zeros(out.y.size(), CV_8UC1);
  std::vector<cv::Point> pts;
  for (const auto& p : polygon) pts.emplace_back(cvRound(p.x), cvRound(p.y));
  cv::fillConvexPoly(region, pts, cv::Scalar(255));
  int64_t total = 0, masked = 0;
  for (int y = 0; y < region.rows; ++y) {
    const uint8_t* r = region.ptr(y);
    for (int x = 0; x < region.cols; ++x) {
      if (!r[x]) continue;
      ++total;
      bool m = IsMaskPixel(out.y.at<uint8_t>(y, x), out.u.at<uint8_t>(y, x), out.v.at<uint8_t>(y, x));
      if (!m && in) {
        m = IsMaskPixel(in->y.at<uint8_t>(y, x), in->u.at<uint8_t>(y, x), in->v.at<uint8_t>(y, x));
      }
      if (m) ++masked;
    }
  }
  return total == 0 ? 1.0 : static_cast<double>(masked) / static_cast<double>(total);
}

Result<std::vector<FaceCoverage>> MeasureFaceCoverage(const std::vector<LabelledPhoto>& photos,
                                                      const std::string& work_dir,
                                                      const RedactionOptions& options,
                                                      int frames) {
  std::vector<FaceCoverage> out;
  int n = 0;
  for (const LabelledPhoto& p : photos) {
    std::string in = work_dir + "/photo" + std::to_string(n) + ".mp4";
    std::string red = work_dir + "/photo" + std::to_string(n) + ".redacted.mp4";
    ++n;
    std::filesystem::remove(in);
    std::filesystem::remove(red);
    CUSTODIAN_RETURN_IF_ERROR(WriteVideo(in, std::vector<cv::Mat>(frames, p.bgr), 25));
    auto rec = RedactVideo(in, red, options);
    if (!rec.ok()) return rec.status();
    auto decoded_in = DecodeVideo(in);
    auto decoded_out = DecodeVideo(red);
    if (!decoded_in.ok()) return decoded_in.status();
    if (!decoded_out.ok()) return decoded_out.status();
    if (decoded_out->size() != decoded_in->size()) return DataLoss("frame count differs");
    for (size_t face = 0; face < p.faces.size(); ++face) {
      double lowest = 1.0;
      for (size_t i = 0; i < decoded_out->size(); ++i) {
        lowest = std::min(lowest, MaskedFraction((*decoded_out)[i], &(*decoded_in)[i], p.faces[face]));
      }
      out.push_back({p.file, static_cast<int>(face), lowest});
    }
  }
  return out;
}

}  // namespace custodian::redaction::testing
