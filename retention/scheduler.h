// RetentionScheduler: decides when `custodian retain` runs a pass. A pass runs on the
// first Tick, then every `interval`; in between, Tick polls the records' active alarms
// every `alarm_poll`, and runs a pass at once when the recorder has raised `low_space`,
// unless the last pass ran with low_space already active and freed nothing (only held
// footage left, say), in which case it waits for the next interval rather than spin.
//
// The caller owns the waiting: call Tick at least every alarm_poll (the retain verb does
// so between signals). Times are the Clock's monotonic microseconds. Not thread-safe;
// settings may be replaced between ticks (SIGHUP).
#pragma once

#include <cstdint>
#include <optional>

#include "base/clock.h"
#include "base/filesystem.h"
#include "records/database.h"
#include "retention/pass.h"

namespace custodian::retention {

// The alarm kind the recorder raises when free space falls below low_space_percent.
inline constexpr char kLowSpaceAlarm[] = "low_space";

struct SchedulerOptions {
  int64_t interval_us = 60 * kMicrosPerSecond;
  int64_t alarm_poll_us = 5 * kMicrosPerSecond;
  PassOptions pass;
};

class RetentionScheduler {
 public:
  RetentionScheduler(records::Database& db, Filesystem& fs, const Clock& clock,
                     RetentionSettings settings, SchedulerOptions options = {});

  // Runs a pass if one is due; returns its report, or nullopt when none was due. A failed
  // pass is returned as its status and retried at the next interval.
  Result<std::optional<PassReport>> Tick();

  void set_settings(RetentionSettings settings) { settings_ = std::move(settings); }
  const SchedulerOptions& options() const { return options_; }
  int64_t passes() const { return passes_; }

 private:
  // Whether low_space asks for a pass now.
  Result<bool> LowSpaceDue(MonoMicros now);

  records::Database& db_;
  Filesystem& fs_;
  const Clock& clock_;
  RetentionSettings settings_;
  const SchedulerOptions options_;
  std::optional<MonoMicros> last_pass_;
  std::optional<MonoMicros> last_poll_;
  bool low_space_at_last_pass_ = false;
  bool last_pass_freed_ = false;
  int64_t passes_ = 0;
};

}  // namespace custodian::retention
