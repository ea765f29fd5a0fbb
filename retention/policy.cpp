#include "retention/policy.h"

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "config/camera_config.h"

namespace custodian::retention {

namespace {

using records::DeletionRule;

// Active hold ranges per camera, merged into sorted disjoint half-open intervals so that
// "does any hold overlap [start, end)" is one binary search. Only strictly overlapping
// ranges are merged: [a, b) and [b, c) stay apart, so the answer matches the records'
// own test (from < end AND to > start) even for a zero-length segment at b.
class HoldIndex {
 public:
  HoldIndex(const std::vector<CameraLimits>& cameras, const std::vector<records::HoldRow>& holds) {
    std::unordered_map<std::string, uint32_t> index;
    for (uint32_t i = 0; i < cameras.size(); ++i) index.emplace(cameras[i].camera_id, i);
    by_camera_.resize(cameras.size());
    for (const records::HoldRow& h : holds) {
      if (h.released) continue;
      for (const records::HoldRange& r : h.ranges) {
        if (!(r.from < r.to)) continue;
        // A hold on a camera holds its sub stream too: the same picture, smaller.
        for (const std::string& id : {r.camera_id, config::SubStreamId(r.camera_id)}) {
          auto it = index.find(id);
          if (it != index.end()) by_camera_[it->second].push_back({r.from, r.to});
        }
      }
    }
    for (auto& ranges : by_camera_) Merge(&ranges);
  }

  bool Covers(uint32_t camera, UtcMicros start, UtcMicros end) const {
    const auto& ranges = by_camera_[camera];
    // The first interval that ends after start is the only one that can overlap.
    auto it = std::upper_bound(ranges.begin(), ranges.end(), start,
                               [](UtcMicros t, const Interval& r) { return t < r.to; });
    return it != ranges.end() && it->from < end;
  }

 private:
  struct Interval {
    UtcMicros from;
    UtcMicros to;
  };
  static void Merge(std::vector<Interval>* ranges) {
    std::sort(ranges->begin(), ranges->end(),
              [](const Interval& a, const Interval& b) { return a.from < b.from; });
    std::vector<Interval> merged;
    for (const Interval& r : *ranges) {
      if (!merged.empty() && r.from < merged.back().to) {
        merged.back().to = std::max(merged.back().to, r.to);
      } else {
        merged.push_back(r);
      }
    }
    *ranges = std::move(merged);
  }
  std::vector<std::vector<Interval>> by_camera_;
};

// Per-segment state shared by the rules.
class Planner {
 public:
  explicit Planner(PolicyInput& in)
      : in_(in),
        holds_(in.cameras, in.holds),
        planned_(in.segments.size(), 0),
        groups_(in.cameras.size() * kRules) {
    leased_ = in.leased;
    std::sort(leased_.begin(), leased_.end());
    held_.resize(in.segments.size(), 0);
    for (size_t i = 0; i < in.segments.size(); ++i) {
      const SegmentInfo& s = in.segments[i];
      if (!holds_.Covers(s.camera, s.start, s.end)) continue;
      held_[i] = 1;
      ++plan_.held_segments;
      plan_.held_bytes += s.bytes;
    }
  }

  void MaxAge() {
    for (size_t i = 0; i < in_.segments.size(); ++i) {
      const SegmentInfo& s = in_.segments[i];
      if (!ReachedMaxAge(s.end, in_.now, in_.cameras[s.camera].max_age_us)) continue;
      if (held_[i]) {
        ++plan_.expired_but_held;
        continue;
      }
      Take(i, DeletionRule::kMaxAge);
    }
  }

  // The camera's unheld footage beyond its quota, oldest first. Held footage does not
  // count against the quota, so placing a hold never pushes out a camera's newer footage.
  void Quota() {
    std::vector<int64_t> excess(in_.cameras.size(), 0);
    bool any = false;
    for (size_t c = 0; c < in_.cameras.size(); ++c) {
      if (in_.cameras[c].quota_bytes) {
        excess[c] = -*in_.cameras[c].quota_bytes;
        any = true;
      }
    }
    if (!any) return;
    for (size_t i = 0; i < in_.segments.size(); ++i) {
      if (!planned_[i] && !held_[i]) excess[in_.segments[i].camera] += in_.segments[i].bytes;
    }
    for (size_t i = 0; i < in_.segments.size(); ++i) {
      const SegmentInfo& s = in_.segments[i];
      if (!in_.cameras[s.camera].quota_bytes || excess[s.camera] <= 0) continue;
      if (planned_[i] || held_[i]) continue;
      if (Take(i, DeletionRule::kQuota)) excess[s.camera] -= s.bytes;
    }
  }

  void DiskPressure() {
    const DiskSpace& d = in_.disk;
    if (d.total_bytes == 0 || d.free_bytes > d.total_bytes) return;
    using Wide = __int128;
    const Wide total = d.total_bytes;
    const Wide used = total - d.free_bytes;
    if (used * 100 <= total * in_.high_watermark_percent) return;
    plan_.above_high_watermark = true;
    const Wide target = total * in_.low_watermark_percent / 100;
    plan_.bytes_to_free = static_cast<int64_t>(used - target);
    Wide need = used - target - plan_.segment_bytes - plan_.export_bytes;
    for (size_t i = 0; i < in_.segments.size() && need > 0; ++i) {
      if (planned_[i] || held_[i]) continue;
      if (Take(i, DeletionRule::kDiskPressure)) need -= in_.segments[i].bytes;
    }
    const Wide after = used - plan_.segment_bytes - plan_.export_bytes;
    if (after * 100 > total * in_.high_watermark_percent) {
      plan_.disk_full = "disk " + std::to_string(static_cast<int>(after * 100 / total)) +
                        "% used after deleting all unheld footage that may go (high watermark " +
                        std::to_string(in_.high_watermark_percent) + "%); " +
                        std::to_string(plan_.held_segments) + " held segment(s), " +
                        std::to_string(plan_.held_bytes) + " bytes, and " +
                        std::to_string(plan_.deferred_by_lease) +
                        " segment(s) being read remain; nothing held is deleted";
    }
  }

  void Exports() {
    for (const records::ExportExpiryRow& e : in_.exports) {
      if (e.expiring || ExportExpiryTime(e, in_.export_expiry_us) > in_.now) continue;
      if (ExportHeld(e)) {
        ++plan_.exports_held;
        continue;
      }
      plan_.exports.push_back(e.id);
      plan_.export_bytes += e.bytes;
    }
  }

  void FlagHolds() {
    for (const records::HoldRow& h : in_.holds) {
      if (!h.released && h.review <= in_.now) plan_.holds_due_for_review.push_back(h.id);
    }
  }

  DeletionPlan Finish() {
    for (PlanGroup& g : groups_) {
      if (g.segments > 0) plan_.groups.push_back(std::move(g));
    }
    return std::move(plan_);
  }

 private:
  // Plans segment i under rule unless a reader has it; returns whether it was planned.
  bool Take(size_t i, DeletionRule rule) {
    const SegmentInfo& s = in_.segments[i];
    if (std::binary_search(leased_.begin(), leased_.end(), s.id)) {
      if (deferred_.insert(s.id).second) ++plan_.deferred_by_lease;
      return false;
    }
    planned_[i] = 1;
    plan_.segments.push_back({s.id, rule});
    plan_.segment_bytes += s.bytes;
    PlanGroup& g = groups_[s.camera * kRules + static_cast<size_t>(rule)];
    if (g.segments == 0) {
      g = {in_.cameras[s.camera].camera_id, rule, 0, 0, s.start, s.end};
    }
    ++g.segments;
    g.bytes += s.bytes;
    g.from = std::min(g.from, s.start);
    g.to = std::max(g.to, s.end);
    return true;
  }

  bool ExportHeld(const records::ExportExpiryRow& e) const {
    for (const records::HoldRow& h : in_.holds) {
      if (h.released) continue;
      if (h.request_id && *h.request_id == e.request_id) return true;
      for (const records::HoldRange& hr : h.ranges) {
        for (const records::HoldRange& er : e.ranges) {
          if (hr.camera_id == er.camera_id && hr.from < er.to && hr.to > er.from) return true;
        }
      }
    }
    return false;
  }

  PolicyInput& in_;
  HoldIndex holds_;
  std::vector<int64_t> leased_;
  std::vector<uint8_t> planned_;
  std::vector<uint8_t> held_;
  std::unordered_set<int64_t> deferred_;  // leased segments, each counted once
  static constexpr size_t kRules = 5;     // records::DeletionRule's values
  std::vector<PlanGroup> groups_;         // [camera * kRules + rule]
  DeletionPlan plan_;
};

bool OldestFirst(const SegmentInfo& a, const SegmentInfo& b) {
  return a.start != b.start ? a.start < b.start : a.id < b.id;
}

}  // namespace

bool ReachedMaxAge(UtcMicros end, UtcMicros now, int64_t max_age_us) {
  if (max_age_us <= 0) return false;
  if (now.us < std::numeric_limits<int64_t>::min() + max_age_us) return false;
  return end.us <= now.us - max_age_us;
}

UtcMicros ExportExpiryTime(const records::ExportExpiryRow& e, int64_t expiry_us) {
  if (e.expires) return *e.expires;
  const UtcMicros base = std::max(e.created, e.last_handover.value_or(e.created));
  if (base.us > std::numeric_limits<int64_t>::max() - expiry_us) {
    return UtcMicros{std::numeric_limits<int64_t>::max()};
  }
  return base + expiry_us;
}

DeletionPlan ComputePlan(PolicyInput input) {
  if (!std::is_sorted(input.segments.begin(), input.segments.end(), OldestFirst)) {
    std::sort(input.segments.begin(), input.segments.end(), OldestFirst);
  }
  // A segment whose camera has no limits cannot be judged, so it is never planned.
  std::erase_if(input.segments,
                [&](const SegmentInfo& s) { return s.camera >= input.cameras.size(); });
  Planner planner(input);
  // Exports first only so that their bytes count towards disk pressure's target.
  planner.Exports();
  planner.MaxAge();
  planner.Quota();
  planner.DiskPressure();
  planner.FlagHolds();
  return planner.Finish();
}

}  // namespace custodian::retention
