#include "activity/scoring.h"

#include <algorithm>
#include <cstdlib>

namespace custodian::activity {

namespace {
// Bytes above the baseline that make a full score, relative to the baseline (three times
// the still scene) but never less than 4 KiB, so a near-empty baseline is not amplified.
int64_t FullScale(int64_t baseline) { return std::max<int64_t>(3 * baseline, 4096); }
}  // namespace

ActivityGrid GridDiff(const LumaThumb& before, const LumaThumb& after) {
  ActivityGrid g;
  for (int y = 0; y < kThumbRows; ++y) {
    for (int x = 0; x < kThumbCols; ++x) {
      const int i = y * kThumbCols + x;
      if (std::abs(int{before[i]} - int{after[i]}) > kSampleThreshold) g.Set(x / 4, y / 4);
    }
  }
  return g;
}

void ReduceLuma(const uint8_t* plane, int stride, int width, int height, LumaThumb* out) {
  // Four points per sample block (its quarter points) are enough at this size; reading
  // every pixel of a 1080p picture would cost more than the decode saved.
  for (int y = 0; y < kThumbRows; ++y) {
    for (int x = 0; x < kThumbCols; ++x) {
      int sum = 0;
      for (int k = 0; k < 4; ++k) {
        const int px = (4 * x + 1 + 2 * (k & 1)) * width / (4 * kThumbCols);
        const int py = (4 * y + 1 + 2 * (k >> 1)) * height / (4 * kThumbRows);
        sum += plane[static_cast<int64_t>(py) * stride + px];
      }
      (*out)[y * kThumbCols + x] = static_cast<uint8_t>(sum / 4);
    }
  }
}

uint8_t FrameSizeScorer::ScoreSecond(int64_t inter_bytes) {
  window_.push_back(inter_bytes);
  if (window_.size() > static_cast<size_t>(kBaselineSeconds)) window_.pop_front();
  const int64_t baseline = *std::min_element(window_.begin(), window_.end());
  // A quarter above the baseline is still noise (exposure, compression jitter).
  const int64_t excess = inter_bytes - baseline - baseline / 4;
  if (excess <= 0) return 0;
  return static_cast<uint8_t>(std::min<int64_t>(255, excess * 255 / FullScale(baseline)));
}

}  // namespace custodian::activity
