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

std::map<std::string, FootageOutlook> FootageDays(const DiskSpace& disk,
                                                  const std::vector<CameraFootage>& cameras) {
  const double room = static_cast<double>(FootageRoom(disk));
  double total_rate = 0;
  for (const CameraFootage& c : cameras) total_rate += static_cast<double>(c.bytes_last_day);
  std::map<std::string, FootageOutlook> out;
  for (const CameraFootage& c : cameras) {
    const double rate = static_cast<double>(c.bytes_last_day);
    double capacity = static_cast<double>(c.stored_bytes);
    if (total_rate > 0) capacity += room * rate / total_rate;
    if (c.quota_bytes) capacity = std::min(capacity, static_cast<double>(*c.quota_bytes));
    FootageOutlook o;
    o.capacity_bytes = static_cast<uint64_t>(capacity);
    if (rate > 0) {
      o.days = capacity / rate;
      o.short_of_retention = c.retention_days && *o.days < static_cast<double>(*c.retention_days);
    }
    out[c.camera] = o;
  }
  return out;
}

}  // namespace custodian::health
