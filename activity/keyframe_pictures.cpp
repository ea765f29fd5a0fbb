#include "activity/keyframe_pictures.h"

#include <cstdlib>

namespace custodian::activity {

void KeyframePictures::Publish(UtcMicros at, const LumaThumb& picture) {
  MutexLock l(mu_);
  ring_[next_] = {at, picture};
  next_ = (next_ + 1) % kCapacity;
  if (size_ < kCapacity) ++size_;
}

std::optional<TimedPicture> KeyframePictures::Nearest(UtcMicros at, int64_t within_us,
                                                      std::optional<UtcMicros> after) const {
  MutexLock l(mu_);
  const TimedPicture* best = nullptr;
  for (int i = 0; i < size_; ++i) {
    const TimedPicture& p = ring_[i];
    const int64_t distance = std::llabs(p.at - at);
    if (distance > within_us || (after && p.at <= *after)) continue;
    if (!best || distance < std::llabs(best->at - at)) best = &p;
  }
  if (!best) return std::nullopt;
  return *best;
}

}  // namespace custodian::activity
