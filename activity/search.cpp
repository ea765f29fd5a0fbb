#include "activity/search.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "activity/scoring.h"

namespace custodian::activity {

namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr size_t kMaxRegions = 8;

bool ParseFraction(const std::string& s, double* out) {
  if (s.empty() || s.size() > 12) return false;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v) || v < 0 || v > 1) return false;
  *out = v;
  return true;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t begin = 0;
  for (;;) {
    const size_t at = s.find(sep, begin);
    parts.push_back(s.substr(begin, at == std::string::npos ? std::string::npos : at - begin));
    if (at == std::string::npos) return parts;
    begin = at + 1;
  }
}

// The second of [first, end) with the highest score (the first of equals).
int64_t PeakSecond(const std::vector<uint8_t>& scores, int64_t first, int64_t end) {
  int64_t best = first;
  for (int64_t s = first; s < end && s < static_cast<int64_t>(scores.size()); ++s)
    if (scores[s] > scores[best]) best = s;
  return best;
}

}  // namespace

Result<std::vector<Region>> ParseRegions(const std::string& text) {
  std::vector<Region> regions;
  if (text.empty()) return InvalidArgument("regions: draw at least one box");
  for (const std::string& box : Split(text, ';')) {
    const std::vector<std::string> v = Split(box, ',');
    Region r;
    if (v.size() != 4 || !ParseFraction(v[0], &r.x0) || !ParseFraction(v[1], &r.y0) ||
        !ParseFraction(v[2], &r.x1) || !ParseFraction(v[3], &r.y1)) {
      return InvalidArgument("regions: each box is x0,y0,x1,y1 in fractions 0 to 1");
    }
    if (r.x1 <= r.x0 || r.y1 <= r.y0) return InvalidArgument("regions: a box has no area");
    regions.push_back(r);
    if (regions.size() > kMaxRegions) return InvalidArgument("regions: at most 8 boxes");
  }
  return regions;
}

ActivityGrid RegionMask(const std::vector<Region>& regions) {
  ActivityGrid mask;
  for (const Region& r : regions) {
    const int c0 = std::clamp(static_cast<int>(std::floor(r.x0 * kGridCols)), 0, kGridCols - 1);
    const int c1 = std::clamp(static_cast<int>(std::ceil(r.x1 * kGridCols)), c0 + 1, kGridCols);
    const int r0 = std::clamp(static_cast<int>(std::floor(r.y0 * kGridRows)), 0, kGridRows - 1);
    const int r1 = std::clamp(static_cast<int>(std::ceil(r.y1 * kGridRows)), r0 + 1, kGridRows);
    for (int row = r0; row < r1; ++row)
      for (int col = c0; col < c1; ++col) mask.Set(col, row);
  }
  return mask;
}

std::vector<Moment> FindMoments(const std::vector<PlacedActivity>& indexes,
                                const ActivityGrid& mask, UtcMicros from, UtcMicros to,
                                size_t limit) {
  std::vector<Moment> found;
  for (const PlacedActivity& p : indexes) {
    for (const GridSpan& g : p.activity.grids) {
      if (!g.cells.Intersects(mask)) continue;
      Moment m;
      m.start = std::max(from, p.start + g.first_second * kSecond);
      m.end = std::min(to, p.start + g.end_second * kSecond);
      if (m.end <= m.start) continue;
      const int64_t first = (m.start - p.start) / kSecond;
      const int64_t end = (m.end - p.start + kSecond - 1) / kSecond;
      const int64_t peak = PeakSecond(p.activity.scores, first, end);
      m.peak = std::max(m.start, p.start + peak * kSecond);
      m.score = peak < static_cast<int64_t>(p.activity.scores.size()) ? p.activity.scores[peak] : 0;
      m.segment_id = p.segment_id;
      found.push_back(m);
    }
  }
  std::sort(found.begin(), found.end(),
            [](const Moment& a, const Moment& b) { return a.start < b.start; });
  std::vector<Moment> joined;
  for (const Moment& m : found) {
    if (!joined.empty() && m.start - joined.back().end < kJoinUs) {
      Moment& last = joined.back();
      last.end = std::max(last.end, m.end);
      if (m.score > last.score) {
        last.score = m.score;
        last.peak = m.peak;
        last.segment_id = m.segment_id;
      }
      continue;
    }
    joined.push_back(m);
  }
  std::reverse(joined.begin(), joined.end());
  if (joined.size() > limit) joined.resize(limit);
  return joined;
}

std::vector<Moment> ActiveRuns(const std::vector<PlacedActivity>& indexes, UtcMicros from,
                               UtcMicros to, size_t limit) {
  std::vector<Moment> runs;
  for (const PlacedActivity& p : indexes) {
    for (size_t s = 0; s < p.activity.scores.size(); ++s) {
      const int score = p.activity.scores[s];
      const UtcMicros at = p.start + static_cast<int64_t>(s) * kSecond;
      if (score < kActiveScore || at < from || at >= to) continue;
      if (!runs.empty() && at - runs.back().end < kJoinUs && at >= runs.back().start) {
        Moment& last = runs.back();
        last.end = std::max(last.end, at + kSecond);
        if (score > last.score) {
          last.score = score;
          last.peak = at;
          last.segment_id = p.segment_id;
        }
        continue;
      }
      if (runs.size() == limit) return runs;
      runs.push_back({at, at + kSecond, at, score, p.segment_id});
    }
  }
  return runs;
}

std::vector<int> ActivityStrip(const std::vector<PlacedActivity>& indexes, UtcMicros from,
                               UtcMicros to, int buckets) {
  std::vector<int> strip(static_cast<size_t>(std::max(buckets, 0)), -1);
  const int64_t span = to - from;
  if (buckets <= 0 || span <= 0) return strip;
  for (const PlacedActivity& p : indexes) {
    for (size_t s = 0; s < p.activity.scores.size(); ++s) {
      const UtcMicros at = p.start + static_cast<int64_t>(s) * kSecond;
      if (at < from || at >= to) continue;
      const size_t b = static_cast<size_t>(static_cast<__int128>(at - from) * buckets / span);
      strip[b] = std::max(strip[b], int{p.activity.scores[s]});
    }
  }
  return strip;
}

}  // namespace custodian::activity
