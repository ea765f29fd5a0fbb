// Effective maximum ages: what the records say each camera's max age is, and how a change
// in the config reaches the records. A lengthening applies at once. A shortening is
// scheduled as a pending policy change that takes effect only `shorten_delay` later and is
// written to the access log, so that a slip in the config (7 typed for 70) cannot wipe
// weeks of footage in one pass: until the change is due, the old, longer age is used.
//
// DecideMaxAges is pure (records in, actions out) so dry runs can show what would change;
// ApplyMaxAgeActions writes the actions to the records. Both are documented in
// docs/design/retention.md ("The shortening delay").
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "base/time.h"
#include "records/database.h"
#include "records/rows.h"

namespace custodian::retention {

// The settings key holding a camera's effective max age in days.
std::string MaxAgeSettingKey(const std::string& camera_id);
// The key of max-age rows in pending_policy_changes.
inline constexpr char kMaxAgeChangeKey[] = "max_age_days";

struct CameraMaxAge {
  std::string camera_id;
  int configured_days = 0;            // what the config asks for now
  std::optional<int> effective_days;  // what the records say; unset before the first pass
  std::vector<records::PolicyChangeRow> open_changes;  // this camera's, by effective time
};

struct MaxAgeAction {
  enum class Kind {
    kInitial,   // first pass: the configured age becomes the effective one
    kLengthen,  // configured > effective: effective at once
    kSchedule,  // configured < effective: a pending change, effective after the delay
    kApply,     // a pending change's time has come
    kCancel,    // a pending change the config no longer asks for
  };
  Kind kind = Kind::kInitial;
  std::string camera_id;
  int old_days = 0;
  int new_days = 0;
  int64_t change_id = 0;  // kApply, kCancel; 0 in kApply: the change scheduled just before
  UtcMicros effective;    // kSchedule, kApply
};

struct MaxAgeDecision {
  std::map<std::string, int> effective_days;  // to use for this pass
  std::vector<MaxAgeAction> actions;          // to write to the records, in order
};

MaxAgeDecision DecideMaxAges(const std::vector<CameraMaxAge>& cameras, UtcMicros now,
                             int64_t shorten_delay_us);

// Reads each camera's effective age and open max-age changes. configured: camera -> days.
Result<std::vector<CameraMaxAge>> LoadMaxAges(records::Database& db,
                                              const std::map<std::string, int>& configured);

// Writes each action (setting, policy change row and access-log entry) in its own
// transaction, in order.
Status ApplyMaxAgeActions(records::Database& db, const Clock& clock,
                          const std::vector<MaxAgeAction>& actions);

// One line for logs, dry runs and the access log, e.g. "camera door-1: max age shortening
// from 31 to 14 days scheduled, effective 2026-01-02T00:00:00.000000Z".
std::string Describe(const MaxAgeAction& action);

}  // namespace custodian::retention
