// Redaction of a ready export: queueing, the record and progress, the contact sheet for
// review (footage: purpose and access log), and the reviewer's sign-off. The job itself
// runs in serve's worker (api/redaction_jobs.h, api/job_worker.h).
//
// Who: managers and the DPO (the route table); a manager only for an export whose every
// camera they may see, the DPO for any, except the contact sheet, which shows footage and
// so needs the camera permission from everyone, as the export download does.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "api/handlers.h"
#include "api/redaction_jobs.h"
#include "exports/export_jobs.h"

namespace custodian::api {

namespace {

using nlohmann::json;
using records::AccessResult;
using RedactionRow = records::Database::RedactionRow;

constexpr size_t kMaxNoteBytes = 2000;

// Sign-offs are serialised: the manifest written into the package names one reviewer.
std::mutex sign_off_mu;

std::string RedactionText(int64_t id) { return "redaction " + std::to_string(id); }

Status CamerasOf(ApiContext& ctx, const Principal& me, const records::ExportRow& e,
                 bool dpo_exempt) {
  if (dpo_exempt && me.role == records::Role::kDpo) return Status::Ok();
  for (const auto& r : e.ranges) {
    auto may = MayViewCamera(ctx, me, r.camera_id);
    if (!may.ok()) return may.status();
    if (!*may) {
      return PermissionDenied("export " + std::to_string(e.id) + " includes camera " +
                              r.camera_id + ", which you have no permission for");
    }
  }
  return Status::Ok();
}

Result<records::ExportRow> LoadExport(ApiContext& ctx, int64_t id) {
  auto e = ctx.db.GetExport(id);
  if (!e.ok()) return FromRecords(e.status(), "read the export");
  if (!*e) return NotFound("no export " + std::to_string(id));
  return std::move(**e);
}

struct Loaded {
  RedactionRow row;
  records::ExportRow e;
};

Result<Loaded> LoadRedaction(ApiContext& ctx, int64_t id) {
  auto r = ctx.db.GetRedaction(id);
  if (!r.ok()) return FromRecords(r.status(), "read the redaction");
  if (!*r || !(*r)->export_id) return NotFound("no " + RedactionText(id));
  auto e = LoadExport(ctx, *(*r)->export_id);
  if (!e.ok()) return e.status();
  return Loaded{std::move(**r), std::move(*e)};
}

json RecordOf(const RedactionRow& row) {
  json j = json::parse(row.record_json, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : json::object();
}

}  // namespace

Result<HttpResponse> HandleStartRedaction(ApiContext& ctx, const Call& call) {
  auto e = LoadExport(ctx, *call.params.id);
  if (!e.ok()) return e.status();
  CUSTODIAN_RETURN_IF_ERROR(CamerasOf(ctx, call.user(), *e, true));
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  auto options = ParseRedactionRequest(*body);
  if (!options.ok()) return options.status();
  RedactionTicket ticket;
  Status st = ctx.db.WithTransaction([&]() -> Status {
    auto t = QueueRedaction(ctx.db, *e, *body, call.user().user_id);
    if (!t.ok()) return t.status();
    ticket = *t;
    return RecordChange(ctx, EntryFor(call, AccessResult::kOk,
                                      RedactionText(ticket.redaction_id) + " of export " +
                                          std::to_string(e->id) + " queued (job " +
                                          std::to_string(ticket.job_id) + ")"));
  });
  if (!st.ok()) return st;
  HttpResponse resp = Json({{"redaction_id", ticket.redaction_id},
                            {"job_id", ticket.job_id},
                            {"export_id", e->id},
                            {"state", "queued"}},
                           202);
  resp.SetHeader("Location", "/api/v1/redactions/" + std::to_string(ticket.redaction_id));
  return resp;
}

Result<HttpResponse> HandleGetRedaction(ApiContext& ctx, const Call& call) {
  auto l = LoadRedaction(ctx, *call.params.id);
  if (!l.ok()) return l.status();
  CUSTODIAN_RETURN_IF_ERROR(CamerasOf(ctx, call.user(), l->e, true));
  json record = RecordOf(l->row);
  std::string state = record.value("state", "queued");
  int progress = state == "done" ? 100 : 0;
  json job = nullptr;
  if (record.contains("job_id") && record["job_id"].is_number_integer()) {
    auto j = ctx.db.GetJob(record["job_id"].get<int64_t>());
    if (!j.ok()) return FromRecords(j.status(), "read the redaction's job");
    if (*j) {
      if (state != "done") {
        progress = std::clamp(static_cast<int>((*j)->progress * 100), 0, 99);
        // The job's state is the truth while the row says queued or running.
        if ((*j)->state == records::JobState::kRunning) state = "running";
        if ((*j)->state == records::JobState::kQueued) state = "queued";
      }
      job = {{"id", (*j)->id},
             {"state", records::Name((*j)->state)},
             {"attempts", (*j)->attempts},
             {"error", (*j)->error ? json(*(*j)->error) : json()}};
    }
  }
  if (l->row.signed_off) state = "signed_off";
  json flagged = json::array();
  for (const json& f : record.value("files", json::array())) {
    for (const json& range : f.value("flagged", json::array())) {
      json r = range;
      r["file"] = f.value("source", "");
      flagged.push_back(r);
    }
  }
  json body = {{"id", l->row.id},
               {"export_id", l->e.id},
               {"request_id", l->e.request_id},
               {"state", state},
               {"progress", progress},
               {"job", job},
               {"created", TimeJson(l->row.created)},
               {"input_sha256", l->row.input_sha256},
               {"output_sha256", state == "done" || state == "signed_off"
                                     ? json(l->row.output_sha256)
                                     : json()},
               {"reviewer_user_id", l->row.reviewer_user_id ? json(*l->row.reviewer_user_id)
                                                            : json()},
               {"signed_off", TimeJson(l->row.signed_off)},
               {"flagged", flagged},
               {"record", record}};
  CUSTODIAN_RETURN_IF_ERROR(
      RecordAccess(ctx, EntryFor(call, AccessResult::kOk, RedactionText(l->row.id))));
  return Json(body);
}

Result<HttpResponse> HandleRedactionContactSheet(ApiContext& ctx, const Call& call) {
  auto l = LoadRedaction(ctx, *call.params.id);
  if (!l.ok()) return l.status();
  // The contact sheet shows footage: the camera permission (the DPO's included) and a
  // purpose, logged per range before anything is sent.
  std::vector<FootageScope> scopes;
  for (const auto& r : l->e.ranges) scopes.push_back({r.camera_id, r.from, r.to});
  if (scopes.empty()) scopes.push_back({});
  Purpose purpose;
  for (const FootageScope& s : scopes) {
    auto admitted = AdmitFootage(ctx, call, s);
    if (!admitted.ok()) return admitted.status();
    purpose = *admitted;
  }
  auto fail = [&](Status why) -> Status {
    for (const FootageScope& s : scopes) {
      Status logged = LogFootage(ctx, call, s, purpose, AccessResult::kError,
                                 RedactionText(l->row.id) + ": " + why.message());
      if (!logged.ok()) return logged;
    }
    return why;
  };
  json record = RecordOf(l->row);
  const json files = record.value("files", json::array());
  size_t index = 0;
  if (const std::string* f = call.request.Query("file")) {
    if (f->empty() || f->size() > 4 || !std::all_of(f->begin(), f->end(), ::isdigit))
      return fail(InvalidArgument("file must be the index of a redacted file"));
    index = static_cast<size_t>(std::stoul(*f));
  }
  if (record.value("state", "") != "done" || index >= files.size() ||
      !files[index].contains("contact_sheet")) {
    return fail(NotFound(RedactionText(l->row.id) + " has no contact sheet " +
                         std::to_string(index) + " (yet)"));
  }
  // The path comes from the record this server wrote, under the export's own directory.
  const std::string path = ctx.options.data_dir + "/" +
                           exports::ExportDirRelative(l->e.id) + "/" +
                           RedactedPackageName(l->e.id, l->row.id) + "/" +
                           files[index]["contact_sheet"].get<std::string>();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return fail(NotFound("the contact sheet of " + RedactionText(l->row.id) + " is gone"));
  auto file = std::make_shared<OpenFile>(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return fail(IoError("the contact sheet is not a regular file"));
  auto viewing = EnterPackageViewing(
      ctx, call, purpose, RedactionText(l->row.id), scopes, static_cast<uint64_t>(st.st_size),
      RedactionText(l->row.id) + " contact sheet " + std::to_string(index));
  if (!viewing.ok()) return viewing.status();
  HttpResponse r;
  NameViewing(&r, *viewing);
  r.content_type = "image/jpeg";
  r.file = FileSlice{file, 0, static_cast<uint64_t>(st.st_size)};
  r.SetHeader("Cache-Control", "no-store");
  return r;
}

Result<HttpResponse> HandleSignOffRedaction(ApiContext& ctx, const Call& call) {
  auto l = LoadRedaction(ctx, *call.params.id);
  if (!l.ok()) return l.status();
  CUSTODIAN_RETURN_IF_ERROR(CamerasOf(ctx, call.user(), l->e, true));
  std::string note;
  if (!call.request.body.empty()) {
    auto body = JsonObjectBody(call.request);
    if (!body.ok()) return body.status();
    auto n = StringMember(*body, "note", kMaxNoteBytes, false);
    if (!n.ok()) return n.status();
    if (*n) note = **n;
  }
  std::lock_guard lock(sign_off_mu);
  Status st = ctx.db.WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(SignOffRedactionPackage(
        ctx.db, ctx.options.data_dir, ctx.options.data_dir + "/keys", l->row.id,
        call.user().user_id, call.user().name, note, ctx.clock.Now()));
    return RecordChange(ctx, EntryFor(call, AccessResult::kOk,
                                      RedactionText(l->row.id) + " of export " +
                                          std::to_string(l->e.id) + " signed off"));
  });
  if (!st.ok()) return st;
  auto row = ctx.db.GetRedaction(l->row.id);
  if (!row.ok()) return FromRecords(row.status(), "read the redaction");
  return Json({{"redaction_id", l->row.id},
               {"export_id", l->e.id},
               {"reviewer_user_id", call.user().user_id},
               {"signed_off", TimeJson((*row)->signed_off)}});
}

}  // namespace custodian::api
