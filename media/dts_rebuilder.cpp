#include "media/dts_rebuilder.h"

#include <algorithm>
#include <functional>

namespace custodian::media {

namespace {
// The frame interval assumed until two frames show it: 25 fps.
constexpr int64_t kDefaultFramesPerSecond = 25;
}  // namespace

DtsRebuilder::DtsRebuilder(int64_t ticks_per_second, int64_t discontinuity_ticks)
    : ticks_per_second_(ticks_per_second > 0 ? ticks_per_second : 90000),
      discontinuity_(discontinuity_ticks > 0 ? discontinuity_ticks : 10 * ticks_per_second_) {}

void DtsRebuilder::SetReorderDepth(int depth) {
  if (depth < 0) return;
  depth_known_ = true;
  depth_ = std::max(depth_, std::min(depth, kMaxReorderDepth));
  if (!started_ && held_.size() > HoldTarget()) Release();
}

// Frames held before the first are released: with a known depth D, 2D + 1, which shows
// the frame interval even in a pyramid (the first D + 1 of I0 P4 B2 b1 b3 span two
// intervals at a time); otherwise enough to learn the depth from.
size_t DtsRebuilder::HoldTarget() const {
  return static_cast<size_t>(depth_known_ ? 2 * depth_ : kLearnFrames);
}

void DtsRebuilder::Push(AVPacket* in) {
  // Packet shells are reused: no allocation per frame once the first few have passed.
  Packet pkt;
  if (spare_.empty()) {
    pkt = MakePacket();
  } else {
    pkt = std::move(spare_.back());
    spare_.pop_back();
  }
  av_packet_move_ref(pkt.get(), in);
  if (pkt->pts == AV_NOPTS_VALUE) {
    ready_.push_back(std::move(pkt));
    return;
  }
  ++counters_.frames;
  int64_t pts = pkt->pts + offset_;
  if (started_ && (pts - max_pts_ >= discontinuity_ || max_pts_ - pts >= discontinuity_)) {
    started_ = false;  // a new timeline: the frames placed so far keep theirs
    pending_.clear();
  }
  if (!started_) {
    pkt->pts = pts;
    Hold(std::move(pkt));
    return;
  }
  if (pts <= last_dts_) {
    if (last_dts_ - pts > kMaxReorderDepth * step_) {
      // Too far back for reordering: the camera's clock stepped back. Continue the
      // timeline one frame after the latest picture rather than cut or drop.
      offset_ += max_pts_ + step_ - pts;
      pts = max_pts_ + step_;
      ++counters_.rebased;
    } else {
      // Reordered deeper than assumed: its presentation time has passed on the decode
      // timeline. Show it right after the frame decoded before it, and let the
      // timeline lag one frame more from here on.
      ++counters_.depth_raised;
      ++counters_.retimed;
      depth_ = std::min(depth_ + 1, kMaxReorderDepth);
      pkt->pts = last_dts_ + 1;
      Emit(std::move(pkt), last_dts_ + 1);
      return;
    }
  }
  pkt->pts = pts;
  Place(std::move(pkt));
}

void DtsRebuilder::Hold(Packet pkt) {
  pending_.push_back(pkt->pts);
  std::push_heap(pending_.begin(), pending_.end(), std::greater<>());
  held_.push_back(std::move(pkt));
  // Learning holds at most a second of pictures, whatever the frame rate: a 2 fps camera
  // would otherwise wait 8 s before its first frame is written.
  bool learned_enough = false;
  if (!depth_known_) {
    const auto [lo, hi] = std::minmax_element(held_.begin(), held_.end(),
                                              [](const Packet& a, const Packet& b) {
                                                return a->pts < b->pts;
                                              });
    learned_enough = (*hi)->pts - (*lo)->pts >= ticks_per_second_;
  }
  if (held_.size() > HoldTarget() || learned_enough) Release();
}

// Gives the held frames their decode times and starts placing frames as they come.
void DtsRebuilder::Release() {
  // The deepest reordering among the held frames: learned when the SPS did not say, and
  // a stream that reorders deeper than its SPS allows is timed by what it does.
  int observed = 0;
  for (size_t i = 0; i < held_.size(); ++i) {
    int later = 0;
    for (size_t j = 0; j < i; ++j) later += held_[j]->pts > held_[i]->pts ? 1 : 0;
    observed = std::max(observed, later);
  }
  if (observed > depth_) {
    if (depth_known_) counters_.depth_raised += observed - depth_;
    depth_ = std::min(observed, kMaxReorderDepth);
  }
  std::vector<int64_t> sorted = std::move(pending_);
  pending_.clear();
  std::sort(sorted.begin(), sorted.end());
  int64_t step = 0;
  for (size_t i = 1; i < sorted.size(); ++i) {
    const int64_t d = sorted[i] - sorted[i - 1];
    if (d > 0 && (step == 0 || d < step)) step = d;
  }
  if (step > 0) step_ = step;
  if (step_ <= 0) step_ = ticks_per_second_ / kDefaultFramesPerSecond;

  const size_t n = held_.size();
  const size_t depth = static_cast<size_t>(depth_);
  // The values not used here stay pending: the depth largest.
  const size_t used = n > depth ? n - depth : 0;
  pending_.assign(sorted.begin() + static_cast<std::ptrdiff_t>(used), sorted.end());
  std::make_heap(pending_.begin(), pending_.end(), std::greater<>());
  max_pts_ = sorted.empty() ? 0 : sorted.back();
  started_ = true;
  ++counters_.timelines;
  std::deque<Packet> held = std::move(held_);
  held_.clear();
  for (size_t i = 0; i < n; ++i) {
    int64_t dts = i >= depth ? sorted[i - depth]
                             : sorted[0] - static_cast<int64_t>(depth - i) * step_;
    if (i > 0 && dts <= last_dts_) dts = last_dts_ + 1;  // equal timestamps
    if (dts > held[i]->pts) {
      held[i]->pts = dts;
      ++counters_.retimed;
    }
    Emit(std::move(held[i]), dts);
  }
}

void DtsRebuilder::Place(Packet pkt) {
  const int64_t pts = pkt->pts;
  pending_.push_back(pts);
  std::push_heap(pending_.begin(), pending_.end(), std::greater<>());
  max_pts_ = std::max(max_pts_, pts);
  // After the depth was raised, decode times step one tick at a time until the timeline
  // lags by the new depth.
  int64_t dts = last_dts_ + 1;
  if (static_cast<int>(pending_.size()) > depth_) {
    dts = PopSmallest();
    if (dts - last_dts_ > 0 && dts - last_dts_ < discontinuity_) step_ = dts - last_dts_;
    if (dts <= last_dts_) dts = last_dts_ + 1;  // equal timestamps
  }
  if (dts > pts) {
    pkt->pts = dts;
    ++counters_.retimed;
  }
  Emit(std::move(pkt), dts);
}

void DtsRebuilder::Emit(Packet pkt, int64_t dts) {
  pkt->dts = dts;
  // Arrival-order intervals mean nothing with reordering; the frame interval does.
  pkt->duration = step_;
  last_dts_ = dts;
  ready_.push_back(std::move(pkt));
}

int64_t DtsRebuilder::PopSmallest() {
  std::pop_heap(pending_.begin(), pending_.end(), std::greater<>());
  const int64_t v = pending_.back();
  pending_.pop_back();
  return v;
}

bool DtsRebuilder::Pop(AVPacket* out) {
  if (ready_.empty()) return false;
  av_packet_unref(out);
  av_packet_move_ref(out, ready_.front().get());
  spare_.push_back(std::move(ready_.front()));
  ready_.pop_front();
  return true;
}

void DtsRebuilder::Flush() {
  if (!started_ && !held_.empty()) Release();
}

std::string DtsRebuilder::untimed_note() const {
  if (counters_.retimed == 0 && counters_.rebased == 0) return "";
  std::string note = "the camera's timestamps could not all be used as sent: ";
  if (counters_.retimed > 0)
    note += std::to_string(counters_.retimed) + " frames came later than a reorder depth of " +
            std::to_string(depth_) + " allows and are shown just after the frame before them";
  if (counters_.retimed > 0 && counters_.rebased > 0) note += "; ";
  if (counters_.rebased > 0)
    note += "the camera's clock stepped back " + std::to_string(counters_.rebased) +
            " times and the recording continues from the latest frame";
  return note + "; every frame was kept";
}

}  // namespace custodian::media
