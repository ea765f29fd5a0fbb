// KeyframePictures: a camera's newest sampled keyframe pictures, handed from the stream that
// samples them cheaply (its sub stream) to the stream that would pay far more to decode its
// own (the main stream's activity indexer). Why: docs/design/recording.md, "Activity index",
// "The sub stream hand-off".
//
// The sub stream's recorder publishes every picture its indexer samples (a LumaThumb, the
// 64x36 luma picture the grid compares), stamped with the wall time its keyframe is of. The
// main stream's recorder asks at each of its own keyframes for the picture nearest a wall
// time, within a tolerance, and later than the last one it took. Only the newest kCapacity
// pictures are kept: the main stream asks at every keyframe (every GOP) and the sub stream
// samples at most every activity::kGridIntervalUs, so an older one is never wanted. Nothing
// here can fail; a picture that is not there makes the main stream decode its own.
//
// Thread-safety: every method may be called from any thread. The two streams' recorders (two
// camera threads) share one instance through a shared_ptr, so either may outlive the other.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "activity/scoring.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "base/time.h"

namespace custodian::activity {

struct TimedPicture {
  UtcMicros at{};  // the wall time of the keyframe the picture is of
  LumaThumb picture{};
};

class KeyframePictures {
 public:
  static constexpr int kCapacity = 4;

  void Publish(UtcMicros at, const LumaThumb& picture) EXCLUDES(mu_);
  // The picture nearest `at` of those within within_us of it and later than `after` (when
  // given); none when there is no such picture.
  std::optional<TimedPicture> Nearest(UtcMicros at, int64_t within_us,
                                      std::optional<UtcMicros> after) const EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  std::array<TimedPicture, kCapacity> ring_ GUARDED_BY(mu_){};
  int size_ GUARDED_BY(mu_) = 0;
  int next_ GUARDED_BY(mu_) = 0;  // where the next picture goes
};

}  // namespace custodian::activity
