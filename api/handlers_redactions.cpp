// Redaction of a ready export: queueing, the record and progress, the review (the contact
// sheet, the redacted video and the original it was made from: footage, so a purpose and
// an access-log entry per request), and the reviewer's sign-off. The job itself runs in
// serve's worker (jobs/redaction_run.h, jobs/worker.h); the sign-off is jobs/sign_off.h.
//
// Who: managers and the DPO (the route table); a manager only for an export whose every
// camera they may see, the DPO for any, except the routes that show footage, which need
// the camera permission from everyone, as the export download does.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "api/byte_range.h"
#include "api/handlers.h"
#include "exports/export_jobs.h"
#include "jobs/redactions.h"
#include "jobs/sign_off.h"

namespace custodian::api {

namespace {

using jobs::FlaggedRangeId;
using jobs::RedactedPackageName;
using jobs::RedactionText;
using nlohmann::json;
using records::AccessResult;
using RedactionRow = records::Database::RedactionRow;

constexpr size_t kMaxNoteBytes = 2000;

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

// The footage a redaction's review shows: every range of its export.
std::vector<FootageScope> ExportScopes(const records::ExportRow& e) {
  std::vector<FootageScope> scopes;
  for (const auto& r : e.ranges) scopes.push_back({r.camera_id, r.from, r.to});
  if (scopes.empty()) scopes.push_back({});
  return scopes;
}

// The purpose and the camera permission for every range (the DPO's included); a refusal is
// logged by AdmitFootage.
Result<Purpose> AdmitReview(ApiContext& ctx, const Call& call,
                            const std::vector<FootageScope>& scopes) {
  Purpose purpose;
  for (const FootageScope& s : scopes) {
    auto admitted = AdmitFootage(ctx, call, s);
    if (!admitted.ok()) return admitted.status();
    purpose = *admitted;
  }
  return purpose;
}

// ?file=N, the index of a redacted file in the record (default 0).
Result<size_t> FileIndex(const HttpRequest& request) {
  const std::string* f = request.Query("file");
  if (!f) return size_t{0};
  if (f->empty() || f->size() > 4 || !std::all_of(f->begin(), f->end(), ::isdigit))
    return InvalidArgument("file must be the index of a redacted file");
  return static_cast<size_t>(std::stoul(*f));
}

// The reviewer as the record has it (name and role when they signed), or, for a sign-off
// recorded before those were kept, from the accounts.
Result<json> ReviewerOf(ApiContext& ctx, const RedactionRow& row, const json& record) {
  if (!row.reviewer_user_id) return json();
  const json* kept = record.contains("sign_off") ? &record["sign_off"] : nullptr;
  if (kept && kept->is_object() && kept->contains("reviewer")) return (*kept)["reviewer"];
  auto user = ctx.db.GetUserById(*row.reviewer_user_id);
  if (!user.ok()) return FromRecords(user.status(), "read the reviewer's account");
  if (!*user) return json{{"user_id", *row.reviewer_user_id}, {"name", nullptr}, {"role", nullptr}};
  return json{{"user_id", (*user)->id},
              {"name", (*user)->name},
              {"role", records::Name((*user)->role)}};
}

// The camera and time span of one file of the export, from its manifest; nullopt when the
// manifest does not say.
std::optional<FootageScope> FileScope(const ApiContext& ctx, const records::ExportRow& e,
                                      const std::string& rel) {
  auto text =
      ReadFileToString(ctx.fs, ctx.options.data_dir + "/" + exports::ExportDirRelative(e.id) + "/" +
                                   exports::PackageName(e.id) + "/" + exports::kManifestName);
  if (!text.ok()) return std::nullopt;
  const json m = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!m.is_object() || !m.contains("files") || !m["files"].is_array()) return std::nullopt;
  for (const json& f : m["files"]) {
    if (!f.is_object() || f.value("path", "") != rel || !f.contains("camera_id")) continue;
    FootageScope scope{f.value("camera_id", ""), std::nullopt, std::nullopt};
    UtcMicros t;
    if (ParseUtc(f.value("from_utc", ""), &t)) scope.from = t;
    if (ParseUtc(f.value("to_utc", ""), &t)) scope.to = t;
    return scope;
  }
  return std::nullopt;
}

enum class Version { kRedacted, kOriginal };

// "bytes 0-99/5000" or "whole file, 5000 bytes", for the access log.
std::string RangeText(const ByteRange& range, uint64_t size) {
  if (range.kind != ByteRange::Kind::kPartial) {
    return "whole file, " + std::to_string(size) + " bytes";
  }
  return "bytes " + std::to_string(range.offset) + "-" +
         std::to_string(range.offset + range.length - 1) + "/" + std::to_string(size);
}

HttpResponse VideoResponse(std::shared_ptr<OpenFile> file, uint64_t size, const ByteRange& range) {
  HttpResponse r;
  r.content_type = "video/mp4";
  r.file = FileSlice{std::move(file), range.offset, range.length};
  r.SetHeader("Accept-Ranges", "bytes");
  r.SetHeader("Cache-Control", "no-store");
  if (range.kind == ByteRange::Kind::kPartial) {
    r.status = 206;
    r.SetHeader("Content-Range", "bytes " + std::to_string(range.offset) + "-" +
                                     std::to_string(range.offset + range.length - 1) + "/" +
                                     std::to_string(size));
  }
  return r;
}

// The redacted video of file N, or the original it was made from (the export's own copy),
// with Range support so that a browser's <video> can seek. The first request starts a
// viewing (its entry written before anything is sent); the player's further ranges join it.
Result<HttpResponse> ServeReviewVideo(ApiContext& ctx, const Call& call, Version version) {
  auto l = LoadRedaction(ctx, *call.params.id);
  if (!l.ok()) return l.status();
  const std::vector<FootageScope> scopes = ExportScopes(l->e);
  auto purpose = AdmitReview(ctx, call, scopes);
  if (!purpose.ok()) return purpose.status();
  auto log_all = [&](AccessResult result, const std::string& detail) -> Status {
    for (const FootageScope& s : scopes) {
      CUSTODIAN_RETURN_IF_ERROR(LogFootage(ctx, call, s, *purpose, result, detail));
    }
    return Status::Ok();
  };
  auto fail = [&](Status why) -> Status {
    Status logged = log_all(AccessResult::kError, RedactionText(l->row.id) + ": " + why.message());
    return logged.ok() ? why : logged;
  };
  auto index = FileIndex(call.request);
  if (!index.ok()) return fail(index.status());
  const json record = jobs::RedactionRecord(l->row);
  const json files = record.value("files", json::array());
  const char* key = version == Version::kRedacted ? "output" : "source";
  if (record.value("state", "") != "done" || *index >= files.size() ||
      !files[*index].contains(key) || !files[*index][key].is_string()) {
    return fail(NotFound(RedactionText(l->row.id) + " has no video " + std::to_string(*index) +
                         " (yet)"));
  }
  const std::string source = files[*index].value("source", "");
  const std::string rel = files[*index][key].get<std::string>();
  // The path comes from the record this server wrote, under the export's own directory.
  const std::string package = version == Version::kRedacted
                                  ? RedactedPackageName(l->e.id, l->row.id)
                                  : exports::PackageName(l->e.id);
  const std::string path = ctx.options.data_dir + "/" + exports::ExportDirRelative(l->e.id) +
                           "/" + package + "/" + rel;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return fail(NotFound("video " + std::to_string(*index) + " of " +
                                   RedactionText(l->row.id) + " is gone"));
  auto file = std::make_shared<OpenFile>(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return fail(IoError("the video is not a regular file"));
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const std::string* header = call.request.Header("range");
  const ByteRange range =
      header ? ParseByteRange(*header, size) : ByteRange{ByteRange::Kind::kWhole, 0, size};
  if (range.kind == ByteRange::Kind::kUnsatisfiable) {
    CUSTODIAN_RETURN_IF_ERROR(
        log_all(AccessResult::kError, "range not satisfiable: " + header->substr(0, 80)));
    HttpResponse r = ErrorResponse(416, "range_not_satisfiable", "the range lies outside the file");
    r.SetHeader("Content-Range", "bytes */" + std::to_string(size));
    return r;
  }
  const std::string detail =
      RedactionText(l->row.id) +
      (version == Version::kRedacted ? " redacted video " : " original of video ") +
      std::to_string(*index) + " (" + source + ") " + RangeText(range, size);
  // A viewing of the file's own camera and span when the manifest names them, else one per
  // range of the export; the player's further byte ranges join it.
  const auto own = FileScope(ctx, l->e, source);
  auto viewing = EnterPackageViewing(
      ctx, call, *purpose,
      RedactionText(l->row.id) + (version == Version::kRedacted ? " redacted" : " original") +
          " video " + std::to_string(*index),
      own ? std::vector<FootageScope>{*own} : scopes, range.length, detail);
  if (!viewing.ok()) return viewing.status();
  HttpResponse r = VideoResponse(std::move(file), size, range);
  NameViewing(&r, *viewing);
  return r;
}

constexpr size_t kMaxCheckedRanges = 100000;
constexpr size_t kMaxRangeIdBytes = 64;

// The sign-off's "checked" member: the ids of the flagged ranges the reviewer confirms.
Result<std::vector<std::string>> CheckedMember(const json& body) {
  std::vector<std::string> out;
  auto it = body.find("checked");
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_array() || it->size() > kMaxCheckedRanges)
    return InvalidArgument("checked must be an array of flagged range ids (\"0:120-160\")");
  auto well_formed = [](const std::string& id) {
    return !id.empty() && id.size() <= kMaxRangeIdBytes &&
           std::all_of(id.begin(), id.end(), [](char c) {
             return std::isdigit(static_cast<unsigned char>(c)) || c == ':' || c == '-';
           });
  };
  for (const json& id : *it) {
    if (!id.is_string() || !well_formed(id.get<std::string>())) {
      return InvalidArgument("checked must be an array of flagged range ids (\"0:120-160\")");
    }
    out.push_back(id.get<std::string>());
  }
  return out;
}

}  // namespace

Result<HttpResponse> HandleStartRedaction(ApiContext& ctx, const Call& call) {
  auto e = LoadExport(ctx, *call.params.id);
  if (!e.ok()) return e.status();
  CUSTODIAN_RETURN_IF_ERROR(CamerasOf(ctx, call.user(), *e, true));
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  auto options = jobs::ParseRedactionRequest(*body);
  if (!options.ok()) return options.status();
  jobs::RedactionTicket ticket;
  Status st = ctx.db.WithTransaction([&]() -> Status {
    auto t = jobs::QueueRedaction(ctx.db, *e, *body, call.user().user_id);
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
  json record = jobs::RedactionRecord(l->row);
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
  const json files = record.value("files", json::array());
  for (size_t i = 0; i < files.size(); ++i) {
    for (const json& range : files[i].value("flagged", json::array())) {
      json r = range;
      r["id"] = FlaggedRangeId(i, range);
      r["file"] = files[i].value("source", "");
      r["file_index"] = i;
      flagged.push_back(r);
    }
  }
  auto reviewer = ReviewerOf(ctx, l->row, record);
  if (!reviewer.ok()) return reviewer.status();
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
               {"reviewer", *reviewer},
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
  const std::vector<FootageScope> scopes = ExportScopes(l->e);
  auto admitted = AdmitReview(ctx, call, scopes);
  if (!admitted.ok()) return admitted.status();
  const Purpose purpose = *admitted;
  auto fail = [&](Status why) -> Status {
    for (const FootageScope& s : scopes) {
      Status logged = LogFootage(ctx, call, s, purpose, AccessResult::kError,
                                 RedactionText(l->row.id) + ": " + why.message());
      if (!logged.ok()) return logged;
    }
    return why;
  };
  json record = jobs::RedactionRecord(l->row);
  const json files = record.value("files", json::array());
  auto file_index = FileIndex(call.request);
  if (!file_index.ok()) return fail(file_index.status());
  const size_t index = *file_index;
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
  jobs::RedactionSignOff sign_off;
  sign_off.reviewer_id = call.user().user_id;
  sign_off.now = ctx.clock.Now();
  sign_off.client = call.request.client;
  if (!call.request.body.empty()) {
    auto body = JsonObjectBody(call.request);
    if (!body.ok()) return body.status();
    auto n = StringMember(*body, "note", kMaxNoteBytes, false);
    if (!n.ok()) return n.status();
    if (*n) sign_off.note = **n;
    auto checked = CheckedMember(*body);
    if (!checked.ok()) return checked.status();
    sign_off.checked = std::move(checked).value();
  }
  // Built and signed outside the records lock; recorded with its access-log row in one
  // short transaction.
  const jobs::SignOffPaths paths{ctx.options.data_dir, ctx.options.data_dir + "/keys"};
  Status st = jobs::SignOffRedaction(ctx.db, ctx.fs, paths, l->row.id, sign_off);
  if (!st.ok()) return st;
  ctx.metrics.CountAccessEntry(true);
  auto row = ctx.db.GetRedaction(l->row.id);
  if (!row.ok()) return FromRecords(row.status(), "read the redaction");
  return Json({{"redaction_id", l->row.id},
               {"export_id", l->e.id},
               {"reviewer_user_id", call.user().user_id},
               {"reviewer",
                {{"user_id", call.user().user_id},
                 {"name", call.user().name},
                 {"role", records::Name(call.user().role)}}},
               {"signed_off", TimeJson((*row)->signed_off)}});
}

Result<HttpResponse> HandleRedactedVideo(ApiContext& ctx, const Call& call) {
  return ServeReviewVideo(ctx, call, Version::kRedacted);
}

Result<HttpResponse> HandleRedactionOriginal(ApiContext& ctx, const Call& call) {
  return ServeReviewVideo(ctx, call, Version::kOriginal);
}

}  // namespace custodian::api
