// Questions asked of activity indexes: where activity was (the review page's heat strip and
// its "next activity"), and when something moved inside chosen boxes of the picture
// (search by region). Pure functions over decoded indexes; the API reads the files (as
// footage access) and hands them here.
//
// Thread-safety: free functions; no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "activity/activity_file.h"
#include "base/clock.h"
#include "base/status.h"

namespace custodian::activity {

// A box on the picture in fractions of its width and height, 0 at the top left.
struct Region {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

// "x0,y0,x1,y1;x0,y0,x1,y1" (fractions, at most 8 boxes): kInvalidArgument when a box is
// malformed, empty, outside 0..1 or there are none.
Result<std::vector<Region>> ParseRegions(const std::string& text);
// The grid cells any box touches.
ActivityGrid RegionMask(const std::vector<Region>& regions);

// One segment's index placed in time.
struct PlacedActivity {
  int64_t segment_id = 0;
  UtcMicros start;
  SegmentActivity activity;
};

// A stretch of time with movement inside the mask: from `start` to `end`, busiest at
// `peak` (the second to show and to play from), with that second's score.
struct Moment {
  UtcMicros start;
  UtcMicros end;
  UtcMicros peak;
  int score = 0;
  int64_t segment_id = 0;
};

// Moments inside [from, to) whose grid meets the mask, joined when less than kJoinUs
// apart, newest first, at most `limit`.
constexpr int64_t kJoinUs = 10'000'000;
std::vector<Moment> FindMoments(const std::vector<PlacedActivity>& indexes,
                                const ActivityGrid& mask, UtcMicros from, UtcMicros to,
                                size_t limit);

// Stretches of seconds scoring at least kActiveScore, joined when less than kJoinUs apart,
// oldest first, at most `limit`: where "next activity" and "previous activity" jump to.
std::vector<Moment> ActiveRuns(const std::vector<PlacedActivity>& indexes, UtcMicros from,
                               UtcMicros to, size_t limit);

// Per-bucket activity for the heat strip: the highest score of any second in each of
// `buckets` equal slices of [from, to); -1 where no index covers the slice.
std::vector<int> ActivityStrip(const std::vector<PlacedActivity>& indexes, UtcMicros from,
                               UtcMicros to, int buckets);

}  // namespace custodian::activity
