#include "redaction/detector.h"

#include <algorithm>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <opencv2/video/background_segm.hpp>

#include "redaction/dlib_face.h"

namespace custodian::redaction {
namespace {

constexpr const char* kFrontalCascade = "haarcascade_frontalface_alt2.xml";
constexpr const char* kProfileCascade = "haarcascade_profileface.xml";
// Largest crop (in scaled pixels) the face detectors are run on between full scans: bounds
// the cost of a frame with much motion.
constexpr double kMaxCropPixels = 120000;
// ...and on all crops of one frame together.
constexpr double kMaxCropPixelsPerFrame = 240000;
// Pyramid step of the cascades on crops: coarser than on full scans, the crops come back
// every few frames.
constexpr double kCropScaleStep = 1.2;
// ...and on large frames, where the crops are larger and come back every hd_crop_every frames.
constexpr double kLargeCropScaleStep = 1.25;
// dlib's smallest face in the change-driven scans of large frames (at refreshes:
// hd_dlib_min_face_px): dlib runs on one core, and its cost grows with the square of 80/this.
constexpr int kDlibMinFaceBetweenRefreshes = 40;
// Pyramid step of the profile cascades on large frames (over kThoroughMaxPixels), of the
// frontal one in their change-driven scans, and of the coarse whole-frame scan: the finer step
// of small frames (haar_scale_step) costs about twice as much on 1080p.
constexpr double kLargeFrameScanStep = 1.2;
// The HOG people detector's image width and pyramid step.
constexpr double kPeopleWidth = 640;
constexpr double kPeopleScaleStep = 1.1;
// Frames up to this size (SD cameras, stills) get a full scan every full_scan_every frames,
// with tilted cascades and dlib on turned images too. Larger frames (HD) are scanned
// thoroughly once, then only where the picture changes (DetectLarge): full scans of 1080p
// would cost more than the encoding.
constexpr double kThoroughMaxPixels = 500000;
// A motion blob smaller than this fraction of the motion image is noise.
constexpr double kMinBlobFraction = 0.0005;
// dlib runs on at most this many pixels (about 1.3 MP: ~0.3 s on one core).
constexpr double kMaxDlibPixels = 1.3e6;
// Mean luma under which an image is histogram-equalised before detection.
constexpr double kDarkMean = 70;
// Large frames: the change map's block (frame pixels), the margin (blocks) added around
// changed blocks before a thorough scan, so that a face reaching out of them is whole in the
// scanned image, and the width of the coarse whole-frame scan (finds faces over ~80 px on
// 1080p, which a margin may cut).
constexpr int kBlock = 32;
constexpr int kScanMarginBlocks = 2;
constexpr double kIncrementalProfileStep = 1.3;
constexpr double kCoarseWidth = 480;
// dlib's pixel budget in a thorough scan of a large frame (the whole 1080p frame at 2.2x:
// ~0.7 s of CPU, once at the start and at each refresh).
constexpr double kMaxDlibPixelsThorough = 1.1e7;

Box FromRect(const cv::Rect& r) { return {r.x, r.y, r.width, r.height}; }
cv::Rect ToRect(const Box& b) { return {b.x, b.y, b.w, b.h}; }

// Merges overlapping boxes of one kind into their union, so that one face found by three
// detectors is one detection.
// `contained`: also merge a box mostly inside another (for regions, not for faces, where a
// large false detection must not swallow a real face's track).
std::vector<Box> MergeOverlapping(std::vector<Box> boxes, double min_iou, bool contained = true) {
  bool merged = true;
  while (merged) {
    merged = false;
    for (size_t i = 0; i < boxes.size() && !merged; ++i) {
      for (size_t j = i + 1; j < boxes.size(); ++j) {
        Box inter = Intersect(boxes[i], boxes[j]);
        double smaller = static_cast<double>(std::min(boxes[i].area(), boxes[j].area()));
        if (inter.empty()) continue;  // apart (min_iou 0 merges touching boxes only)
        if (IoU(boxes[i], boxes[j]) >= min_iou || (contained && smaller > 0 && inter.area() >= 0.6 * smaller)) {
          cv::Rect u = ToRect(boxes[i]) | ToRect(boxes[j]);
          boxes[i] = FromRect(u);
          boxes.erase(boxes.begin() + static_cast<long>(j));
          merged = true;
          break;
        }
      }
    }
  }
  return boxes;
}

// An image turned about its centre, for faces tilted by the opposite angle; Back() maps a
// box found in it to the bounding box of that box in the original image.
struct Turned {
  Turned(const cv::Mat& img, double angle) {
    cv::Point2f c(img.cols / 2.0f, img.rows / 2.0f);
    cv::Mat rot = cv::getRotationMatrix2D(c, angle, 1.0);
    cv::invertAffineTransform(rot, inverse);
    cv::warpAffine(img, image, rot, img.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  }
  cv::Rect Back(const cv::Rect& r) const {
    std::vector<cv::Point2f> corners = {{float(r.x), float(r.y)},
                                        {float(r.br().x), float(r.y)},
                                        {float(r.br().x), float(r.br().y)},
                                        {float(r.x), float(r.br().y)}};
    cv::transform(corners, corners, inverse);
    return cv::boundingRect(corners);
  }
  cv::Mat image, inverse;
};

}  // namespace

std::string DefaultCascadeDir() { return "/usr/share/opencv4/haarcascades"; }

// CPU time per detection step, printed at the end when CUSTODIAN_REDACT_PROFILE is set
// (with OpenCV held to one thread then, so the calling thread does all of it). For tuning only.
struct StepTimes {
  bool on = std::getenv("CUSTODIAN_REDACT_PROFILE") != nullptr;
  std::map<std::string, std::pair<double, int>> t;
  ~StepTimes() {
    for (const auto& [k, v] : t) std::fprintf(stderr, "profile %-14s %8.3f s %6d calls\n", k.c_str(), v.first, v.second);
  }
  template <typename F>
  auto Time(const std::string& name, F&& f) {
    if (!on) return f();
    struct Add {
      StepTimes* s; const std::string& n; double t0 = Now();
      static double Now() {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
      }
      ~Add() {
        auto& e = s->t[n];
        e.first += Now() - t0;
        ++e.second;
      }
    } add{this, name};
    return f();
  }
};

struct Detectors::Impl {
  StepTimes times;
  RedactionOptions options;
  DetectionParams p;
  int width = 0, height = 0;
  std::string cascade_dir;
  cv::CascadeClassifier frontal, profile;
  std::unique_ptr<DlibFaceDetector> dlib;
  cv::HOGDescriptor people;
  cv::Ptr<cv::BackgroundSubtractorMOG2> mog2;
  double motion_scale = 1.0;
  int64_t motion_calls = 0;
  int64_t full_scans = 0;
  int64_t detect_calls = 0;
  // Large frames: luma at a quarter of the size as the last thorough scan of each block saw
  // it (`ref`) and as the previous detection frame had it (`prev`); per block, whether it
  // differs from `ref` and for how many detection frames in a row it has kept still.
  cv::Mat quarter, ref, prev, dirty, still, moving, since_scan;
  int rescan_checks = 20;  // detection frames between two thorough scans of a block
  std::vector<Box> static_faces;  // found by thorough scans; valid while their blocks are clean
  int64_t thorough_scans = 0, thorough_pixels = 0;

  bool Thorough() const { return static_cast<double>(width) * height <= kThoroughMaxPixels; }


  double FullScanScale() const {
    return std::min(p.max_upscale, static_cast<double>(p.scan_width) / width);
  }

  // Haar cascades on `img`, which is the frame region at (ox, oy) scaled by s, with
  // pyramid step `step`. Crops on large frames run the frontal cascade only: the profile
  // cascades run on every full scan and on every crop of a small frame.
  void FindFaces(const cv::Mat& img, double s, int ox, int oy, std::vector<Box>* out,
                 double step, bool crop) {
    bool profiles = p.use_profile && (!crop || Thorough());
    for (const cv::Rect& r : Cascades(img, step, profiles ? step : 0, crop ? "crop" : "full")) {
      out->push_back(ToFrame(r, s, ox, oy));
    }
  }

  // The frontal cascade with pyramid step `step`, and (profile_step > 0) the profile cascade
  // on the image and its mirror; boxes in `img`'s pixels. `where` names the step in the
  // CUSTODIAN_REDACT_PROFILE times.
  std::vector<cv::Rect> Cascades(const cv::Mat& img, double step, double profile_step,
                                 const std::string& where) {
    std::vector<cv::Rect> all, found;
    cv::Size min_size(20, 20);
    times.Time(where + "-frontal", [&] {
      frontal.detectMultiScale(img, found, step, p.haar_min_neighbors, 0, min_size);
    });
    all.insert(all.end(), found.begin(), found.end());
    if (profile_step > 0) {
      times.Time(where + "-profile", [&] {
        profile.detectMultiScale(img, found, profile_step, p.haar_min_neighbors, 0, min_size);
      });
      all.insert(all.end(), found.begin(), found.end());
      cv::Mat flipped;
      cv::flip(img, flipped, 1);
      times.Time(where + "-profile", [&] {
        profile.detectMultiScale(flipped, found, profile_step, p.haar_min_neighbors, 0, min_size);
      });
      for (const cv::Rect& r : found) all.emplace_back(img.cols - r.x - r.width, r.y, r.width, r.height);
    }
    return all;
  }

  static Box ToFrame(const cv::Rect& r, double s, int ox, int oy) {
    return {ox + static_cast<int>(r.x / s), oy + static_cast<int>(r.y / s),
            static_cast<int>(std::ceil(r.width / s)), static_cast<int>(std::ceil(r.height / s))};
  }

  // The frontal cascade on the image turned by +-angle (faces tilted that way), boxes mapped
  // back through the inverse turn.
  void FindTilted(const cv::Mat& img, double s, double angle, std::vector<Box>* out) {
    Turned t(img, angle);
    std::vector<cv::Rect> found;
    frontal.detectMultiScale(t.image, found, p.haar_scale_step, p.haar_min_neighbors, 0, {20, 20});
    for (const cv::Rect& r : found) out->push_back(ToFrame(t.Back(r), s, 0, 0));
  }

  // dlib's window is 80 pixels: scale so the smallest face sought reaches it, within a
  // pixel budget (large frames then find only larger faces with dlib; the cascades cover
  // the small ones).
  void FindFacesDlib(const cv::Mat& luma, std::vector<Box>* out) {
    double budget = kMaxDlibPixels;
    double s = std::min(80.0 / p.min_face_px,
                        std::sqrt(budget / static_cast<double>(luma.total())));
    cv::Mat img;
    cv::resize(luma, img, cv::Size(), s, s, s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    Brighten(&img);
    for (const cv::Rect& r : times.Time("dlib", [&] { return dlib->Detect(img); })) {
      out->push_back(ToFrame(r, s, 0, 0));
    }
    if (p.tilt_degrees <= 0 || !p.dlib_tilted || !Thorough()) return;
    for (double angle : {p.tilt_degrees, -p.tilt_degrees}) {
      Turned t(img, angle);
      for (const cv::Rect& r : dlib->Detect(t.image)) out->push_back(ToFrame(t.Back(r), s, 0, 0));
    }
  }

  // A dark picture (night, backlight) is stretched before detection: the detectors see
  // too little contrast in it otherwise.
  static void Brighten(cv::Mat* img) {
    if (cv::mean(*img)[0] < kDarkMean) cv::equalizeHist(*img, *img);
  }

  std::vector<Box> Motion(const cv::Mat& luma) {
    cv::Mat small, fg;
    cv::resize(luma, small, cv::Size(), motion_scale, motion_scale, cv::INTER_AREA);
    mog2->apply(small, fg);
    // The first frame is the model; from the second on, what moved (and, until the model
    // has learnt the background, where moving things were: masked too, which is safe).
    if (motion_calls++ < 1) return {};
    cv::morphologyEx(fg, fg, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_RECT, {3, 3}));
    cv::dilate(fg, fg, cv::getStructuringElement(cv::MORPH_RECT, {7, 7}));
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(fg, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
    std::vector<Box> blobs;
    double min_area = kMinBlobFraction * small.total();
    for (const auto& c : contours) {
      cv::Rect r = cv::boundingRect(c);
      if (r.area() < min_area) continue;
      blobs.push_back({static_cast<int>(r.x / motion_scale), static_cast<int>(r.y / motion_scale),
                       static_cast<int>(std::ceil(r.width / motion_scale)),
                       static_cast<int>(std::ceil(r.height / motion_scale))});
    }
    return MergeOverlapping(blobs, 0.1);
  }

  // Large frames. Per-block mean absolute difference between two quarter-size images.
  cv::Mat BlockDiff(const cv::Mat& a, const cv::Mat& b) const {
    cv::Mat d, means;
    cv::absdiff(a, b, d);
    cv::resize(d, means, cv::Size((width + kBlock - 1) / kBlock, (height + kBlock - 1) / kBlock),
               0, 0, cv::INTER_AREA);
    return means;
  }

  // Compares the frame with the change map; returns the boxes (frame pixels, with the scan
  // margin) around blocks that changed since their last thorough scan and have kept still.
  std::vector<Box> SettledChanges(const cv::Mat& quarter, const std::vector<Box>& blobs) {
    cv::Mat moved = BlockDiff(quarter, prev) > p.change_threshold;
    // What the background subtraction sees moving counts as moving too: the inside of a
    // slowly walking person changes little from one check to the next.
    for (const Box& blob : blobs) {
      Box c = ClipTo(blob, width, height);
      if (c.empty()) continue;
      moved(cv::Rect(c.x / kBlock, c.y / kBlock, (c.right() - 1) / kBlock - c.x / kBlock + 1,
                     (c.bottom() - 1) / kBlock - c.y / kBlock + 1))
          .setTo(255);
    }
    // Next to a moving block is where the mover will be, or its shadow.
    cv::dilate(moved, moved, cv::getStructuringElement(cv::MORPH_RECT, {3, 3}));
    moving = moved;
    dirty = BlockDiff(quarter, ref) > p.change_threshold;
    still.setTo(0, moved);
    still.setTo(0, ~dirty);
    cv::add(still, 1, still, dirty & ~moved);
    quarter.copyTo(prev);
    // A block scanned in the last rescan_checks checks waits (someone fidgeting in one place
    // would be scanned over and over); the crops around motion cover it meanwhile.
    cv::Mat settled = dirty & (still >= p.settle_checks) & (since_scan >= rescan_checks);
    cv::add(since_scan, 1, since_scan);
    if (cv::countNonZero(settled) == 0) return {};
    cv::dilate(settled, settled,
               cv::getStructuringElement(cv::MORPH_RECT,
                                         {2 * kScanMarginBlocks + 1, 2 * kScanMarginBlocks + 1}));
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(settled, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
    std::vector<Box> boxes;
    for (const auto& c : contours) {
      cv::Rect r = cv::boundingRect(c);
      boxes.push_back(ClipTo({r.x * kBlock, r.y * kBlock, r.width * kBlock, r.height * kBlock},
                             width, height));
    }
    return MergeOverlapping(boxes, 0.0);
  }

  // The thorough scan of part of a large frame: frontal and profile cascades on the region
  // scaled so hd_min_face_px reaches their 20-px window, and dlib scaled so
  // hd_dlib_min_face_px reaches its 80-px window. Then the region counts as seen: its
  // blocks' reference is the frame now, and the faces kept from earlier scans in it are
  // replaced by what this scan found.
  void ThoroughScan(const cv::Mat& luma, const cv::Mat& quarter, const Box& region, bool whole,
                    std::vector<Box>* faces) {
    std::vector<Box> found;
    double s = std::min(p.max_upscale, 20.0 / p.hd_min_face_px);
    cv::Mat img;
    cv::resize(luma(ToRect(region)), img, cv::Size(), s, s, s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    Brighten(&img);
    // Between refreshes a coarser pyramid: the profile cascades cost twice the frontal one.
    double profile_step = !p.use_profile ? 0 : whole ? kLargeFrameScanStep : kIncrementalProfileStep;
    for (const cv::Rect& r : Cascades(img, whole ? p.haar_scale_step : kLargeFrameScanStep,
                                      profile_step, "hd")) {
      found.push_back(ToFrame(r, s, region.x, region.y));
    }
    if (dlib && p.dlib_on_large_frames) {
      // Between refreshes dlib looks for faces from kDlibMinFaceBetweenRefreshes.
      double sd = std::min(80.0 / (whole ? p.hd_dlib_min_face_px : std::max(kDlibMinFaceBetweenRefreshes, p.hd_dlib_min_face_px)),
                           std::sqrt(kMaxDlibPixelsThorough / static_cast<double>(region.area())));
      cv::Mat dimg;
      cv::resize(luma(ToRect(region)), dimg, cv::Size(), sd, sd, sd < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
      Brighten(&dimg);
      for (const cv::Rect& r : times.Time("hd-dlib", [&] { return dlib->Detect(dimg); })) {
        found.push_back(ToFrame(r, sd, region.x, region.y));
      }
    }
    ++thorough_scans;
    thorough_pixels += region.area();
    // The region's blocks that keep still are seen as they are now. A block something moves
    // through keeps its older reference (the background, mostly): once the movement has
    // passed it matches that again, and the path a person walked needs no second look.
    cv::Rect b(region.x / kBlock, region.y / kBlock,
               std::min(dirty.cols - region.x / kBlock, (region.w + kBlock - 1) / kBlock),
               std::min(dirty.rows - region.y / kBlock, (region.h + kBlock - 1) / kBlock));
    constexpr int q = kBlock / 4;
    for (int by = b.y; by < b.br().y; ++by) {
      for (int bx = b.x; bx < b.br().x; ++bx) {
        if (!whole && moving.at<uint8_t>(by, bx)) continue;
        cv::Rect r = cv::Rect(bx * q, by * q, q, q) & cv::Rect(0, 0, quarter.cols, quarter.rows);
        quarter(r).copyTo(ref(r));
        dirty.at<uint8_t>(by, bx) = 0;
        still.at<uint8_t>(by, bx) = 0;
        // The gap applies to change-driven rescans only: after a whole-frame scan a block
        // that changes may be looked at again as soon as the change settles.
        since_scan.at<uint8_t>(by, bx) = whole ? 255 : 0;
      }
    }
    std::erase_if(static_faces, [&](const Box& f) {
      return Intersect(f, region).area() * 2 >= f.area();
    });
    for (const Box& f : found) static_faces.push_back(f);
    faces->insert(faces->end(), found.begin(), found.end());
  }

  // Whether any block under `box` differs from what its last thorough scan saw.
  bool Changed(const Box& box) const {
    Box c = ClipTo(box, width, height);
    if (c.empty()) return false;
    cv::Rect b(c.x / kBlock, c.y / kBlock, (c.right() - 1) / kBlock - c.x / kBlock + 1,
               (c.bottom() - 1) / kBlock - c.y / kBlock + 1);
    return cv::countNonZero(dirty(b)) > 0;
  }

  // Large frames (over 0.5 MP): thorough scans where the picture changed and settled, faces
  // kept where it did not, crops around motion and face tracks, and a coarse whole-frame
  // scan and the people detector every full_scan_every frames.
  void DetectLarge(const cv::Mat& luma, int64_t index, bool full_scan, const std::vector<Box>& blobs,
                   const std::vector<Detection>& hints, std::vector<Box>* faces,
                   std::vector<Detection>* out) {
    cv::resize(luma, quarter, cv::Size(std::max(1, width / 4), std::max(1, height / 4)), 0, 0,
               cv::INTER_AREA);
    bool refresh = ref.empty() || (index > 0 && index % p.refresh_every == 0);
    if (ref.empty()) {
      ref = quarter.clone();
      prev = quarter.clone();
      cv::Size blocks((width + kBlock - 1) / kBlock, (height + kBlock - 1) / kBlock);
      dirty = cv::Mat::zeros(blocks, CV_8U);
      moving = cv::Mat::zeros(blocks, CV_8U);
      since_scan = cv::Mat(blocks, CV_8U, cv::Scalar(255));
      still = cv::Mat::zeros(blocks, CV_8U);
    }
    std::vector<Box> scanned;  // regions the thorough scan saw in this frame
    if (refresh) {
      scanned.push_back({0, 0, width, height});
      static_faces.clear();
      ThoroughScan(luma, quarter, {0, 0, width, height}, true, faces);
      quarter.copyTo(prev);
    } else {
      std::vector<Box> settled = times.Time("change-map", [&] { return SettledChanges(quarter, blobs); });
      // Kept faces whose picture changed are dropped: the crops around motion follow them,
      // and a thorough scan looks again once the change has settled.
      std::erase_if(static_faces, [&](const Box& f) { return Changed(f); });
      for (const Box& f : static_faces) faces->push_back(f);
      for (const Box& r : settled) ThoroughScan(luma, quarter, r, false, faces);
      scanned = settled;
    }
    if (full_scan && (full_scans++ % std::max(1, p.people_every)) == 0) {
      double s = std::min(1.0, kCoarseWidth / width);
      cv::Mat img;
      cv::resize(luma, img, cv::Size(), s, s, cv::INTER_AREA);
      Brighten(&img);
      for (const cv::Rect& r : Cascades(img, kLargeFrameScanStep, 0, "coarse")) {
        faces->push_back(ToFrame(r, s, 0, 0));
      }
      if (p.use_people) {
        for (const Box& b : times.Time("people", [&] { return People(luma); })) {
          out->push_back({b, DetectionKind::kPerson});
        }
      }
    }
    // Crops around motion and face tracks (person tracks are large and are covered by the
    // motion they make or, standing still, by the thorough scans).
    // Faces kept from thorough scans and regions scanned thoroughly just now need no crop.
    std::vector<Box> rois;
    for (const Box& b : blobs) rois.push_back(ClipTo(Enlarge(b, 0.15), width, height));
    for (const Detection& h : hints) {
      if (h.kind != DetectionKind::kFace) continue;
      bool kept = std::any_of(static_faces.begin(), static_faces.end(),
                              [&](const Box& f) { return IoU(f, h.box) >= 0.5; });
      if (!kept) rois.push_back(ClipTo(Enlarge(h.box, 0.6), width, height));
    }
    std::erase_if(rois, [&](const Box& r) {
      return std::any_of(scanned.begin(), scanned.end(),
                         [&](const Box& t) { return Intersect(r, t) == r; });
    });
    if (index % std::max(p.detect_every, p.hd_crop_every) < p.detect_every) {
      CropScan(luma, MergeOverlapping(rois, 0.0), std::max<double>(p.min_face_px, height / 40.0),
               kLargeCropScaleStep, faces);
    }
  }

  // The frontal (and on small frames profile) cascades on crops of the frame, scaled so
  // that faces of `min_face` pixels reach the window, within the pixel budgets.
  void CropScan(const cv::Mat& luma, std::vector<Box> rois, double min_face, double step,
                std::vector<Box>* faces) {
    // When they do not all fit the pixel budget, each frame starts with a different one.
    if (!rois.empty()) {
      std::rotate(rois.begin(), rois.begin() + static_cast<long>(detect_calls % rois.size()), rois.end());
    }
    double want = std::min(p.max_upscale, 20.0 / min_face);
    double spent = 0;
    for (const Box& r : rois) {
      if (spent >= kMaxCropPixelsPerFrame) break;
      if (r.w < p.min_face_px || r.h < p.min_face_px) continue;
      double s = want;
      double px = static_cast<double>(r.area()) * s * s;
      if (px > kMaxCropPixels) s = std::sqrt(kMaxCropPixels / static_cast<double>(r.area()));
      cv::Mat img;
      cv::resize(luma(ToRect(r)), img, cv::Size(), s, s, s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
      if (img.cols < 20 || img.rows < 20) continue;
      spent += static_cast<double>(img.total());
      Brighten(&img);
      FindFaces(img, s, r.x, r.y, faces, step, true);
    }
  }

  std::vector<Box> People(const cv::Mat& luma) {
    // Upright people at least ~1/5 of the frame's height, on an image about 640 wide. The
    // most expensive step of a full scan (about 1 s on one core), so on large frames it
    // runs on every people_every-th full scan only.
    double s = std::min(1.0, kPeopleWidth / width);
    cv::Mat small;
    cv::resize(luma, small, cv::Size(), s, s, cv::INTER_AREA);
    std::vector<cv::Rect> found;
    std::vector<double> weights;
    people.detectMultiScale(small, found, weights, 0.0, cv::Size(8, 8), cv::Size(),
                           kPeopleScaleStep, 2.0);
    std::vector<Box> out;
    for (size_t i = 0; i < found.size(); ++i) {
      if (weights[i] < 0.5) continue;
      const cv::Rect& r = found[i];
      out.push_back({static_cast<int>(r.x / s), static_cast<int>(r.y / s),
                     static_cast<int>(r.width / s), static_cast<int>(r.height / s)});
    }
    return out;
  }
};

Detectors::Detectors(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Detectors::~Detectors() = default;

Result<std::unique_ptr<Detectors>> Detectors::Load(const RedactionOptions& options, int width,
                                                   int height) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->p = options.detection;
  impl->width = width;
  impl->height = height;
  impl->cascade_dir = options.cascade_dir.empty() ? DefaultCascadeDir() : options.cascade_dir;
  auto load = [&](cv::CascadeClassifier* c, const char* name) -> Status {
    std::string path = impl->cascade_dir + "/" + name;
    bool ok = false;
    try {
      ok = c->load(path) && !c->empty();
    } catch (const cv::Exception&) {
      ok = false;
    }
    if (!ok) {
      return FailedPrecondition("cannot load the face detector " + path +
                                " (install opencv-data); nothing was redacted");
    }
    return Status::Ok();
  };
  CUSTODIAN_RETURN_IF_ERROR(load(&impl->frontal, kFrontalCascade));
  if (impl->p.use_profile) CUSTODIAN_RETURN_IF_ERROR(load(&impl->profile, kProfileCascade));
  if (impl->p.use_dlib) impl->dlib = std::make_unique<DlibFaceDetector>();
  impl->people.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
  if (impl->times.on) cv::setNumThreads(1);
  impl->mog2 = cv::createBackgroundSubtractorMOG2(200, 25.0, false);
  impl->motion_scale = std::min(1.0, static_cast<double>(impl->p.motion_width) / width);
  return std::unique_ptr<Detectors>(new Detectors(std::move(impl)));
}

std::vector<Detection> Detectors::Detect(const cv::Mat& luma, int64_t index, bool full_scan,
                                         const std::vector<Detection>& hints) {
  Impl& m = *impl_;
  const DetectionParams& p = m.p;
  std::vector<Detection> out;
  std::vector<Box> blobs = m.times.Time("motion", [&] { return m.Motion(luma); });
  for (const Box& b : blobs) out.push_back({b, DetectionKind::kMotion});

  std::vector<Box> faces;
  if (!m.Thorough()) {
    m.DetectLarge(luma, index, full_scan, blobs, hints, &faces, &out);
  } else if (full_scan) {
    double s = m.FullScanScale();
    cv::Mat img;
    cv::resize(luma, img, cv::Size(), s, s, s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    Impl::Brighten(&img);
    m.FindFaces(img, s, 0, 0, &faces, p.haar_scale_step, false);
    for (double tilt = p.tilt_degrees; p.tilt_degrees > 0 && tilt <= p.max_tilt_degrees + 1e-9;
         tilt += p.tilt_degrees) {
      m.FindTilted(img, s, tilt, &faces);
      m.FindTilted(img, s, -tilt, &faces);
    }
    if (m.dlib) m.FindFacesDlib(luma, &faces);
    if (p.use_people) {
      for (const Box& b : m.times.Time("people", [&] { return m.People(luma); })) {
        out.push_back({b, DetectionKind::kPerson});
      }
    }
  } else {
    std::vector<Box> rois;
    for (const Box& b : blobs) rois.push_back(ClipTo(Enlarge(b, 0.15), m.width, m.height));
    for (const Detection& h : hints) rois.push_back(ClipTo(Enlarge(h.box, 0.6), m.width, m.height));
    m.CropScan(luma, MergeOverlapping(rois, 0.0), p.min_face_px, kCropScaleStep, &faces);
  }
  ++m.detect_calls;
  for (const Box& f : MergeOverlapping(faces, 0.3, false)) out.push_back({f, DetectionKind::kFace});
  return out;
}

nlohmann::json Detectors::Describe() const {
  const Impl& m = *impl_;
  const DetectionParams& p = m.p;
  nlohmann::json d = nlohmann::json::array();
  d.push_back({{"name", "opencv-haar-frontal"}, {"file", m.cascade_dir + "/" + kFrontalCascade},
               {"scale_step", p.haar_scale_step}, {"min_neighbors", p.haar_min_neighbors},
               {"crop_scale_step", kCropScaleStep}});
  if (p.use_profile) {
    d.push_back({{"name", "opencv-haar-profile"}, {"file", m.cascade_dir + "/" + kProfileCascade},
                 {"orientations", "both (image flipped)"}});
  }
  if (p.use_dlib && (m.Thorough() || p.dlib_on_large_frames)) {
    d.push_back({{"name", "dlib-hog-frontal"}, {"where", m.Thorough() ? "full scans" : "thorough scans"},
                 {"max_pixels", m.Thorough() ? kMaxDlibPixels : kMaxDlibPixelsThorough}});
  }
  if (m.Thorough()) {
    d.push_back({{"name", "full-scans"}, {"frame_pixels_at_most", kThoroughMaxPixels},
                 {"every_frames", p.full_scan_every}, {"scan_width", p.scan_width},
                 {"tilted_frontal_step_degrees", p.tilt_degrees},
                 {"tilted_frontal_max_degrees", p.max_tilt_degrees}, {"dlib_tilted", p.dlib_tilted},
                 {"crops_every_frames", p.detect_every}, {"crop_min_face_px", p.min_face_px}});
  } else {
    d.push_back({{"name", "change-driven-thorough-scans"}, {"frame_pixels_over", kThoroughMaxPixels},
                 {"block_px", kBlock}, {"change_threshold", p.change_threshold},
                 {"settle_checks", p.settle_checks}, {"margin_blocks", kScanMarginBlocks},
                 {"min_face_px", p.hd_min_face_px}, {"dlib_min_face_px", p.hd_dlib_min_face_px},
                 {"dlib_min_face_px_between_refreshes", std::max(kDlibMinFaceBetweenRefreshes, p.hd_dlib_min_face_px)},
                 {"frontal_step_between_refreshes", kLargeFrameScanStep},
                 {"profile_step", kLargeFrameScanStep},
                 {"profile_step_between_refreshes", kIncrementalProfileStep},
                 {"whole_frame_every_frames", p.refresh_every},
                 {"scans", m.thorough_scans}, {"pixels_scanned", m.thorough_pixels}});
    d.push_back({{"name", "crops-around-motion-and-faces"}, {"every_frames", std::max(p.detect_every, p.hd_crop_every)},
                 {"min_face_px", std::max<double>(p.min_face_px, m.height / 40.0)},
                 {"cascades", "frontal"}, {"scale_step", kLargeCropScaleStep}});
    d.push_back({{"name", "coarse-whole-frame-frontal"}, {"width", kCoarseWidth},
                 {"every_frames", p.full_scan_every * std::max(1, p.people_every)}});
  }
  d.push_back({{"name", "histogram-equalisation"}, {"when_mean_luma_below", kDarkMean}});
  if (p.use_people) {
    d.push_back({{"name", "opencv-hog-people"},
                 {"every_frames", m.Thorough() ? p.full_scan_every : p.full_scan_every * std::max(1, p.people_every)},
                 {"width", kPeopleWidth}, {"scale_step", kPeopleScaleStep}});
  }
  d.push_back({{"name", "opencv-mog2"}, {"width", p.motion_width}, {"history", 200}});
  return d;
}

}  // namespace custodian::redaction
