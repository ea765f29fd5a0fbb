#include "redaction/face_net.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "base/sha256.h"

namespace custodian::redaction {
namespace {

// The model's two heads: a 16x16 grid with 2 anchors per cell (stride 16) and an 8x8 grid
// with 6 anchors per cell (stride 32); 896 anchors in that order. For each anchor 16
// regressors: the box centre offset (dx, dy) and size (w, h) in input pixels, then 6
// keypoints (unused here).
struct Anchor {
  float cx, cy;
};

std::vector<Anchor> MakeAnchors() {
  std::vector<Anchor> a;
  const struct { int grid, per_cell, stride; } heads[] = {{16, 2, 16}, {8, 6, 32}};
  for (const auto& h : heads) {
    for (int y = 0; y < h.grid; ++y) {
      for (int x = 0; x < h.grid; ++x) {
        for (int k = 0; k < h.per_cell; ++k) {
          a.push_back({(static_cast<float>(x) + 0.5f) * static_cast<float>(h.stride),
                       (static_cast<float>(y) + 0.5f) * static_cast<float>(h.stride)});
        }
      }
    }
  }
  return a;
}

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-std::clamp(x, -60.0f, 60.0f))); }

}  // namespace

std::string DefaultModelDir() {
  // Installed: beside the program (PREFIX/bin/custodian -> PREFIX/share/custodian/models,
  // whatever prefix the package used), or where this build would install it.
  std::error_code ec;
  std::vector<std::string> candidates;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back((exe.parent_path().parent_path() / "share/custodian/models").string());
  candidates.push_back(CUSTODIAN_INSTALLED_MODEL_DIR);
  for (const std::string& dir : candidates) {
    if (std::filesystem::exists(dir + "/" + kFaceModelFile, ec)) return dir;
  }
  return CUSTODIAN_BUILD_MODEL_DIR;
}

struct FaceNet::Impl {
  cv::dnn::Net net;
  std::vector<std::string> outputs;
  std::vector<Anchor> anchors = MakeAnchors();
  cv::Mat input = cv::Mat(std::vector<int>{1, kFaceNetInput, kFaceNetInput, 3}, CV_32F);
};

FaceNet::~FaceNet() = default;

Result<std::unique_ptr<FaceNet>> FaceNet::Load(const std::string& model_dir) {
  std::string path = (model_dir.empty() ? DefaultModelDir() : model_dir) + "/" + kFaceModelFile;
  auto hash = Sha256File(path);
  if (!hash.ok()) {
    return FailedPrecondition("cannot read the face model " + path +
                              " (scripts/deps.sh fetches it); nothing was redacted");
  }
  if (*hash != kFaceModelSha256) {
    return FailedPrecondition("the face model " + path + " has SHA-256 " + *hash + ", not the pinned " +
                              kFaceModelSha256 + "; nothing was redacted");
  }
  std::unique_ptr<FaceNet> f(new FaceNet());
  f->impl_ = std::make_unique<Impl>();
  f->path_ = path;
  f->sha256_ = *hash;
  try {
    f->impl_->net = cv::dnn::readNetFromONNX(path);
    f->impl_->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    f->impl_->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    f->impl_->outputs = f->impl_->net.getUnconnectedOutLayersNames();
  } catch (const cv::Exception& e) {
    return FailedPrecondition("cannot load the face model " + path + ": " + e.what() +
                              "; nothing was redacted");
  }
  if (f->impl_->net.empty() || f->impl_->outputs.size() != 4) {
    return FailedPrecondition("the face model " + path + " does not have BlazeFace's four outputs");
  }
  return f;
}

std::vector<ScoredBox> FaceNet::Detect(const cv::Mat& rgb256, float min_score) {
  CV_Assert(rgb256.type() == CV_8UC3 && rgb256.cols == kFaceNetInput && rgb256.rows == kFaceNetInput);
  Impl& m = *impl_;
  // NHWC float input, x / 127.5 - 1: the image's pixels in order, converted in place.
  cv::Mat hwc(kFaceNetInput, kFaceNetInput, CV_32FC3, m.input.ptr<float>());
  rgb256.convertTo(hwc, CV_32FC3, 1.0 / 127.5, -1.0);
  m.net.setInput(m.input);
  std::vector<cv::Mat> out;
  m.net.forward(out, m.outputs);
  // Outputs: scores [1,512,1], [1,384,1]; regressors [1,512,16], [1,384,16].
  if (out.size() != 4 || out[0].total() != 512 || out[1].total() != 384 ||
      out[2].total() != 512 * 16 || out[3].total() != 384 * 16) {
    throw std::runtime_error("the face model's outputs have unexpected shapes");
  }
  std::vector<ScoredBox> found;
  for (int head = 0; head < 2; ++head) {
    const float* scores = out[head].ptr<float>();
    const float* reg = out[2 + head].ptr<float>();
    int n = head == 0 ? 512 : 384, base = head == 0 ? 0 : 512;
    for (int i = 0; i < n; ++i) {
      float s = Sigmoid(scores[i]);
      if (s < min_score) continue;
      const Anchor& a = m.anchors[static_cast<size_t>(base + i)];
      const float* r = reg + 16 * i;
      float w = r[2], h = r[3];
      if (!(w > 1 && h > 1) || w > 4 * kFaceNetInput || h > 4 * kFaceNetInput) continue;
      found.push_back({{a.cx + r[0] - w / 2, a.cy + r[1] - h / 2, w, h}, s});
    }
  }
  return found;
}

float IoU(const cv::Rect2f& a, const cv::Rect2f& b) {
  float inter = (a & b).area();
  float u = a.area() + b.area() - inter;
  return u > 0 ? inter / u : 0;
}

std::vector<ScoredBox> SuppressOverlaps(std::vector<ScoredBox> boxes, float max_iou) {
  std::sort(boxes.begin(), boxes.end(), [](const ScoredBox& a, const ScoredBox& b) { return a.score > b.score; });
  std::vector<ScoredBox> kept;
  for (const ScoredBox& b : boxes) {
    bool covered = std::any_of(kept.begin(), kept.end(), [&](const ScoredBox& k) {
      float inter = (k.box & b.box).area();
      return IoU(k.box, b.box) > max_iou || inter > 0.6f * std::min(k.box.area(), b.box.area());
    });
    if (!covered) kept.push_back(b);
  }
  return kept;
}

}  // namespace custodian::redaction
