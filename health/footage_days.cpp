#include "health/footage_days.h"

#include <algorithm>

namespace custodian::health {

uint64_t FootageRoom(const DiskSpace& disk) {
  const uint64_t used = disk.total_bytes - std::min(disk.free_bytes, disk.total_bytes);
  const int percent = std::clamp(disk.high_watermark_percent, 0, 100);
  // total/100 first: a disk of exabytes times a percentage must not overflow.
  const uint64_t allowed = disk.total_bytes / 100 * static_cast<uint64_t>(percent) +
                           disk.total_bytes % 100 * static_cast<uint64_t>(percent) / 100;
  return allowed > used ? allowed - used : 0;
}

std::optional<double> BytesPerDay(uint64_t bytes, int64_t span_us) {
  if (span_us < kMinRateSpanUs) return std::nullopt;
  const int64_t span = std::min(span_us, kMicrosPerDay);
  return static_cast<double>(bytes) * static_cast<double>(kMicrosPerDay) /
         static_cast<double>(span);
}

std::optional<int64_t> RateDueInUs(int64_t span_us) {
  if (span_us <= 0) return std::nullopt;
  return std::max<int64_t>(0, kMinRateSpanUs - span_us);
}

namespace {

// The rate that shares out the room: the measured one, else the bytes so far over their
// span (a rough share for a camera not yet measured; its days are not given anyway).
double ShareRate(const CameraFootage& c) {
  if (auto rate = BytesPerDay(c.bytes_last_day, c.recorded_span_us)) return *rate;
  if (c.recorded_span_us <= 0) return 0;
  return static_cast<double>(c.bytes_last_day) * static_cast<double>(kMicrosPerDay) /
         static_cast<double>(std::min(c.recorded_span_us, kMicrosPerDay));
}

}  // namespace

std::map<std::string, FootageOutlook> FootageDays(const DiskSpace& disk,
                                                  const std::vector<CameraFootage>& cameras) {
  const double room = static_cast<double>(FootageRoom(disk));
  double total_rate = 0;
  for (const CameraFootage& c : cameras) total_rate += ShareRate(c);
  std::map<std::string, FootageOutlook> out;
  for (const CameraFootage& c : cameras) {
    double capacity = static_cast<double>(c.stored_bytes);
    if (total_rate > 0) capacity += room * ShareRate(c) / total_rate;
    if (c.quota_bytes) capacity = std::min(capacity, static_cast<double>(*c.quota_bytes));
    FootageOutlook o;
    o.capacity_bytes = static_cast<uint64_t>(capacity);
    if (c.bytes_last_day > 0) {
      o.bytes_per_day = BytesPerDay(c.bytes_last_day, c.recorded_span_us);
      o.estimate_in_us = RateDueInUs(c.recorded_span_us);
    }
    if (o.bytes_per_day && *o.bytes_per_day > 0) {
      o.days = capacity / *o.bytes_per_day;
      o.short_of_retention = c.retention_days && *o.days < static_cast<double>(*c.retention_days);
    }
    out[c.camera] = o;
  }
  return out;
}

DiskOutlook DiskDaysLeft(uint64_t free_bytes, const std::vector<CameraFootage>& cameras) {
  DiskOutlook out;
  double total = 0;
  bool any = false, all_measured = true;
  int64_t wait = 0;
  for (const CameraFootage& c : cameras) {
    if (c.bytes_last_day == 0) continue;  // not recording: adds nothing
    any = true;
    auto rate = BytesPerDay(c.bytes_last_day, c.recorded_span_us);
    if (rate) {
      total += *rate;
    } else {
      all_measured = false;
      wait = std::max(wait, RateDueInUs(c.recorded_span_us).value_or(kMinRateSpanUs));
    }
  }
  if (!any) return out;
  if (!all_measured) {
    out.estimate_in_us = wait;
    return out;
  }
  out.estimate_in_us = 0;
  out.bytes_per_day = total;
  if (total > 0) out.days_left = static_cast<double>(free_bytes) / total;
  return out;
}

}  // namespace custodian::health
