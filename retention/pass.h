// One retention pass: what `custodian retain --once` does, and what the scheduler repeats.
//
//   1. Decide each camera's effective max age (max_age.h) and, unless a dry run, write
//      the decisions (settings, delayed policy changes, access log).
//   2. Unless a dry run, finish deletions an earlier pass left half done (executor.h).
//   3. Read the policy's input from the records and the disk, and compute the plan.
//   4. Unless a dry run, execute the plan and raise or clear the retention alarms:
//        disk_full        the disk stays above the high watermark with only held (or
//                         leased) footage left; nothing held is deleted;
//        hold_review_due  active holds are past their review date (for the DPO);
//        deletion_failed  files that could not be deleted; retried every pass.
// A dry run writes nothing at all: not the records, not the disk.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/filesystem.h"
#include "config/site_config.h"
#include "records/database.h"
#include "retention/executor.h"
#include "retention/max_age.h"
#include "retention/policy.h"

namespace custodian::retention {

inline constexpr char kDiskFullAlarm[] = "disk_full";
inline constexpr char kHoldReviewAlarm[] = "hold_review_due";
inline constexpr char kDeletionFailedAlarm[] = "deletion_failed";

struct CameraRetention {
  std::string camera_id;
  int max_age_days = 31;
  std::optional<int64_t> quota_bytes;
};

// What retention takes from the site configuration.
struct RetentionSettings {
  std::string data_dir;
  config::RetentionConfig retention;
  std::vector<CameraRetention> cameras;  // configured cameras; others get the site default
};

RetentionSettings SettingsFromSite(const config::SiteConfig& site);

struct PassOptions {
  bool dry_run = false;
  ExecutorOptions executor;
};

struct PassReport {
  UtcMicros now;
  bool dry_run = false;
  std::optional<DiskSpace> disk;  // unset when the disk could not be measured
  std::vector<MaxAgeAction> max_age_actions;
  std::map<std::string, int> effective_max_age_days;
  int64_t segments_considered = 0;
  DeletionPlan plan;
  ExecutionReport execution;  // empty in a dry run
  int64_t load_us = 0;        // reading the policy's input
  int64_t plan_us = 0;        // computing the plan
  int64_t execute_us = 0;
};

Result<PassReport> RunRetentionPass(records::Database& db, Filesystem& fs, const Clock& clock,
                                    const RetentionSettings& settings,
                                    const PassOptions& options = {});

}  // namespace custodian::retention
