// The ranges LoadSiteConfig accepts for numeric keys. docs/ref/config.md lists the same;
// change both together. The bounds exist to catch typos (a retention of 3100 days meant as
// 31), not to express policy: the policy is the value a site chooses inside them.
#pragma once

#include <cstdint>

namespace custodian::config::limits {

inline constexpr int64_t kMaxAgeDaysMin = 1;
inline constexpr int64_t kMaxAgeDaysMax = 3650;
inline constexpr int64_t kPercentMin = 0;
inline constexpr int64_t kPercentMax = 100;
inline constexpr int64_t kShortenDelayHoursMax = 24 * 365;
inline constexpr int64_t kExportExpiryDaysMin = 1;
inline constexpr int64_t kExportExpiryDaysMax = 3650;
inline constexpr int64_t kSegmentSecondsMin = 1;
inline constexpr int64_t kSegmentSecondsMax = 3600;
inline constexpr int64_t kTimeoutSecondsMin = 1;
inline constexpr int64_t kTimeoutSecondsMax = 600;
inline constexpr int64_t kSessionIdleMinutesMin = 1;
inline constexpr int64_t kSessionIdleMinutesMax = 24 * 60;
inline constexpr int64_t kTestOnlyViewingIdleSecondsMin = 1;
inline constexpr int64_t kTestOnlyViewingIdleSecondsMax = 3600;
inline constexpr int64_t kSessionAbsoluteHoursMin = 1;
inline constexpr int64_t kSessionAbsoluteHoursMax = 24 * 7;
inline constexpr int64_t kCameraOfflineSecondsMin = 10;
inline constexpr int64_t kCameraOfflineSecondsMax = 7 * 24 * 3600;
inline constexpr int64_t kBackupOverdueDaysMax = 366;
inline constexpr int64_t kDsarWarningDaysMax = 90;
inline constexpr int64_t kCameraClockLimitSecondsMax = 24 * 3600;
inline constexpr int64_t kQuotaBytesMin = 1;
inline constexpr int64_t kQuotaBytesMax = INT64_MAX;
inline constexpr int64_t kBytesPerGb = 1000 * 1000 * 1000;
inline constexpr int64_t kQuotaGbMin = 1;
inline constexpr int64_t kQuotaGbMax = INT64_MAX / kBytesPerGb;

}  // namespace custodian::config::limits
