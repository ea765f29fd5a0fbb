// How many days of footage each camera can keep at its current rate, against its retention:
// the "days of footage" figures of the Health page and /metrics (docs/design/health.md).
//
// FootageDays is a pure function of figures the caller measured. The room footage may
// still take is the free space up to retention's high watermark (beyond it retention
// deletes the oldest footage early); each camera gets a share of that room in proportion
// to its rate, on top of what it has stored now, within its quota. Days are that capacity
// divided by the camera's daily rate. What retention will delete meanwhile is
// not counted back: a camera that keeps to its retention has its oldest day deleted as a
// new one is written, so its capacity is what matters, not a date the disk fills.
//
// The daily rate is measured, never guessed: the bytes of the last day over the time they
// span (from the camera's first segment in that day to now), and only once that span is at
// least kMinRateSpanUs. A few minutes of a new camera, scaled to a day, swing with every
// segment (a dark scene, a burst of movement), so until then there is no figure, only when
// there will be one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"

namespace custodian::health {

// The shortest span of recording a daily rate is measured over.
inline constexpr int64_t kMinRateSpanUs = 3 * 3600 * kMicrosPerSecond;

struct DiskSpace {
  uint64_t total_bytes = 0;
  uint64_t free_bytes = 0;
  int high_watermark_percent = 90;  // retention.high_watermark_percent
};

struct CameraFootage {
  std::string camera;
  uint64_t bytes_last_day = 0;  // written in the last day (or since recording began)
  uint64_t stored_bytes = 0;    // complete footage on disk now
  std::optional<uint64_t> quota_bytes;
  std::optional<int64_t> retention_days;  // the effective max age; unset: not yet known
  // How long bytes_last_day took to write: from the camera's first segment in the last day
  // to now, at most a day; 0: nothing recorded in the last day.
  int64_t recorded_span_us = 0;
};

// Bytes a day at the measured rate; unset while the span is shorter than kMinRateSpanUs.
std::optional<double> BytesPerDay(uint64_t bytes, int64_t span_us);
// How much longer the camera must record before its rate is measured; 0 once it is, unset
// when it has recorded nothing in the last day.
std::optional<int64_t> RateDueInUs(int64_t span_us);

struct FootageOutlook {
  uint64_t capacity_bytes = 0;      // stored footage plus its share of the room, in quota
  std::optional<double> bytes_per_day;  // unset: not measured yet (see RateDueInUs)
  std::optional<double> days;           // unset: no measured rate
  bool short_of_retention = false;  // days < retention_days: the oldest footage goes early
  std::optional<int64_t> estimate_in_us;  // until days can be given; unset: nothing recorded
};

// The disk's days left at the cameras' measured rates, or when that can be said.
struct DiskOutlook {
  std::optional<double> bytes_per_day;    // every recording camera's measured rate, summed
  std::optional<double> days_left;        // free bytes at that rate
  std::optional<int64_t> estimate_in_us;  // the longest any recording camera must still wait
};

// The bytes footage may still take before retention starts deleting early.
uint64_t FootageRoom(const DiskSpace& disk);

// camera -> outlook, for every camera given.
std::map<std::string, FootageOutlook> FootageDays(const DiskSpace& disk,
                                                  const std::vector<CameraFootage>& cameras);

// Days until the disk's free bytes are written at the cameras' rates: given only when every
// camera recording in the last day has a measured rate, since leaving one out would promise
// more days than there are.
DiskOutlook DiskDaysLeft(uint64_t free_bytes, const std::vector<CameraFootage>& cameras);

}  // namespace custodian::health
