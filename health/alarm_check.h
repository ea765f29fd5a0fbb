// The alarms that the site's state calls for, decided from a snapshot of facts.
//
// WantedAlarms is a pure function: the watcher (alarm_watcher.h) gathers SiteFacts from
// the records and the kernel, asks which alarms should be active, and ApplyAlarms raises
// those and clears the ones it owns that are no longer wanted. Alarms other services own
// (the recorder's low_space and camera_timing:<camera>, retention's disk_full,
// deletion_failed and hold_review_due) are neither raised nor cleared here.
//
// Details are stable while the condition lasts ("offline since 05:12:00 UTC"), so raising
// an active alarm again writes nothing new.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "records/database.h"

namespace custodian::health {

// Alarm kinds owned by the watcher. Camera and request alarms add ":<id>".
inline constexpr char kCameraOfflineAlarm[] = "camera_offline";
inline constexpr char kRecorderDownAlarm[] = "recorder_down";
inline constexpr char kClockAlarm[] = "clock_unsynchronised";
inline constexpr char kBackupOverdueAlarm[] = "backup_overdue";
inline constexpr char kDsarDeadlineAlarm[] = "dsar_deadline";
inline constexpr char kAccessLogChainAlarm[] = "access_log_chain";
inline constexpr char kCameraClockAlarm[] = "camera_clock";

// The setting `custodian backup` writes after a backup is complete (UTC microseconds).
inline constexpr char kLastBackupSetting[] = "backup.last_completed_us";

struct AlarmPolicy {
  int64_t camera_offline_us = 5 * 60 * kMicrosPerSecond;
  // No camera status written for this long (the recorder writes one at least every few
  // seconds per camera, online or not): the recorder is not running.
  int64_t recorder_silent_us = 5 * 60 * kMicrosPerSecond;
  int64_t backup_overdue_us = 8 * kMicrosPerDay;  // 0: backups are not watched
  int64_t dsar_warning_us = 7 * kMicrosPerDay;
  // A camera whose clock differs from the appliance's by more than this is an alarm.
  int64_t camera_clock_limit_us = 2 * kMicrosPerSecond;
  // false: the site says its clock cannot be synchronised (alarms.clock_sync_watched), so an
  // unsynchronised clock raises nothing; the health page shows it as not watched.
  bool clock_sync_watched = true;
};

// A camera's clock as last measured: its RTCP sender reports' time minus the appliance's
// at the start of a segment (records::SegmentRow::clock_offset_us).
struct CameraClock {
  std::string camera;
  int64_t offset_us = 0;
  UtcMicros measured;
};

struct SiteFacts {
  UtcMicros now;
  UtcMicros watching_since;          // a camera never seen online counts from here
  std::vector<std::string> cameras;  // configured camera ids
  std::vector<records::CameraStatusRow> statuses;
  bool clock_synchronized = true;
  std::optional<UtcMicros> last_backup;
  struct Dsar {
    int64_t id = 0;
    UtcMicros deadline;
  };
  std::vector<Dsar> open_dsars;
  std::optional<records::AuditVerification> access_log;  // unset: not checked this time
  // Cameras whose clock was measured lately; a camera absent here has an unknown clock
  // (it sends no sender reports) and raises no clock alarm.
  std::vector<CameraClock> camera_clocks;
};

// kind -> detail of every alarm the facts call for.
std::map<std::string, std::string> WantedAlarms(const SiteFacts& facts, const AlarmPolicy& policy);

// Whether the watcher raises and clears this kind (access_log_chain only when checked).
bool OwnedByWatcher(const std::string& kind, bool access_log_checked);

// Raises every wanted alarm and clears the active ones it owns that are not wanted.
Status ApplyAlarms(records::Database& db, const std::map<std::string, std::string>& wanted,
                   bool access_log_checked);

// Whether a measured camera clock offset is beyond the limit (either way).
bool CameraClockAdrift(int64_t offset_us, int64_t limit_us);

// "12 s ahead of the appliance's clock", "3 s behind ...": whole seconds, so that an
// alarm's detail stays the same while the offset jitters by milliseconds.
std::string CameraClockText(int64_t offset_us);

// "2026-12-07 05:12:00 UTC".
std::string UtcText(UtcMicros t);

// A setting holding a decimal integer (the last backup's time, a camera's max age); nullopt
// for anything else, so that a hand-edited setting cannot stop the watcher or a page.
std::optional<int64_t> IntegerSetting(const std::optional<std::string>& value);

}  // namespace custodian::health
