#include "retention/scheduler.h"

#include <utility>

#include "base/log.h"
#include "retention/report.h"

namespace custodian::retention {

RetentionScheduler::RetentionScheduler(records::Database& db, Filesystem& fs, const Clock& clock,
                                       RetentionSettings settings, SchedulerOptions options)
    : db_(db), fs_(fs), clock_(clock), settings_(std::move(settings)), options_(options) {}

Result<bool> RetentionScheduler::LowSpaceDue(MonoMicros now) {
  if (last_poll_ && now - *last_poll_ < options_.alarm_poll_us) return false;
  last_poll_ = now;
  auto alarms = db_.ListActiveAlarms();
  if (!alarms.ok()) return alarms.status();
  bool low_space = false;
  for (const records::AlarmRow& a : *alarms) low_space = low_space || a.kind == kLowSpaceAlarm;
  if (!low_space) return false;
  // Still low after a pass that freed nothing: another pass now would free nothing either.
  return !low_space_at_last_pass_ || last_pass_freed_;
}

Result<std::optional<PassReport>> RetentionScheduler::Tick() {
  const MonoMicros now = clock_.Monotonic();
  bool due = !last_pass_ || now - *last_pass_ >= options_.interval_us;
  bool low_space = false;
  if (!due) {
    auto low = LowSpaceDue(now);
    if (!low.ok()) return low.status();
    due = low_space = *low;
  }
  if (!due) return std::optional<PassReport>();
  if (low_space) LogInfo("retention") << "the recorder reports low space: running a pass now";

  // The alarm state at the start of the pass decides whether a repeat is worthwhile.
  auto alarms = db_.ListActiveAlarms();
  low_space_at_last_pass_ = false;
  if (alarms.ok()) {
    for (const records::AlarmRow& a : *alarms) {
      low_space_at_last_pass_ = low_space_at_last_pass_ || a.kind == kLowSpaceAlarm;
    }
  }
  last_pass_ = now;
  last_poll_ = now;
  ++passes_;
  auto report = RunRetentionPass(db_, fs_, clock_, settings_, options_.pass);
  if (!report.ok()) {
    last_pass_freed_ = false;
    LogError("retention") << "pass failed: " << report.status().ToString()
                          << "; retrying at the next interval";
    return report.status();
  }
  // Only a pass that freed nothing because only held footage is left (disk_full) says
  // that the next one would free nothing either. One that freed nothing because the disk
  // was still below the high watermark says nothing of the next: the recorder keeps
  // writing, and waiting for the interval let a small disk fill.
  last_pass_freed_ = report->execution.segments_deleted > 0 || !report->plan.disk_full.has_value();
  LogInfo("retention") << SummaryLine(*report);
  return std::optional<PassReport>(std::move(report).value());
}

}  // namespace custodian::retention
