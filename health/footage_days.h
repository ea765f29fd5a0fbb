// How many days of footage each camera can keep at its current rate, against its retention:
// the "days of footage" figures of the Health page and /metrics (docs/design/health.md).
//
// FootageDays is a pure function of figures the caller measured. The room footage may
// still take is the free space up to retention's high watermark (beyond it retention
// deletes the oldest footage early); each camera gets a share of that room in proportion
// to its rate, on top of what it has stored now, within its quota. Days are that capacity
// divided by the camera's bytes in the last day. What retention will delete meanwhile is
// not counted back: a camera that keeps to its retention has its oldest day deleted as a
// new one is written, so its capacity is what matters, not a date the disk fills.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace custodian::health {

struct DiskSpace {
  uint64_t total_bytes = 0;
  uint64_t free_bytes = 0;
  int high_watermark_percent = 90;  // retention.high_watermark_percent
};

struct CameraFootage {
  std::string camera;
  uint64_t bytes_last_day = 0;  // the current write rate
  uint64_t stored_bytes = 0;    // complete footage on disk now
  std::optional<uint64_t> quota_bytes;
  std::optional<int64_t> retention_days;  // the effective max age; unset: not yet known
};

struct FootageOutlook {
  uint64_t capacity_bytes = 0;      // stored footage plus its share of the room, in quota
  std::optional<double> days;       // unset: nothing written in the last day
  bool short_of_retention = false;  // days < retention_days: the oldest footage goes early
};

// The bytes footage may still take before retention starts deleting early.
uint64_t FootageRoom(const DiskSpace& disk);

// camera -> outlook, for every camera given.
std::map<std::string, FootageOutlook> FootageDays(const DiskSpace& disk,
                                                  const std::vector<CameraFootage>& cameras);

}  // namespace custodian::health
