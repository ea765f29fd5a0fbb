#include "jobs/export_run.h"

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "exports/export_jobs.h"
#include "exports/recording_wait.h"
#include "requests/workflow.h"

namespace custodian::jobs {

using exports::BuildPackage;
using exports::BuildResult;
using exports::ExportDirRelative;
using exports::ExportPlan;
using exports::ManifestRange;
using exports::PackageName;
using exports::PlanExport;
using exports::RemoveTree;
using exports::SigningKey;
using records::ExportRow;
using records::JobRow;
using records::JobState;

namespace {

// Job progress is written when it has moved 5% and a second has passed since the last
// write: each write is a commit (an fsync), which an hour's export should not do fifty times.
constexpr double kProgressStep = 0.05;
constexpr int64_t kProgressInterval = kMicrosPerSecond;

}  // namespace

ExportJobRunner::ExportJobRunner(records::Database& db, Filesystem& fs, const Clock& clock,
                                 exports::ExportServiceOptions options, const TimeZone& zone)
    : JobRunner(db, exports::kExportJobKind, "export_id", options.worker),
      fs_(fs),
      clock_(clock),
      options_(std::move(options)),
      zone_(zone) {}

Status ExportJobRunner::Run(const JobRow& job, int64_t export_id) {
  auto e = db_.GetExport(export_id);
  if (!e.ok()) return e.status();
  if (!e->has_value()) {
    return db_.FinishJob(job.id, JobState::kFailed, std::nullopt,
                         "export " + std::to_string(export_id) + " does not exist");
  }
  if ((*e)->state == records::ExportState::kReady) {
    // Finished before a crash took the job's own completion with it.
    return db_.FinishJob(job.id, JobState::kSucceeded, std::nullopt, std::nullopt);
  }
  if ((*e)->state == records::ExportState::kFailed)
    CUSTODIAN_RETURN_IF_ERROR(db_.RestartExport(export_id));
  if ((*e)->state != records::ExportState::kBuilding &&
      (*e)->state != records::ExportState::kFailed) {
    return db_.FinishJob(job.id, JobState::kFailed, std::nullopt,
                         std::string("export is ") + records::Name((*e)->state));
  }
  LogInfo("exports") << "building export " << export_id << " (job " << job.id << ", attempt "
                     << job.attempts << ")";

  const std::string container = JoinPath(options_.data_dir, ExportDirRelative(export_id));
  Status cleared = RemoveTree(fs_, container);
  if (!cleared.ok()) return Fail(job, export_id, cleared, false);
  auto key = SigningKey::LoadOrCreate(options_.keys_dir, fs_);
  if (!key.ok()) return Fail(job, export_id, key.status(), false);
  bool cancelled = false;
  auto cancel = [&]() {
    auto j = db_.GetJob(job.id);
    cancelled = j.ok() && j->has_value() && (*j)->cancel_requested;
    return cancelled;
  };
  // Footage still being recorded is waited for, never left out of a signed package.
  Status recorded = exports::AwaitRecorded(db_, clock_, zone_, (*e)->ranges,
                                           options_.build.recording_wait, nullptr, cancel);
  if (!recorded.ok()) return Fail(job, export_id, recorded, cancelled);
  auto plan = PlanExport(db_, export_id, options_.site_name);
  if (!plan.ok()) return Fail(job, export_id, plan.status(), false);
  plan->burned_in_copy = exports::BurnedInCopyAsked(job.params);

  ProgressThrottle throttle(db_, clock_, job.id, kProgressStep, kProgressInterval);
  auto progress = [&](double f) { throttle.Report(f); };
  const std::string partial = JoinPath(container, PackageName(export_id) + ".partial");
  auto built = BuildPackage(*plan, options_.data_dir, partial, *key, fs_, clock_, zone_,
                            options_.build, progress, cancel);
  if (!built.ok()) return Fail(job, export_id, built.status(), cancelled);
  Status renamed = fs_.Rename(partial, JoinPath(container, PackageName(export_id)));
  if (!renamed.ok()) return Fail(job, export_id, renamed, false);
  return Finish(job, **e, *plan, *built);
}

namespace {

// Where the build's time went (BuildSteps), kept in the job's result for the record and
// for tests/bench/export_bench.
nlohmann::json StepsJson(const exports::BuildSteps& s) {
  return {{"read", s.read},
          {"parse", s.parse},
          {"write", s.write},
          {"text_track", s.text_track},
          {"hash_wait", s.hash_wait},
          {"fsync", s.fsync},
          {"sign", s.sign},
          {"burned_in", s.burned_in},
          {"build_cpu", s.build_cpu},
          {"total", s.total},
          {"hash_output_cpu", s.hash_output_cpu},
          {"hash_sources_cpu", s.hash_sources_cpu},
          {"file_thread_cpu", s.file_thread_cpu}};
}

}  // namespace

Status ExportJobRunner::Finish(const JobRow& job, const ExportRow& e, const ExportPlan& plan,
                               const BuildResult& built) {
  records::ExportReady ready;
  ready.path = ExportDirRelative(e.id);
  ready.bytes = built.bytes;
  ready.manifest_sha256 = built.manifest_sha256;
  ready.key_id = built.manifest.key_id;
  ready.expires = clock_.Now() + options_.expiry_us;
  nlohmann::json result = {{"export_id", e.id},
                           {"path", ready.path + "/" + PackageName(e.id)},
                           {"bytes", built.bytes},
                           {"manifest_sha256", built.manifest_sha256},
                           {"files", built.manifest.files.size()},
                           {"gaps", built.manifest.gaps.size()},
                           {"seconds", StepsJson(built.steps)}};
  requests::Workflow workflow(db_, clock_, zone_);
  Status st = db_.WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(db_.MarkExportReady(e.id, ready));
    CUSTODIAN_RETURN_IF_ERROR(workflow.MarkExportPrepared(e.request_id, e.created_by, e.id));
    for (const ManifestRange& r : built.manifest.ranges) {
      records::AccessEntry a;
      a.user_id = e.created_by;
      a.user_name = plan.exporter_name;
      a.action = "export";
      a.camera_id = r.camera_id;
      a.from = r.from;
      a.to = r.to;
      a.purpose_category = "request";
      a.purpose_text = "footage request " + std::to_string(e.request_id) + " (" +
                       records::Name(plan.request.type) + ")";
      a.client = "export job " + std::to_string(job.id);
      a.detail = "export " + std::to_string(e.id);
      CUSTODIAN_RETURN_IF_ERROR(db_.AppendAccess(a).status());
    }
    return db_.FinishJob(job.id, JobState::kSucceeded, result.dump(), std::nullopt);
  });
  if (!st.ok()) return st;
  LogInfo("exports") << "export " << e.id << " ready: " << built.manifest.files.size() << " files, "
                     << built.bytes << " bytes, " << built.manifest.gaps.size() << " gaps reported";
  return Status::Ok();
}

Status ExportJobRunner::Fail(const JobRow& job, int64_t export_id, const Status& why,
                             bool cancelled) {
  const std::string container = JoinPath(options_.data_dir, ExportDirRelative(export_id));
  Status removed = RemoveTree(fs_, container);
  if (!removed.ok()) {
    LogError("exports") << "export " << export_id << ": could not remove " << container << ": "
                        << removed.ToString() << "; the next attempt removes it first";
  }
  const std::string reason = cancelled ? "cancelled" : why.ToString();
  if (cancelled) {
    LogInfo("exports") << "export " << export_id << " cancelled; its files are removed";
  } else {
    LogError("exports") << "export " << export_id << " failed: " << reason;
  }
  return db_.WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(db_.MarkExportFailed(export_id, reason));
    return db_.FinishJob(job.id, cancelled ? JobState::kCancelled : JobState::kFailed, std::nullopt,
                         reason);
  });
}

}  // namespace custodian::jobs
