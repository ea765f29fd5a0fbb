// The arithmetic of the activity index, apart from any decoder so that tests can drive it
// with numbers: per-second scores from compressed frame sizes, and the 16x9 motion grid
// from two small luma pictures.
//
// Score: an encoder spends bytes on what changed, so the bytes of a second's inter
// (non-key) frames, above what the same camera spends on a still scene, measure movement.
// The still-scene baseline is the smallest per-second total of the last kBaselineSeconds
// seconds, so it follows noise, night and bitrate settings without configuration.
//
// Grid: each keyframe sampled is reduced to a 64x36 luma picture (4x4 samples per cell);
// a cell changed when any of its 16 samples moved by more than kSampleThreshold levels
// between two sampled keyframes.
//
// Thread-safety: one instance per camera thread.
#pragma once

#include <array>
#include <cstdint>
#include <deque>

#include "activity/activity_file.h"

namespace custodian::activity {

constexpr int kThumbCols = kGridCols * 4;
constexpr int kThumbRows = kGridRows * 4;
constexpr int kSampleThreshold = 24;
constexpr int kBaselineSeconds = 60;
// A second at or above this score counts as activity for "next activity" and the strip.
constexpr int kActiveScore = 16;

using LumaThumb = std::array<uint8_t, kThumbCols * kThumbRows>;

// Cells whose samples differ by more than kSampleThreshold between before and after.
ActivityGrid GridDiff(const LumaThumb& before, const LumaThumb& after);

// Reduces a luma plane to a LumaThumb by averaging a few points in each sample's block.
void ReduceLuma(const uint8_t* plane, int stride, int width, int height, LumaThumb* out);

class FrameSizeScorer {
 public:
  // Score (0..255) of one second whose inter frames came to `inter_bytes`, then that
  // second joins the baseline window.
  uint8_t ScoreSecond(int64_t inter_bytes);

 private:
  std::deque<int64_t> window_;
};

}  // namespace custodian::activity
