#include "redaction/tracker.h"

#include <algorithm>
#include <cmath>

namespace custodian::redaction {
namespace {

double CenterDistance(const Box& a, const Box& b) {
  double dx = (a.x + a.w / 2.0) - (b.x + b.w / 2.0);
  double dy = (a.y + a.h / 2.0) - (b.y + b.h / 2.0);
  return std::hypot(dx, dy);
}

Box Union(const Box& a, const Box& b) {
  int x0 = std::min(a.x, b.x), y0 = std::min(a.y, b.y);
  return {x0, y0, std::max(a.right(), b.right()) - x0, std::max(a.bottom(), b.bottom()) - y0};
}

Box Grow(const Box& b, double by) {
  int d = static_cast<int>(std::ceil(by));
  return {b.x - d, b.y - d, b.w + 2 * d, b.h + 2 * d};
}

bool CenterInside(const Box& inner, const Box& outer) {
  int cx = inner.x + inner.w / 2, cy = inner.y + inner.h / 2;
  return cx >= outer.x && cx < outer.right() && cy >= outer.y && cy < outer.bottom();
}

}  // namespace

Tracker::Tracker(const DetectionParams& params, int width, int height)
    : p_(params), width_(width), height_(height) {
  // A face only the full scans see must live until the next full scan.
  p_.hold_frames = std::max(p_.hold_frames, p_.full_scan_every + p_.detect_every);
}

int Tracker::Lookahead() const { return std::max(p_.detect_every, p_.pre_frames) + 1; }

bool Tracker::Alive(const Track& t, int64_t frame) const {
  return t.obs.back().frame >= frame - p_.hold_frames;
}

bool Tracker::NearEdge(const Box& b) const {
  int m = std::max(8, std::max(b.w, b.h) / 2);
  return b.x < m || b.y < m || b.right() > width_ - m || b.bottom() > height_ - m;
}

void Tracker::Add(int64_t frame, const std::vector<Detection>& detections) {
  for (DetectionKind kind : {DetectionKind::kFace, DetectionKind::kPerson}) {
    std::vector<const Detection*> dets;
    for (const Detection& d : detections) {
      if (d.kind == kind) dets.push_back(&d);
    }
    // Greedy association by distance between each detection and each live track's box.
    struct Pair {
      double dist;
      size_t det, track;
    };
    std::vector<Pair> pairs;
    for (size_t i = 0; i < dets.size(); ++i) {
      for (size_t t = 0; t < tracks_.size(); ++t) {
        const Track& tr = tracks_[t];
        if (tr.kind != kind || !Alive(tr, frame) || tr.obs.back().frame >= frame) continue;
        auto predicted = TrackBoxAt(tr, frame);
        if (!predicted) continue;
        double dist = CenterDistance(*predicted, dets[i]->box);
        double size = std::max({tr.obs.back().box.w, tr.obs.back().box.h, 1});
        // A face that moves on while undetected is looked for where its speed takes it.
        double reach = 0.75 * size;
        if (tr.obs.size() > 1) {
          const Observation& a = tr.obs[tr.obs.size() - 2];
          const Observation& b = tr.obs.back();
          double speed = CenterDistance(a.box, b.box) / double(std::max<int64_t>(1, b.frame - a.frame));
          reach = std::max(reach, 0.5 * size + speed * double(frame - b.frame));
        }
        // Similar size, and overlapping or near: a large false detection must not take
        // over a face's track.
        double ratio = static_cast<double>(dets[i]->box.area()) /
                       static_cast<double>(std::max<int64_t>(1, tr.obs.back().box.area()));
        bool similar = ratio > 0.4 && ratio < 2.5;
        if (similar && (IoU(*predicted, dets[i]->box) >= 0.1 || dist < reach)) {
          pairs.push_back({dist, i, t});
        }
      }
    }
    std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.dist < b.dist; });
    std::vector<bool> det_used(dets.size(), false), track_used(tracks_.size(), false);
    for (const Pair& pr : pairs) {
      if (det_used[pr.det] || track_used[pr.track]) continue;
      det_used[pr.det] = track_used[pr.track] = true;
      tracks_[pr.track].obs.push_back({frame, dets[pr.det]->box});
    }
    for (size_t i = 0; i < dets.size(); ++i) {
      if (!det_used[i]) tracks_.push_back({next_id_++, kind, {{frame, dets[i]->box}}, false});
    }
  }
  for (const Detection& d : detections) {
    if (d.kind == DetectionKind::kMotion) motion_.emplace(frame, d.box);
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
  const auto& obs = t.obs;
  const Observation& first = obs.front();
  const Observation& last = obs.back();
  // Speed from the last two detections, in pixels per frame; at least 2% of the box's size
  // per frame so that a held mask grows while nothing is known.
  auto growth = [&](const Observation& a, const Observation& b) {
    double size = std::max(a.box.w, a.box.h);
    double v = 0;
    if (b.frame != a.frame) v = CenterDistance(a.box, b.box) / std::abs(double(b.frame - a.frame));
    return std::max(v, 0.02 * size);
  };
  // A held box grows at most to three times its size: beyond that it hides the scene more
  // than it protects (the track is flagged as lost for review instead).
  auto grow = [](const Box& b, double by) {
    return Grow(b, std::min(by, static_cast<double>(std::max(b.w, b.h))));
  };
  if (frame < first.frame) {
    if (first.frame - frame > p_.pre_frames) return std::nullopt;
    const Observation& next = obs.size() > 1 ? obs[1] : first;
    return grow(first.box, growth(first, next) * double(first.frame - frame));
  }
  if (frame > last.frame) {
    if (frame - last.frame > p_.hold_frames + p_.post_frames) return std::nullopt;
    const Observation& prev = obs.size() > 1 ? obs[obs.size() - 2] : last;
    return grow(last.box, growth(prev, last) * double(frame - last.frame));
  }
  auto it = std::lower_bound(obs.begin(), obs.end(), frame,
                             [](const Observation& o, int64_t f) { return o.frame < f; });
  if (it->frame == frame) return it->box;
  // Between two detections the mask covers both: detectors' boxes jitter from one frame to
  // the next, and a face between two sightings is somewhere between them.
  const Observation& b = *it;
  const Observation& a = *(it - 1);
  return Union(a.box, b.box);
}

std::vector<Detection> Tracker::LiveBoxes(int64_t frame) const {
  std::vector<Detection> out;
  for (const Track& t : tracks_) {
    if (Alive(t, frame)) out.push_back({t.obs.back().box, t.kind});
  }
  return out;
}

std::vector<MaskBoxAt> Tracker::BoxesAt(int64_t frame) const {
  std::vector<MaskBoxAt> out;
  for (const Track& t : tracks_) {
    if (frame < t.obs.front().frame - p_.pre_frames) continue;
    auto b = TrackBoxAt(t, frame);
    if (!b) continue;
    // Small boxes are the least precise: at least margin_px more on every side.
    Box m = Grow(Enlarge(*b, p_.margin), p_.margin_px);
    // The subject is kept visible only near its detections: a held box grows to cover where
    // a lost face may be, which for the subject would uncover the people around it. Past
    // that the subject's box is masked like anyone's.
    bool near = frame >= t.obs.front().frame - p_.detect_every &&
                frame <= t.obs.back().frame + p_.detect_every;
    out.push_back({ClipTo(m, width_, height_), t.kind, t.id, t.subject && near});
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
  int marked = 0;
  Box wide = Enlarge(pick, 0.2);
  for (Track& t : tracks_) {
    auto b = TrackBoxAt(t, frame);
    if (!b) continue;
    bool picked = t.kind == DetectionKind::kFace
                      ? CenterInside(*b, wide) && b->area() <= 4 * wide.area()
                      : IoU(*b, pick) >= 0.3;
    if (picked && !t.subject) {
      t.subject = true;
      ++marked;
    }
  }
  // Follow the subject from the pick, forwards and backwards, detection by detection: at
  // each detection frame the face nearest to where the subject last was (of similar size,
  // within reach of its speed) is the subject, whichever track it was linked into.
  std::map<int64_t, std::vector<std::pair<size_t, Box>>> faces_at;
  for (size_t i = 0; i < tracks_.size(); ++i) {
    if (tracks_[i].kind != DetectionKind::kFace) continue;
    for (const Observation& o : tracks_[i].obs) faces_at[o.frame].push_back({i, o.box});
  }
  std::optional<Box> start;
  for (const Track& t : tracks_) {
    if (t.subject && t.kind == DetectionKind::kFace) start = TrackBoxAt(t, frame);
  }
  if (!start) return marked;
  auto follow = [&](auto begin, auto end) {
    Box pos = *start;
    int64_t pos_frame = frame;
    for (auto it = begin; it != end; ++it) {
      double gap = std::abs(double(it->first - pos_frame));
      if (gap > p_.hold_frames) break;  // lost for too long: the reviewer is told
      double size = std::max(pos.w, pos.h);
      double reach = 0.75 * size + 0.1 * size * gap;
      const std::pair<size_t, Box>* best = nullptr;
      double best_d = reach;
      for (const auto& cand : it->second) {
        double r = double(cand.second.area()) / double(std::max<int64_t>(1, pos.area()));
        double d = CenterDistance(cand.second, pos);
        if (r > 0.4 && r < 2.5 && d < best_d) {
          best = &cand;
          best_d = d;
        }
      }
      if (!best) continue;
      if (!tracks_[best->first].subject) {
        tracks_[best->first].subject = true;
        ++marked;
      }
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
    const Observation& last = t.obs.back();
    if (NearEdge(last.box)) continue;  // left the picture: not lost
    for (int64_t f = last.frame + 1; f <= last.frame + p_.hold_frames + p_.post_frames; ++f) {
      out.push_back({f, "track lost"});
    }
  }
  std::sort(out.begin(), out.end(), [](const Flag& a, const Flag& b) { return a.frame < b.frame; });
  return out;
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
