#include "retention/pass.h"

#include <unordered_map>
#include <utility>

#include "base/log.h"

namespace custodian::retention {

namespace {

using records::DeletionRule;

// Every camera in the records: configured ones with their own limits, the rest (removed
// from the config, footage still on disk) with the site default.
std::map<std::string, CameraRetention> AllCameras(records::Database& db,
                                                  const RetentionSettings& settings,
                                                  Status* status) {
  std::map<std::string, CameraRetention> cameras;
  auto known = db.ListCameras();
  if (!known.ok()) {
    *status = known.status();
    return cameras;
  }
  for (const records::CameraRow& c : *known) {
    cameras[c.id] = {c.id, settings.retention.max_age_days, std::nullopt};
  }
  // A configured camera the recorder has not registered yet has no footage to judge, and
  // policy changes may name only registered cameras.
  for (const CameraRetention& c : settings.cameras) {
    if (cameras.count(c.camera_id)) cameras[c.camera_id] = c;
  }
  return cameras;
}

Status LoadSegments(records::Database& db, PolicyInput* input) {
  std::unordered_map<std::string, uint32_t> index;
  for (uint32_t i = 0; i < input->cameras.size(); ++i) index[input->cameras[i].camera_id] = i;
  Status st = db.ForEachCompleteSegment([&](const records::SegmentBrief& b) {
    auto it = index.find(b.camera_id);
    // A camera added since AllCameras read the list: judged on the next pass.
    if (it != index.end()) input->segments.push_back({b.id, it->second, b.start, b.end, b.bytes});
    return true;
  });
  return st;
}

Status LoadInput(records::Database& db, Filesystem& fs, const RetentionSettings& settings,
                 PassReport* report, PolicyInput* input) {
  const config::RetentionConfig& rc = settings.retention;
  input->now = report->now;
  input->high_watermark_percent = rc.high_watermark_percent;
  input->low_watermark_percent = rc.low_watermark_percent;
  input->export_expiry_us = static_cast<int64_t>(rc.export_expiry_days) * kMicrosPerDay;
  CUSTODIAN_RETURN_IF_ERROR(LoadSegments(db, input));
  auto holds = db.ListActiveHolds();
  if (!holds.ok()) return holds.status();
  input->holds = std::move(holds).value();
  auto leased = db.ListLeasedSegments();
  if (!leased.ok()) return leased.status();
  input->leased = std::move(leased).value();
  auto exports = db.ListExportsForExpiry();
  if (!exports.ok()) return exports.status();
  input->exports = std::move(exports).value();
  auto space = fs.Space(settings.data_dir);
  if (space.ok()) {
    input->disk = *space;
    report->disk = *space;
  } else {
    LogWarn("retention") << "cannot measure the disk (" << space.status().ToString()
                         << "); no deletions for space this pass";
  }
  return Status::Ok();
}

DeletionContext MakeContext(const PolicyInput& input) {
  std::map<std::string, CameraLimits> limits;
  for (const CameraLimits& c : input.cameras) limits[c.camera_id] = c;
  std::string disk = "disk pressure";
  if (input.disk.total_bytes > 0) {
    disk = "disk " + std::to_string(static_cast<int>(input.disk.UsedFraction() * 100)) +
           "% used, above the high watermark of " + std::to_string(input.high_watermark_percent) +
           "%; freeing down to " + std::to_string(input.low_watermark_percent) + "%";
  }
  DeletionContext ctx;
  ctx.detail = [limits, disk](const std::string& camera, DeletionRule rule) -> std::string {
    auto it = limits.find(camera);
    switch (rule) {
      case DeletionRule::kMaxAge:
        if (it == limits.end()) return "max age";
        return "max age " + std::to_string(it->second.max_age_us / kMicrosPerDay) + " days";
      case DeletionRule::kQuota:
        if (it == limits.end() || !it->second.quota_bytes) return "camera quota";
        return "camera quota " + std::to_string(*it->second.quota_bytes) + " bytes";
      case DeletionRule::kDiskPressure:
        return disk;
      default:
        return records::Name(rule);
    }
  };
  const UtcMicros now = input.now;
  ctx.infer_rule = [limits, now](const records::SegmentRow& r) {
    auto it = limits.find(r.camera_id);
    const bool aged =
        it != limits.end() && ReachedMaxAge(r.end.value_or(r.start), now, it->second.max_age_us);
    return aged ? DeletionRule::kMaxAge : DeletionRule::kDiskPressure;
  };
  return ctx;
}

std::string HoldIds(const std::vector<int64_t>& ids) {
  std::string out;
  for (int64_t id : ids) out += (out.empty() ? "" : ", ") + std::to_string(id);
  return out;
}

Status SetAlarm(records::Database& db, const char* kind, const std::optional<std::string>& detail) {
  if (!detail) return db.ClearAlarm(kind);
  auto id = db.RaiseAlarm(kind, *detail);
  return id.ok() ? Status::Ok() : id.status();
}

Status UpdateAlarms(records::Database& db, const PassReport& r) {
  CUSTODIAN_RETURN_IF_ERROR(SetAlarm(db, kDiskFullAlarm, r.plan.disk_full));
  std::optional<std::string> review;
  if (!r.plan.holds_due_for_review.empty()) {
    review = "hold(s) " + HoldIds(r.plan.holds_due_for_review) +
             " past their review date; a DPO must decide whether each is still needed "
             "(holds are never released automatically)";
  }
  CUSTODIAN_RETURN_IF_ERROR(SetAlarm(db, kHoldReviewAlarm, review));
  std::optional<std::string> failed;
  if (!r.execution.failures.empty()) {
    failed = std::to_string(r.execution.failures.size()) +
             " file(s) or director(ies) could not be deleted and are retried every pass; "
             "first: " +
             r.execution.failures.front();
  }
  return SetAlarm(db, kDeletionFailedAlarm, failed);
}

int64_t Elapsed(const Clock& clock, MonoMicros since) { return clock.Monotonic() - since; }

// A sub stream recorded for review keeps its own limits (the main stream's max age when it
// names none); one kept for live view only keeps its newest kLiveOnlySubStreamBytes.
CameraRetention SubStreamRetention(const config::SiteConfig& site, const config::CameraConfig& c) {
  CameraRetention r{config::SubStreamId(c.id), config::EffectiveMaxAgeDays(site, c), std::nullopt};
  if (!c.record_sub_stream) {
    r.quota_bytes = static_cast<int64_t>(config::kLiveOnlySubStreamBytes);
    return r;
  }
  if (c.sub_max_age_days) r.max_age_days = *c.sub_max_age_days;
  if (c.sub_quota_bytes) r.quota_bytes = static_cast<int64_t>(*c.sub_quota_bytes);
  return r;
}

}  // namespace

RetentionSettings SettingsFromSite(const config::SiteConfig& site) {
  RetentionSettings s;
  s.data_dir = site.data_dir;
  s.retention = site.retention;
  for (const config::CameraConfig& c : site.cameras) {
    std::optional<int64_t> quota;
    if (c.quota_bytes) quota = static_cast<int64_t>(*c.quota_bytes);
    s.cameras.push_back({c.id, config::EffectiveMaxAgeDays(site, c), quota});
    if (!c.sub_url.empty()) s.cameras.push_back(SubStreamRetention(site, c));
  }
  return s;
}

Result<PassReport> RunRetentionPass(records::Database& db, Filesystem& fs, const Clock& clock,
                                    const RetentionSettings& settings, const PassOptions& options) {
  PassReport report;
  report.now = clock.Now();
  report.dry_run = options.dry_run;
  Status st;
  const std::map<std::string, CameraRetention> cameras = AllCameras(db, settings, &st);
  CUSTODIAN_RETURN_IF_ERROR(st);

  std::map<std::string, int> configured;
  for (const auto& [id, c] : cameras) configured[id] = c.max_age_days;
  auto max_ages = LoadMaxAges(db, configured);
  if (!max_ages.ok()) return max_ages.status();
  const int64_t delay_us =
      static_cast<int64_t>(settings.retention.shorten_delay_hours) * 3600 * kMicrosPerSecond;
  MaxAgeDecision decision = DecideMaxAges(*max_ages, report.now, delay_us);
  for (const MaxAgeAction& a : decision.actions) {
    LogInfo("retention") << (options.dry_run ? "would record: " : "") << Describe(a);
  }
  if (!options.dry_run) CUSTODIAN_RETURN_IF_ERROR(ApplyMaxAgeActions(db, clock, decision.actions));
  report.max_age_actions = std::move(decision.actions);
  report.effective_max_age_days = decision.effective_days;

  PolicyInput input;
  for (const auto& [id, c] : cameras) {
    input.cameras.push_back(
        {id, static_cast<int64_t>(decision.effective_days[id]) * kMicrosPerDay, c.quota_bytes});
  }
  DeletionExecutor executor(db, fs, clock, settings.data_dir, options.executor);
  if (!options.dry_run) {
    input.now = report.now;
    CUSTODIAN_RETURN_IF_ERROR(executor.FinishInterrupted(MakeContext(input), &report.execution));
  }

  MonoMicros t0 = clock.Monotonic();
  CUSTODIAN_RETURN_IF_ERROR(LoadInput(db, fs, settings, &report, &input));
  report.load_us = Elapsed(clock, t0);
  report.segments_considered = static_cast<int64_t>(input.segments.size());
  const DeletionContext ctx = MakeContext(input);
  t0 = clock.Monotonic();
  report.plan = ComputePlan(std::move(input));
  report.plan_us = Elapsed(clock, t0);
  if (options.dry_run) return report;

  t0 = clock.Monotonic();
  CUSTODIAN_RETURN_IF_ERROR(executor.Execute(report.plan, ctx, &report.execution));
  report.execute_us = Elapsed(clock, t0);
  CUSTODIAN_RETURN_IF_ERROR(UpdateAlarms(db, report));
  return report;
}

}  // namespace custodian::retention
