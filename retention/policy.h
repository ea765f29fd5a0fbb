// Retention policy: a pure function from what the records say (complete segments, active
// holds, reader leases, exports), the state of the disk and the time to a DeletionPlan.
//
// No I/O and no clock: the caller passes `now`, so the same input always gives the same
// plan and a test can put footage on either side of every boundary. The rules, their order
// and the boundaries are explained in docs/design/retention.md; in short:
//   1. max age:      a segment whose end is at or before now - max_age (per camera) goes;
//   2. quota:        a camera's unheld footage beyond its quota goes, oldest first;
//   3. disk pressure: above the high watermark, the oldest unheld footage of any camera
//                     goes until the disk would be at the low watermark;
//   4. export expiry: an export goes once its expiry time has come.
// No rule plans a segment or export that an active hold covers (any overlap of half-open
// ranges; a hold range on camera X covers X's sub stream, config::SubStreamId(X), as well)
// or a segment that a reader has leased. The executor (executor.h) re-checks holds
// and leases in the records when it marks rows, since either may appear after planning.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/filesystem.h"
#include "base/time.h"
#include "records/rows.h"

namespace custodian::retention {

// A complete segment as the policy sees it; `camera` indexes PolicyInput::cameras. Kept
// small because a large site has millions of them.
struct SegmentInfo {
  int64_t id = 0;
  uint32_t camera = 0;
  UtcMicros start;
  UtcMicros end;
  int64_t bytes = 0;
};

struct CameraLimits {
  std::string camera_id;
  int64_t max_age_us = 31 * kMicrosPerDay;  // effective: after the shortening delay
  std::optional<int64_t> quota_bytes;       // the camera's unheld footage stays within this
};

struct PolicyInput {
  UtcMicros now;
  std::vector<CameraLimits> cameras;
  // Complete segments, oldest start first (ties by id); the policy sorts them if not.
  std::vector<SegmentInfo> segments;
  std::vector<records::HoldRow> holds;  // active holds; released ones are ignored
  std::vector<int64_t> leased;          // segment ids with an unexpired reader lease
  DiskSpace disk;                       // total_bytes 0: unknown, no disk-pressure rule
  int high_watermark_percent = 90;
  int low_watermark_percent = 85;
  std::vector<records::ExportExpiryRow> exports;  // those already expiring are skipped
  int64_t export_expiry_us = 30 * kMicrosPerDay;
};

struct PlannedDeletion {
  int64_t segment_id = 0;
  records::DeletionRule rule = records::DeletionRule::kMaxAge;
};

// The plan summarised per camera and rule, for dry runs and logs.
struct PlanGroup {
  std::string camera_id;
  records::DeletionRule rule = records::DeletionRule::kMaxAge;
  int64_t segments = 0;
  int64_t bytes = 0;
  UtcMicros from;  // earliest start
  UtcMicros to;    // latest end
};

struct DeletionPlan {
  // Max age first, then quota, then disk pressure; oldest first within each rule.
  std::vector<PlannedDeletion> segments;
  std::vector<PlanGroup> groups;              // by camera, then rule
  std::vector<int64_t> exports;               // export ids whose expiry has come
  std::vector<int64_t> holds_due_for_review;  // to flag for the DPO; never released here

  int64_t segment_bytes = 0;  // bytes of the planned segments
  int64_t export_bytes = 0;   // bytes of the planned exports
  bool above_high_watermark = false;
  int64_t bytes_to_free = 0;     // disk pressure's target when above the high watermark
  int64_t expired_but_held = 0;  // segments past their max age kept by a hold
  int64_t held_segments = 0;     // every segment under an active hold
  int64_t held_bytes = 0;
  int64_t deferred_by_lease = 0;  // segments a rule would delete but a reader is using
  int64_t exports_held = 0;       // expired exports kept by a hold
  // Set when the disk would stay above the high watermark after every planned deletion:
  // nothing unheld and unleased is left to delete. The text is the alarm's detail.
  std::optional<std::string> disk_full;
};

DeletionPlan ComputePlan(PolicyInput input);

// Whether footage ending at `end` has reached max_age_us at `now`: end <= now - max_age.
// False for a non-positive max age and for footage ending after now (a clock that went
// backwards), however large the numbers.
bool ReachedMaxAge(UtcMicros end, UtcMicros now, int64_t max_age_us);

// When an export expires: its own expiry time if one was set, otherwise expiry_us after
// its last handover (disclosure), or after its creation if it was never handed over.
UtcMicros ExportExpiryTime(const records::ExportExpiryRow& e, int64_t expiry_us);

}  // namespace custodian::retention
