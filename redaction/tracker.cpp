#include "redaction/tracker.h"

#include <algorithm>
#include <cmath>

#include <opencv2/core/types.hpp>

namespace custodian::redaction {
namespace {

double CenterDistance(const Box& a, const Box& b) {
  double dx = (a.x + a.w / 2.0) - (b.x + b.w / 2.0);
  double dy = (a.y + a.h / 2.0) - (b.y + b.h / 2.0);
  return std::hypot(dx, dy);
}

// How far (in its own sizes per frame) a face seen once may have moved when next seen.
constexpr double kFirstLinkSpeed = 1.2;
// How unsure a held track's speed is: the mask grows by this share of the way it moved.
constexpr double kSpeedDoubt = 0.25;
// How much a held face's mask may grow on every side, as a share of its size (the hold is a
// second: beyond this the track is flagged as lost for a person to check).
constexpr double kMaxFaceGrowth = 0.4;
// A moving figure wider than this share of its height is more than one person side by side
// (background subtraction joins people walking together): their heads are along its top.
constexpr double kGroupWidth = 0.5;
// A face no detector finds is followed on moving things of its size for at most this long
// after its last detection (hold_frames is a second of frames).
constexpr double kFollowLimitS = 3.0;
// The largest moving thing taken for a face's head, per side, against the face's box.
constexpr double kBlobFaceSides = 2.5;
// Evidence for a face that needs no other: a network score at least this high, or a box on
// something that moved. Below it, where nothing moved, a detection is doubtful: on the eval
// clips 95% of such detections were false (signs, cones, windows, found again at every
// scan). A track that has had nothing but doubtful sightings in place for kStillLimitS
// seconds (kDoubtOnlyLimitS if it never had better) is no longer masked but flagged for the
// reviewer, and a doubtful sighting at its place later continues it (so a sign is masked
// for its first kDoubtOnlyLimitS only, not again at every sweep that finds it).
constexpr float kStrongScore = 0.5f;
constexpr double kStillLimitS = 4.0;
// A track of doubtful sightings only (nothing confident or moving ever joined it) is masked
// for this long: in case it is a face (a face in a still scene found only faintly), but not
// for 4 s of every false face on a sign (on a 12-s 1080p clip that took the share of the
// picture altered away from faces from 8.9% to 10.8%).
constexpr double kDoubtOnlyLimitS = 1.0;

Box Union(const Box& a, const Box& b) {
  int x0 = std::min(a.x, b.x), y0 = std::min(a.y, b.y);
  return {x0, y0, std::max(a.right(), b.right()) - x0, std::max(a.bottom(), b.bottom()) - y0};
}

Box Grow(const Box& b, double by) {
  int d = static_cast<int>(std::ceil(by));
  return {b.x - d, b.y - d, b.w + 2 * d, b.h + 2 * d};
}

// How far from where a face of `size` px was last seen it may be `frames` later while no
// detector finds it: three quarters of its size, and a tenth more for every frame.
double LostFaceReach(double size, double frames) { return 0.75 * size + 0.1 * size * frames; }

bool CenterInside(const Box& inner, const Box& outer) {
  int cx = inner.x + inner.w / 2, cy = inner.y + inner.h / 2;
  return cx >= outer.x && cx < outer.right() && cy >= outer.y && cy < outer.bottom();
}

}  // namespace

bool IsGroup(const Box& person) { return person.w > kGroupWidth * person.h; }

Box HeadOf(const Box& person) {
  if (IsGroup(person)) return {person.x, person.y, person.w, person.h / 4};
  int w = std::min(person.w, person.h * 3 / 10);
  int h = std::min(person.h / 4, w * 4 / 3);
  return {person.x + (person.w - w) / 2, person.y, w, h};
}

Tracker::Tracker(const DetectionParams& params, int width, int height)
    : p_(params), width_(width), height_(height) {}

// A frame's masks wait until a track that starts after it has had two more detections in
// which to be confirmed.
int Tracker::Lookahead() const { return p_.pre_frames + 2 * p_.detect_every + 1; }

// Faces are held over a lost detection and extended before the first and after the last; the
// moving figures that stand for people are found at every detection while they move, so
// their boxes (large: held and grown they would hide much of the scene) are kept only
// between detections.
int Tracker::PreFrames(const Track& t) const {
  return t.kind == DetectionKind::kFace ? p_.pre_frames : p_.detect_every;
}

int Tracker::HoldFrames(const Track& t) const {
  return t.kind == DetectionKind::kFace ? p_.hold_frames + p_.post_frames : 2 * p_.detect_every;
}

// A confirmed face track that no face detector found in this frame continues on a moving
// thing of its size where its path leads (a face turned away, too dark or too small for the
// detectors for a while still moves like one), for at most kFollowLimitS after its last
// detection by a face detector.
void Tracker::FollowMotion(int64_t frame, const std::vector<Detection>& detections,
                           const std::vector<bool>& track_used) {
  std::vector<bool> blob_used(detections.size(), false);
  for (size_t t = 0; t < tracks_.size() && t < track_used.size(); ++t) {
    Track& tr = tracks_[t];
    if (track_used[t] || tr.kind != DetectionKind::kFace || tr.obs.size() < 2) continue;
    if (frame - tr.last_detected > kFollowLimitS * p_.hold_frames) continue;
    const Box& last = tr.obs.back().box;
    // Not only a live track: one lost for a while (it crossed another figure and their blobs
    // merged) is picked up again where its path leads, for as long as its path is projected.
    auto predicted = PathBoxAt(tr, frame);
    if (!predicted) continue;
    double size = std::max(last.w, last.h);
    double reach = LostFaceReach(size, double(frame - tr.obs.back().frame));
    size_t best = detections.size();
    double best_d = reach;
    for (size_t i = 0; i < detections.size(); ++i) {
      const Detection& d = detections[i];
      if (d.kind != DetectionKind::kMotion || blob_used[i]) continue;
      // A moving head makes a blob larger than the face a detector boxes (hair, ears, its
      // soft edge), but not a figure's: each side between half and kBlobFaceSides of the face's.
      double sw = double(d.box.w) / std::max(1, last.w), sh = double(d.box.h) / std::max(1, last.h);
      if (sw < 0.5 || sh < 0.5 || sw > kBlobFaceSides || sh > kBlobFaceSides) continue;
      double dist = CenterDistance(d.box, *predicted);
      if (dist < best_d) {
        best = i;
        best_d = dist;
      }
    }
    if (best == detections.size()) continue;
    blob_used[best] = true;
    // The face is where the blob is, at the face's own size.
    const Box& b = detections[best].box;
    tr.obs.push_back({frame, {b.x + b.w / 2 - last.w / 2, b.y + b.h / 2 - last.h / 2, last.w, last.h}, true});
    ++motion_followed_;
  }
}

// Nothing in view crosses the frame's width in under two seconds (detect_every is a fifth of
// a second of frames).
double Tracker::MaxSpeed() const { return width_ / (10.0 * std::max(1, p_.detect_every)); }

bool Tracker::Unconfirmed(const Track& t) const {
  return t.obs.size() == 1 && latest_ - t.obs.front().frame >= 2 * p_.detect_every;
}

bool Tracker::StillDoubt(const Track& t, int64_t frame) const {
  if (t.kind != DetectionKind::kFace) return false;
  const auto& obs = t.obs;
  auto next = std::upper_bound(obs.begin(), obs.end(), frame,
                               [](int64_t f, const Observation& o) { return f < o.frame; });
  if (next == obs.begin() || (next != obs.end() && !next->doubtful)) return false;
  const Observation& last = *(next - 1);
  double size = std::max(last.box.w, last.box.h);
  // hold_frames is a second of frames.
  double limit = (t.evidence ? kStillLimitS : kDoubtOnlyLimitS) * p_.hold_frames;
  // Back from the last sighting while it stays doubtful and in place, no further than the
  // limit (so that the cost does not grow with the track).
  for (auto k = next; k != obs.begin();) {
    --k;
    if (!k->doubtful || CenterDistance(k->box, last.box) > 0.5 * size) return false;
    if (double(frame - k->frame) > limit) return true;
  }
  return false;
}

Tracker::Track* Tracker::DoubtfulTrackAt(const Box& box) {
  for (Track& t : tracks_) {
    // Only a track already past the still limit: a shorter one is masked again from a new
    // start (and a gap in a live track would be masked as a band).
    if (t.kind != DetectionKind::kFace || !StillDoubt(t, t.obs.back().frame)) continue;
    const Box& last = t.obs.back().box;
    double ratio = double(box.area()) / double(std::max<int64_t>(1, last.area()));
    if (ratio > 0.4 && ratio < 2.5 && CenterDistance(box, last) <= 0.5 * std::max(last.w, last.h)) {
      return &t;
    }
  }
  return nullptr;
}

bool Tracker::Alive(const Track& t, int64_t frame) const {
  return t.obs.back().frame >= frame - p_.hold_frames && !CutBetween(t.obs.back().frame, frame);
}

void Tracker::Cut(int64_t frame) { cuts_.push_back(frame); }

bool Tracker::CutBetween(int64_t a, int64_t b) const {
  if (a > b) std::swap(a, b);
  auto it = std::upper_bound(cuts_.begin(), cuts_.end(), a);
  return it != cuts_.end() && *it <= b;
}

bool Tracker::NearEdge(const Box& b) const {
  int m = std::max(8, std::max(b.w, b.h) / 2);
  return b.x < m || b.y < m || b.right() > width_ - m || b.bottom() > height_ - m;
}

void Tracker::Add(int64_t frame, const std::vector<Detection>& detections) {
  latest_ = std::max(latest_, frame);
  // Whether "nothing moved there" means anything: not on the first frame (no background
  // yet) nor on a cut (no motion is reported across one).
  bool motion_known = adds_++ > 0 && (cuts_.empty() || cuts_.back() != frame);
  for (DetectionKind kind : {DetectionKind::kFace, DetectionKind::kPerson}) {
    std::vector<bool> track_used =
        Associate(frame, kind, SightingsOf(kind, detections, motion_known));
    if (kind == DetectionKind::kFace) FollowMotion(frame, detections, track_used);
  }
  for (const Detection& d : detections) {
    if (d.kind == DetectionKind::kMotion) motion_.emplace(frame, d.box);
  }
  FlagFacelessPeople(frame, detections);
}

std::vector<Tracker::Sighting> Tracker::SightingsOf(DetectionKind kind,
                                                    const std::vector<Detection>& detections,
                                                    bool motion_known) const {
  std::vector<Sighting> out;
  for (const Detection& d : detections) {
    if (d.kind != kind) continue;
    bool moving = std::any_of(detections.begin(), detections.end(), [&](const Detection& m) {
      return m.kind == DetectionKind::kMotion &&
             double(Intersect(m.box, d.box).area()) >= 0.3 * double(d.box.area());
    });
    bool doubtful =
        kind == DetectionKind::kFace && motion_known && !moving && d.score < kStrongScore;
    out.push_back({&d, moving, doubtful});
  }
  return out;
}

std::optional<double> Tracker::LinkDistance(const Track& tr, const Sighting& s,
                                            int64_t frame) const {
  const Box& box = s.det->box;
  // A track seen once is not masked two detection intervals on (Unconfirmed), but this
  // detection may still be its second sighting: it is looked for where it was seen.
  auto predicted = PathBoxAt(tr, frame);
  if (!predicted && tr.obs.size() == 1) predicted = tr.obs.back().box;
  if (!predicted) return std::nullopt;
  double dist = CenterDistance(*predicted, box);
  double size = std::max({tr.obs.back().box.w, tr.obs.back().box.h, 1});
  // A face that moves on while undetected is looked for where its speed takes it. A
  // track seen once has no speed yet: its next sighting may be up to kFirstLinkSpeed
  // of its size per frame away (a small face on a fast figure crosses several of its
  // own widths between two detections; unlinked, each sighting would be masked where
  // it was while the face moved on).
  double reach = 0.75 * size;
  if (tr.obs.size() == 1) {
    // Only from a sighting on something that moved: false detections on a still
    // background must not chain into a track that sweeps across the scene. The next
    // sighting need not be on a motion blob (a small dark face makes none for a while).
    int64_t dt = frame - tr.obs.back().frame;
    if (tr.kind == DetectionKind::kFace && tr.obs.back().moving && dt <= 2 * p_.detect_every) {
      reach =
          std::max(reach, 0.75 * size + std::min(kFirstLinkSpeed * size, MaxSpeed()) * double(dt));
    }
  } else {
    const Observation& a = tr.obs[tr.obs.size() - 2];
    const Observation& b = tr.obs.back();
    double speed = CenterDistance(a.box, b.box) / double(std::max<int64_t>(1, b.frame - a.frame));
    reach = std::max(reach, 0.5 * size + speed * double(frame - b.frame));
  }
  // Similar size, and overlapping or near: a large false detection must not take
  // over a face's track.
  double ratio = static_cast<double>(box.area()) /
                 static_cast<double>(std::max<int64_t>(1, tr.obs.back().box.area()));
  bool similar = ratio > 0.4 && ratio < 2.5;
  if (similar && (IoU(*predicted, box) >= 0.1 || dist < reach)) return dist;
  return std::nullopt;
}

std::vector<bool> Tracker::Associate(int64_t frame, DetectionKind kind,
                                     const std::vector<Sighting>& sightings) {
  // Greedy association by distance between each detection and each live track's box.
  struct Pair {
    double dist;
    size_t det, track;
  };
  std::vector<Pair> pairs;
  for (size_t i = 0; i < sightings.size(); ++i) {
    for (size_t t = 0; t < tracks_.size(); ++t) {
      const Track& tr = tracks_[t];
      if (tr.kind != kind || !Alive(tr, frame) || tr.obs.back().frame >= frame) continue;
      if (auto dist = LinkDistance(tr, sightings[i], frame)) pairs.push_back({*dist, i, t});
    }
  }
  std::sort(pairs.begin(), pairs.end(),
            [](const Pair& a, const Pair& b) { return a.dist < b.dist; });
  std::vector<bool> det_used(sightings.size(), false), track_used(tracks_.size(), false);
  for (const Pair& pr : pairs) {
    if (det_used[pr.det] || track_used[pr.track]) continue;
    det_used[pr.det] = track_used[pr.track] = true;
    const Sighting& s = sightings[pr.det];
    tracks_[pr.track].obs.push_back({frame, s.det->box, s.moving, s.doubtful});
    tracks_[pr.track].last_detected = frame;
    if (!s.doubtful) tracks_[pr.track].evidence = true;
  }
  for (size_t i = 0; i < sightings.size(); ++i) {
    if (det_used[i]) continue;
    const Sighting& s = sightings[i];
    // A doubtful sighting where an earlier track sat past the still limit on doubtful
    // sightings, however long ago, continues it: a sign found again at each sweep is not a new
    // face each time, to be masked for the still limit again.
    if (s.doubtful) {
      Track* earlier = DoubtfulTrackAt(s.det->box);
      if (earlier != nullptr) {
        earlier->obs.push_back({frame, s.det->box, false, true});
        earlier->last_detected = frame;
        continue;
      }
    }
    tracks_.push_back(
        {next_id_++, kind, {{frame, s.det->box, s.moving, s.doubtful}}, false, frame});
    tracks_.back().evidence = !s.doubtful;
  }
  return track_used;
}

void Tracker::FlagFacelessPeople(int64_t frame, const std::vector<Detection>& detections) {
  for (const Detection& d : detections) {
    if (d.kind != DetectionKind::kPerson) continue;
    bool has_face = false;
    for (const Track& t : tracks_) {
      if (t.kind != DetectionKind::kFace || !Alive(t, frame)) continue;
      auto b = TrackBoxAt(t, frame);
      if (b && Intersect(*b, d.box).area() > 0) has_face = true;
    }
    if (!has_face) person_flags_.push_back({frame, "person with no face detection"});
  }
}

std::optional<Box> Tracker::TrackBoxAt(const Track& t, int64_t frame) const {
  if (StillDoubt(t, frame)) return std::nullopt;
  return PathBoxAt(t, frame);
}

std::optional<Box> Tracker::PathBoxAt(const Track& t, int64_t frame) const {
  const auto& obs = t.obs;
  const Observation& first = obs.front();
  const Observation& last = obs.back();
  // A detection that no later one confirmed (a passing false detection, mostly) is masked
  // only around itself: held for a second and more it would hide the scene for nothing.
  if (Unconfirmed(t)) {
    if (std::abs(frame - first.frame) > p_.detect_every) return std::nullopt;
    return first.box;
  }
  // Before the first detection and after the last, the box moves on with the track's
  // velocity (from detections at least two detection intervals apart, so that one jittery
  // box does not set it), and the mask covers where it was seen and where it would be,
  // grown by 2% of its size per frame while nothing is known: a face that stopped is still
  // covered, and a moving one is followed. Growth is capped at the box's size for faces (a
  // figure's box: an eighth), beyond which the track is flagged as lost for review instead.
  double max_growth = t.kind == DetectionKind::kFace ? kMaxFaceGrowth : 0.125;
  auto velocity = [&](bool from_end) {
    cv::Point2d v(0, 0);
    if (obs.size() < 2) return v;
    const Observation& x = from_end ? obs.back() : obs.front();
    for (size_t k = 1; k < obs.size(); ++k) {
      const Observation& y = from_end ? obs[obs.size() - 1 - k] : obs[k];
      int64_t dt = x.frame - y.frame;
      if (std::abs(dt) >= 2 * p_.detect_every || k + 1 == obs.size()) {
        v.x = ((x.box.x + x.box.w / 2.0) - (y.box.x + y.box.w / 2.0)) / double(dt);
        v.y = ((x.box.y + x.box.h / 2.0) - (y.box.y + y.box.h / 2.0)) / double(dt);
        double speed = std::hypot(v.x, v.y);
        if (speed > MaxSpeed()) v *= MaxSpeed() / speed;
        break;
      }
    }
    return v;
  };
  auto project = [&](const Box& b, cv::Point2d v, double dt) {
    double size = std::max(b.w, b.h);
    Box moved{b.x + static_cast<int>(std::lround(v.x * dt)), b.y + static_cast<int>(std::lround(v.y * dt)), b.w, b.h};
    double travelled = std::hypot(v.x, v.y) * std::abs(dt);
    double growth = std::min(0.02 * size * std::abs(dt) + kSpeedDoubt * travelled, max_growth * size);
    // A slow face may have stopped: the mask covers where it was and where it would be. A
    // fast one is where its speed takes it, give or take kSpeedDoubt of the way (a band from
    // where it was seen would sweep the scene for the whole hold).
    return Grow(travelled <= size ? Union(b, moved) : moved, growth);
  };
  // Nothing is carried across a cut (the picture changed as a whole).
  if (frame < first.frame && CutBetween(frame, first.frame)) return std::nullopt;
  if (frame > last.frame && CutBetween(last.frame, frame)) return std::nullopt;
  if (frame < first.frame) {
    if (first.frame - frame > PreFrames(t)) return std::nullopt;
    return project(first.box, velocity(false), double(frame - first.frame));
  }
  if (frame > last.frame) {
    if (frame - last.frame > HoldFrames(t)) return std::nullopt;
    return project(last.box, velocity(true), double(frame - last.frame));
  }
  auto it = std::lower_bound(obs.begin(), obs.end(), frame,
                             [](const Observation& o, int64_t f) { return o.frame < f; });
  if (it->frame == frame) return it->box;
  // Between two detections close together whose boxes meet, the mask covers both: detectors'
  // boxes jitter from one frame to the next, and a face between two sightings is somewhere
  // between them. Otherwise (a longer gap, or a face that moved past its own size) the box
  // where the straight path puts it at this frame, grown by a tenth of its size for each
  // detection interval of the gap, at most as much as a held box (the union of two sightings
  // of a fast face was a band across the scene, and a path box over a gap of seconds grew to
  // three times the face and more).
  const Observation& b = *it;
  const Observation& a = *(it - 1);
  int64_t gap = b.frame - a.frame;
  if (gap <= 2 * p_.detect_every && Intersect(a.box, b.box).area() > 0) return Union(a.box, b.box);
  double f = double(frame - a.frame) / double(gap);
  auto lerp = [&](int u, int v) { return static_cast<int>(std::lround(u + f * (v - u))); };
  Box at{lerp(a.box.x, b.box.x), lerp(a.box.y, b.box.y), lerp(a.box.w, b.box.w), lerp(a.box.h, b.box.h)};
  double size = std::max(at.w, at.h);
  return Grow(at, std::min(0.1 * size * double(gap) / p_.detect_every, max_growth * size));
}

std::vector<Detection> Tracker::LiveBoxes(int64_t frame) const {
  std::vector<Detection> out;
  for (const Track& t : tracks_) {
    // A still, doubtful track is not looked for again at every detection: the sweep comes
    // back to it, and anything that moves there makes its tile one of interest again.
    if (Alive(t, frame) && !StillDoubt(t, frame)) out.push_back({t.obs.back().box, t.kind});
  }
  return out;
}

std::vector<MaskBoxAt> Tracker::BoxesAt(int64_t frame) const {
  std::vector<MaskBoxAt> out;
  for (const Track& t : tracks_) {
    if (frame < t.obs.front().frame - PreFrames(t)) continue;
    auto b = TrackBoxAt(t, frame);
    if (!b) continue;
    // Small boxes are the least precise: at least margin_px more on every side.
    Box m = Grow(Enlarge(*b, p_.margin), p_.margin_px);
    // The subject is kept visible only near its detections: a held box grows to cover where
    // a lost face may be, which for the subject would uncover the people around it. Past
    // that the subject's box is masked like anyone's.
    bool near = frame >= t.obs.front().frame - p_.detect_every &&
                frame <= t.obs.back().frame + p_.detect_every;
    Box head{};
    if (t.kind == DetectionKind::kPerson) {
      // A group's band of heads grows up and down by the margin of its height, not sideways:
      // it spans the whole blob already, and the margin of its width would reach far past the
      // people at its ends (on the CCTV clip 4.14% altered away with a height's margin
      // sideways, 3.87% without, the same heads masked).
      Box hb = HeadOf(*b);
      if (IsGroup(*b)) {
        int d = static_cast<int>(std::ceil(p_.margin * hb.h));
        hb = {hb.x, hb.y - d, hb.w, hb.h + 2 * d};
      } else {
        hb = Enlarge(hb, p_.margin);
      }
      head = ClipTo(Grow(hb, p_.margin_px), width_, height_);
    }
    Box tight = ClipTo(Grow(Enlarge(*b, p_.margin / 2), p_.margin_px), width_, height_);
    out.push_back({ClipTo(m, width_, height_), t.kind, t.id, t.subject && near, head, tight});
  }
  auto lo = motion_.lower_bound(frame - p_.detect_every - 1);
  auto hi = motion_.upper_bound(frame + p_.detect_every + 1);
  for (auto it = lo; it != hi; ++it) {
    out.push_back({ClipTo(Enlarge(it->second, 0.1), width_, height_), DetectionKind::kMotion, -1,
                   false});
  }
  return out;
}

int Tracker::MarkSubject(int64_t frame, const Box& pick) {
  // The one track the box picks: a face whose centre is inside the box (enlarged a little)
  // and that overlaps it most, the nearer centre on a tie; only when no face is there, the
  // person that overlaps it most. One, not every face in the box: a subject picked while
  // passing someone would otherwise take the other person's face along for the whole video.
  Box wide = Enlarge(pick, 0.2);
  size_t chosen = tracks_.size();
  double best_iou = -1, best_d = 0;
  for (DetectionKind kind : {DetectionKind::kFace, DetectionKind::kPerson}) {
    for (size_t i = 0; i < tracks_.size(); ++i) {
      const Track& t = tracks_[i];
      if (t.kind != kind) continue;
      auto b = TrackBoxAt(t, frame);
      if (!b) continue;
      double iou = IoU(*b, pick), d = CenterDistance(*b, pick);
      bool candidate = kind == DetectionKind::kFace
                           ? CenterInside(*b, wide) && b->area() <= 4 * wide.area()
                           : iou >= 0.3;
      if (candidate && (iou > best_iou || (iou == best_iou && d < best_d))) {
        chosen = i;
        best_iou = iou;
        best_d = d;
      }
    }
    if (chosen != tracks_.size()) break;
  }
  if (chosen == tracks_.size()) return 0;
  tracks_[chosen].subject = true;
  int marked = 1;
  if (tracks_[chosen].kind != DetectionKind::kFace) return marked;
  auto start = TrackBoxAt(tracks_[chosen], frame);
  // Follow the subject from the pick, forwards and backwards, detection by detection. Where
  // the subject's own track has a sighting, that is where the subject is. Where it has none
  // (the face was lost), the face nearest to where the subject last was, of similar size and
  // within reach of its speed, continues it, whichever track that face was linked into, unless
  // that track was seen elsewhere at the same moment as the subject: then it is someone else
  // passing by.
  std::map<int64_t, std::vector<std::pair<size_t, Box>>> faces_at;
  for (size_t i = 0; i < tracks_.size(); ++i) {
    if (tracks_[i].kind != DetectionKind::kFace) continue;
    for (const Observation& o : tracks_[i].obs) faces_at[o.frame].push_back({i, o.box});
  }
  auto seen_elsewhere = [&](size_t candidate) {
    for (const Observation& o : tracks_[candidate].obs) {
      auto at = faces_at.find(o.frame);
      for (const auto& [i, box] : at->second) {
        double size = std::max({box.w, box.h, o.box.w, o.box.h});
        if (i != candidate && tracks_[i].subject && CenterDistance(box, o.box) > size) return true;
      }
    }
    return false;
  };
  auto follow = [&](auto begin, auto end) {
    Box pos = *start;
    int64_t pos_frame = frame;
    size_t current = chosen;
    for (auto it = begin; it != end; ++it) {
      double gap = std::abs(double(it->first - pos_frame));
      if (gap > p_.hold_frames) break;  // lost for too long: the reviewer is told
      const std::pair<size_t, Box>* best = nullptr;
      for (const auto& cand : it->second) {
        if (cand.first == current) best = &cand;
      }
      if (best == nullptr) {
        double size = std::max(pos.w, pos.h);
        double best_dist = LostFaceReach(size, gap);
        for (const auto& cand : it->second) {
          double r = double(cand.second.area()) / double(std::max<int64_t>(1, pos.area()));
          double d = CenterDistance(cand.second, pos);
          if (r > 0.4 && r < 2.5 && d < best_dist && !seen_elsewhere(cand.first)) {
            best = &cand;
            best_dist = d;
          }
        }
      }
      if (best == nullptr) continue;
      if (!tracks_[best->first].subject) {
        tracks_[best->first].subject = true;
        ++marked;
      }
      current = best->first;
      pos = best->second;
      pos_frame = it->first;
    }
  };
  follow(faces_at.lower_bound(frame), faces_at.end());
  follow(std::make_reverse_iterator(faces_at.lower_bound(frame)), faces_at.rend());
  return marked;
}

std::vector<Flag> Tracker::Flags() const {
  std::vector<Flag> out = person_flags_;
  for (const Track& t : tracks_) {
    if (t.kind != DetectionKind::kFace || t.obs.size() < 2) continue;
    for (int64_t f = t.obs.front().frame; f <= t.obs.back().frame + p_.hold_frames; ++f) {
      if (StillDoubt(t, f)) {
        out.push_back({f, "possible face on a still background, not masked"});
      }
    }
    const Observation& last = t.obs.back();
    if (NearEdge(last.box)) continue;  // left the picture: not lost
    for (int64_t f = last.frame + 1; f <= last.frame + p_.hold_frames + p_.post_frames; ++f) {
      out.push_back({f, "track lost"});
    }
  }
  std::sort(out.begin(), out.end(), [](const Flag& a, const Flag& b) { return a.frame < b.frame; });
  return out;
}

int64_t Tracker::doubtful_unlinked() const {
  int64_t n = 0;
  for (const Track& t : tracks_) {
    if (t.kind == DetectionKind::kFace && !t.evidence) n += static_cast<int64_t>(t.obs.size());
  }
  return n;
}

int Tracker::face_tracks() const {
  return static_cast<int>(std::count_if(tracks_.begin(), tracks_.end(),
                                        [](const Track& t) { return t.kind == DetectionKind::kFace; }));
}

int Tracker::person_tracks() const {
  return static_cast<int>(std::count_if(tracks_.begin(), tracks_.end(), [](const Track& t) {
    return t.kind == DetectionKind::kPerson;
  }));
}

}  // namespace custodian::redaction
