#include "exports/export_jobs.h"

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "exports/zip.h"
#include "requests/workflow.h"

namespace custodian::exports {

using records::ExportRow;
using records::JobRow;
using records::JobState;
using records::RequestState;

namespace {

// Job progress is written when it has moved 5% and a second has passed since the last
// write: each write is a commit (an fsync), which an hour's export should not do fifty times.
constexpr double kProgressStep = 0.05;
constexpr int64_t kProgressInterval = kMicrosPerSecond;

Result<records::UserRow> ActiveUser(records::Database& db, int64_t id) {
  auto u = db.GetUserById(id);
  if (!u.ok()) return u.status();
  if (!u->has_value()) return NotFound("no user " + std::to_string(id));
  if ((*u)->disabled) return PermissionDenied("user " + (*u)->name + " is disabled");
  return **u;
}

// Whether the job's parameters ask for a burned-in working copy (RequestExport).
bool BurnedInCopyAsked(const std::string& params) {
  const nlohmann::json p = nlohmann::json::parse(params, nullptr, false);
  if (!p.is_object()) return false;
  auto it = p.find("burned_in_copy");
  return it != p.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace

std::string ExportDirRelative(int64_t export_id) { return "exports/" + std::to_string(export_id); }
std::string PackageName(int64_t export_id) { return "export-" + std::to_string(export_id); }

Status RemoveTree(Filesystem& fs, const std::string& path) {
  if (!fs.Exists(path)) return Status::Ok();
  auto entries = fs.List(path);
  if (!entries.ok()) return fs.Unlink(path);  // a file, not a directory
  for (const DirEntry& e : *entries) {
    const std::string child = JoinPath(path, e.name);
    CUSTODIAN_RETURN_IF_ERROR(e.is_dir ? RemoveTree(fs, child) : fs.Unlink(child));
  }
  CUSTODIAN_RETURN_IF_ERROR(fs.RemoveDir(path));
  return fs.SyncDir(DirName(path));
}

Result<ExportTicket> RequestExport(records::Database& db, int64_t request_id, int64_t by,
                                   bool include_originals, bool burned_in_copy) {
  auto user = ActiveUser(db, by);
  if (!user.ok()) return user.status();
  auto r = db.GetFootageRequest(request_id);
  if (!r.ok()) return r.status();
  if (!r->has_value()) return NotFound("no request " + std::to_string(request_id));
  const RequestState s = (*r)->state;
  if (s != RequestState::kApproved && s != RequestState::kExportPrepared &&
      s != RequestState::kDisclosed) {
    return FailedPrecondition("request " + std::to_string(request_id) + " is " + records::Name(s) +
                              "; footage is exported only once a manager "
                              "has approved the request");
  }
  ExportTicket t;
  Status st = db.WithTransaction([&]() -> Status {
    ExportRow e;
    e.request_id = request_id;
    e.created_by = by;
    e.include_originals = include_originals;
    e.ranges = (*r)->ranges;
    auto id = db.CreateExport(e);
    if (!id.ok()) return id.status();
    t.export_id = *id;
    nlohmann::json params = {{"export_id", *id}};
    if (burned_in_copy) params["burned_in_copy"] = true;
    auto job = db.EnqueueJob(kExportJobKind, params.dump(), by);
    if (!job.ok()) return job.status();
    t.job_id = *job;
    return db.SetExportJob(t.export_id, t.job_id);
  });
  if (!st.ok()) return st;
  LogInfo("exports") << "export " << t.export_id << " of request " << request_id
                     << " queued as job " << t.job_id;
  return t;
}

Result<JobState> CancelExport(records::Database& db, int64_t export_id) {
  auto e = db.GetExport(export_id);
  if (!e.ok()) return e.status();
  if (!e->has_value() || !(*e)->job_id)
    return NotFound("no export job for export " + std::to_string(export_id));
  auto state = db.RequestJobCancel(*(*e)->job_id);
  if (!state.ok()) return state.status();
  if (*state == JobState::kCancelled) {
    // Never started: nothing on disk to remove.
    Status st = db.MarkExportFailed(export_id, "cancelled before it started");
    if (!st.ok() && st.kind() != ErrorKind::kFailedPrecondition) return st;
  }
  return state;
}

ExportJobRunner::ExportJobRunner(records::Database& db, Filesystem& fs, const Clock& clock,
                                 ExportServiceOptions options, const TimeZone& zone)
    : db_(db), fs_(fs), clock_(clock), options_(std::move(options)), zone_(zone) {}

Result<int> ExportJobRunner::RecoverAfterRestart() {
  auto requeued = db_.RequeueRunningJobs({kExportJobKind});
  if (!requeued.ok()) return requeued.status();
  for (const JobRow& job : *requeued) {
    LogInfo("exports") << "job " << job.id << " was running when the service stopped; "
                       << (job.state == JobState::kCancelled
                               ? "it had been cancelled, so it stays cancelled"
                               : "it is queued again and will rebuild from scratch");
  }
  return static_cast<int>(requeued->size());
}

Result<std::optional<int64_t>> ExportJobRunner::RunNext() {
  auto claimed = db_.ClaimNextJob({kExportJobKind}, options_.worker);
  if (!claimed.ok()) return claimed.status();
  if (!claimed->has_value()) return std::optional<int64_t>();
  const JobRow job = **claimed;
  int64_t export_id = 0;
  try {
    export_id = nlohmann::json::parse(job.params).at("export_id").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    CUSTODIAN_RETURN_IF_ERROR(
        db_.FinishJob(job.id, JobState::kFailed, std::nullopt, "bad job parameters"));
    return std::optional<int64_t>(job.id);
  }
  CUSTODIAN_RETURN_IF_ERROR(Execute(job, export_id));
  return std::optional<int64_t>(job.id);
}

void ExportJobRunner::RunUntilStopped(const std::atomic<bool>& stop, int64_t idle_us) {
  while (!stop.load()) {
    auto ran = RunNext();
    if (!ran.ok()) {
      LogError("exports") << "export worker: " << ran.status().ToString() << "; retrying";
      clock_.SleepFor(idle_us);
    } else if (!ran->has_value()) {
      clock_.SleepFor(idle_us);
    }
  }
}

Status ExportJobRunner::Execute(const JobRow& job, int64_t export_id) {
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
  auto key = SigningKey::LoadOrCreate(options_.keys_dir);
  if (!key.ok()) return Fail(job, export_id, key.status(), false);
  bool cancelled = false;
  auto cancel = [&]() {
    auto j = db_.GetJob(job.id);
    cancelled = j.ok() && j->has_value() && (*j)->cancel_requested;
    return cancelled;
  };
  // Footage still being recorded is waited for, never left out of a signed package.
  Status recorded = AwaitRecorded(db_, clock_, zone_, (*e)->ranges, options_.build.recording_wait,
                                  nullptr, cancel);
  if (!recorded.ok()) return Fail(job, export_id, recorded, cancelled);
  auto plan = PlanExport(db_, export_id, options_.site_name);
  if (!plan.ok()) return Fail(job, export_id, plan.status(), false);
  plan->burned_in_copy = BurnedInCopyAsked(job.params);


  double reported = 0;
  MonoMicros reported_at = clock_.Monotonic();
  auto progress = [&](double f) {
    const MonoMicros now = clock_.Monotonic();
    // 1.0 is written by FinishJob, in the same commit as the result.
    if (f >= 1.0 || f - reported < kProgressStep || now - reported_at < kProgressInterval) return;
    reported = f;
    reported_at = now;
    Status st = db_.SetJobProgress(job.id, f);
    if (!st.ok()) LogWarn("exports") << "job " << job.id << " progress: " << st.ToString();
  };
  const std::string partial = JoinPath(container, PackageName(export_id) + ".partial");
  auto built = BuildPackage(*plan, options_.data_dir, partial, *key, fs_, clock_, zone_,
                            options_.build, progress, cancel);
  if (!built.ok()) return Fail(job, export_id, built.status(), cancelled);
  Status renamed = fs_.Rename(partial, JoinPath(container, PackageName(export_id)));
  if (!renamed.ok()) return Fail(job, export_id, renamed, false);
  return Finish(job, **e, *plan, *built);
}

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
                           {"gaps", built.manifest.gaps.size()}};
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

Result<RemovableMediaCopy> MakeRemovableMediaCopy(records::Database& db, Filesystem& fs,
                                                  const std::string& data_dir, int64_t export_id,
                                                  int64_t by, const std::string& package) {
  auto user = ActiveUser(db, by);
  if (!user.ok()) return user.status();
  if (!requests::CanDecide(user->role)) {
    return PermissionDenied("only a manager or the DPO makes a removable-media copy");
  }
  auto e = db.GetExport(export_id);
  if (!e.ok()) return e.status();
  if (!e->has_value()) return NotFound("no export " + std::to_string(export_id));
  // A copy for removable media leaves the box: the same rule as a download or a handover.
  // Any package other than the export's own is a signed-off redacted one (the caller's).
  const std::string source = package.empty() ? PackageName(export_id) : package;
  CUSTODIAN_RETURN_IF_ERROR(
      requests::CheckExportMayLeave(db, **e, source != PackageName(export_id), db.Now()));
  const std::string container = JoinPath(data_dir, ExportDirRelative(export_id));
  RemovableMediaCopy copy;
  copy.zip_path = JoinPath(container, PackageName(export_id) + ".zip");
  // A zip made earlier has a password nobody can recover; it is replaced.
  if (fs.Exists(copy.zip_path)) CUSTODIAN_RETURN_IF_ERROR(fs.Unlink(copy.zip_path));
  copy.password = GeneratePassword();
  CUSTODIAN_RETURN_IF_ERROR(
      MakeEncryptedZip(JoinPath(container, source), copy.zip_path, copy.password));
  CUSTODIAN_RETURN_IF_ERROR(fs.SyncDir(container));
  records::AccessEntry a;
  a.user_id = by;
  a.user_name = user->name;
  a.action = "export_copy";
  a.purpose_category = "request";
  a.purpose_text = "encrypted copy for removable media";
  a.client = "custodian";
  a.detail = "export " + std::to_string(export_id);
  CUSTODIAN_RETURN_IF_ERROR(db.AppendAccess(a).status());
  return copy;
}

}  // namespace custodian::exports
