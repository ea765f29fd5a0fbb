#include "redaction/detector.h"

#include <algorithm>
#include <cmath>
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
// Pyramid step of the full-scan cascades on large frames (over kThoroughMaxPixels). The
// finer step of small frames (haar_scale_step) made the whole redaction of 1080p take a
// quarter more CPU and masked no more of the labelled faces placed in a 1080p frame
// (tests/bench/redact_bench).
constexpr double kLargeFrameScanStep = 1.2;
// The HOG people detector's image width and pyramid step.
constexpr double kPeopleWidth = 640;
constexpr double kPeopleScaleStep = 1.1;
// Frames up to this size (SD cameras, stills) get the thorough full scan: tilted cascades and
// dlib on turned images too. Larger frames (HD) get the plain scan; their faces are larger in
// pixels, and the extra passes would cost more than the encoding.
constexpr double kThoroughMaxPixels = 500000;
// dlib's pixel budget on a large frame.
constexpr double kMaxDlibPixelsLarge = 500000;
// A motion blob smaller than this fraction of the motion image is noise.
constexpr double kMinBlobFraction = 0.0005;
// dlib runs on at most this many pixels (about 1.3 MP: ~0.3 s on one core).
constexpr double kMaxDlibPixels = 1.3e6;
// Mean luma under which an image is histogram-equalised before detection.
constexpr double kDarkMean = 70;

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

struct Detectors::Impl {
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

  bool Thorough() const { return static_cast<double>(width) * height <= kThoroughMaxPixels; }

  double FullScanStep() const { return Thorough() ? p.haar_scale_step : kLargeFrameScanStep; }

  double FullScanScale() const {
    return std::min(p.max_upscale, static_cast<double>(p.scan_width) / width);
  }

  // Haar cascades on `img`, which is the frame region at (ox, oy) scaled by s, with
  // pyramid step `step`. Crops on large frames run the frontal cascade only: the profile
  // cascades run on every full scan and on every crop of a small frame.
  void FindFaces(const cv::Mat& img, double s, int ox, int oy, std::vector<Box>* out,
                 double step, bool crop) {
    bool profiles = p.use_profile && (!crop || Thorough());
    for (const cv::Rect& r : Cascades(img, step, profiles)) {
      out->push_back(ToFrame(r, s, ox, oy));
    }
  }

  std::vector<cv::Rect> Cascades(const cv::Mat& img, double step, bool profiles) {
    std::vector<cv::Rect> all, found;
    cv::Size min_size(20, 20);
    frontal.detectMultiScale(img, found, step, p.haar_min_neighbors, 0, min_size);
    all.insert(all.end(), found.begin(), found.end());
    if (profiles) {
      profile.detectMultiScale(img, found, step, p.haar_min_neighbors, 0, min_size);
      all.insert(all.end(), found.begin(), found.end());
      cv::Mat flipped;
      cv::flip(img, flipped, 1);
      profile.detectMultiScale(flipped, found, step, p.haar_min_neighbors, 0,
                               min_size);
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
    double budget = Thorough() ? kMaxDlibPixels : kMaxDlibPixelsLarge;
    double s = std::min(80.0 / p.min_face_px,
                        std::sqrt(budget / static_cast<double>(luma.total())));
    cv::Mat img;
    cv::resize(luma, img, cv::Size(), s, s, s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    Brighten(&img);
    for (const cv::Rect& r : dlib->Detect(img)) out->push_back(ToFrame(r, s, 0, 0));
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
  impl->mog2 = cv::createBackgroundSubtractorMOG2(200, 25.0, false);
  impl->motion_scale = std::min(1.0, static_cast<double>(impl->p.motion_width) / width);
  return std::unique_ptr<Detectors>(new Detectors(std::move(impl)));
}

std::vector<Detection> Detectors::Detect(const cv::Mat& luma, int64_t /*index*/, bool full_scan,
                                         const std::vector<Box>& hints) {
  Impl& m = *impl_;
  const DetectionParams& p = m.p;
  std::vector<Detection> out;
  std::vector<Box> blobs = m.Motion(luma);
  for (const Box& b : blobs) out.push_back({b, DetectionKind::kMotion});

  std::vector<Box> faces;
  if (full_scan) {
    double s = m.FullScanScale();
    cv::Mat img;
    cv::resize(luma, img, cv::Size(), s, s, s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    Impl::Brighten(&img);
    m.FindFaces(img, s, 0, 0, &faces, m.FullScanStep(), false);
    for (double tilt = p.tilt_degrees;
         m.Thorough() && p.tilt_degrees > 0 && tilt <= p.max_tilt_degrees + 1e-9;
         tilt += p.tilt_degrees) {
      m.FindTilted(img, s, tilt, &faces);
      m.FindTilted(img, s, -tilt, &faces);
    }
    // dlib on a large frame would find only faces the cascades find already (its pixel
    // budget makes its smallest face ~160 px on 1080p) at a third of the full scan's cost.
    if (m.dlib && (m.Thorough() || p.dlib_on_large_frames)) m.FindFacesDlib(luma, &faces);
    bool people_now = m.Thorough() || (m.full_scans % std::max(1, p.people_every)) == 0;
    ++m.full_scans;
    if (p.use_people && people_now) {
      for (const Box& b : m.People(luma)) out.push_back({b, DetectionKind::kPerson});
    }
  } else {
    std::vector<Box> rois;
    for (const Box& b : blobs) rois.push_back(ClipTo(Enlarge(b, 0.15), m.width, m.height));
    for (const Box& h : hints) rois.push_back(ClipTo(Enlarge(h, 0.6), m.width, m.height));
    rois = MergeOverlapping(rois, 0.0);
    // Smallest face sought: min_face_px, or 1/40 of the frame's height on large frames.
    double min_face = m.Thorough() ? p.min_face_px : std::max<double>(p.min_face_px, m.height / 40.0);
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
      Impl::Brighten(&img);
      m.FindFaces(img, s, r.x, r.y, &faces, kCropScaleStep, true);
    }
  }
  for (const Box& f : MergeOverlapping(faces, 0.3, false)) out.push_back({f, DetectionKind::kFace});
  return out;
}

nlohmann::json Detectors::Describe() const {
  const Impl& m = *impl_;
  const DetectionParams& p = m.p;
  nlohmann::json d = nlohmann::json::array();
  d.push_back({{"name", "opencv-haar-frontal"}, {"file", m.cascade_dir + "/" + kFrontalCascade},
               {"scale_step", p.haar_scale_step}, {"min_neighbors", p.haar_min_neighbors},
               {"full_scan_scale_step_this_video", m.FullScanStep()},
               {"crop_scale_step", kCropScaleStep}});
  if (p.use_profile) {
    d.push_back({{"name", "opencv-haar-profile"}, {"file", m.cascade_dir + "/" + kProfileCascade},
                 {"orientations", "both (image flipped)"}});
  }
  if (p.use_dlib && (m.Thorough() || p.dlib_on_large_frames)) {
    d.push_back({{"name", "dlib-hog-frontal"}, {"where", "full scans"},
                 {"max_pixels", kMaxDlibPixels}});
  }
  if (p.tilt_degrees > 0) {
    d.push_back({{"name", "opencv-haar-frontal-tilted"}, {"step_degrees", p.tilt_degrees},
                 {"max_degrees", p.max_tilt_degrees},
                 {"where", "full scans"}});
  }
  d.push_back({{"name", "thorough-full-scans"}, {"when_frame_pixels_at_most", kThoroughMaxPixels},
               {"this_video", m.Thorough()}, {"dlib_pixels_large_frames", kMaxDlibPixelsLarge}});
  d.push_back({{"name", "histogram-equalisation"}, {"when_mean_luma_below", kDarkMean}});
  if (p.use_people) {
    d.push_back({{"name", "opencv-hog-people"}, {"where", "full scans"}, {"every_nth_full_scan_on_large_frames", p.people_every},
                 {"width", kPeopleWidth},
                 {"scale_step", kPeopleScaleStep}});
  }
  d.push_back({{"name", "opencv-mog2"}, {"width", p.motion_width}, {"history", 200}});
  return d;
}

}  // namespace custodian::redaction
