#include "exports/export_jobs.h"

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "exports/zip.h"
#include "requests/rules.h"
#include "requests/workflow.h"

namespace custodian::exports {

using records::ExportRow;
using records::JobState;
using records::RequestState;

namespace {

Result<records::UserRow> ActiveUser(records::Database& db, int64_t id) {
  auto u = db.GetUserById(id);
  if (!u.ok()) return u.status();
  if (!u->has_value()) return NotFound("no user " + std::to_string(id));
  if ((*u)->disabled) return PermissionDenied("user " + (*u)->name + " is disabled");
  return **u;
}

}  // namespace

bool BurnedInCopyAsked(const std::string& params) {
  const nlohmann::json p = nlohmann::json::parse(params, nullptr, false);
  if (!p.is_object()) return false;
  auto it = p.find("burned_in_copy");
  return it != p.end() && it->is_boolean() && it->get<bool>();
}

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
  if (!requests::MayExport(s)) {
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
