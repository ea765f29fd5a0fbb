// Exports: queueing, progress, cancelling, the DSAR justification, the encrypted
// copy for removable media, the download of a package, and the signing key recipients
// verify with.
//
// The jobs themselves run in `custodian serve`'s worker (jobs/worker.h). A download
// reveals footage: it needs a stated purpose and the camera permission for every range,
// and one access-log entry per range is durable before the first byte is sent. The package
// goes out as one file: a tar of the package directory (made on the first download, kept
// beside the package), or the encrypted zip when one was made (format=zip). Whether it may
// go out at all (the export's state and expiry, its request's state, a DSAR's redaction) is
// requests::CheckExportMayLeave, the rule the encrypted zip and the handover follow too.
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "api/byte_range.h"
#include "api/handlers.h"
#include "api/package_tar.h"
#include "base/filesystem.h"
#include "exports/export_jobs.h"
#include "exports/manifest.h"
#include "exports/recording_wait.h"
#include "exports/signing.h"
#include "jobs/redactions.h"
#include "requests/workflow.h"

namespace custodian::api {

namespace {

using nlohmann::json;
using records::AccessResult;
using records::ExportRow;

constexpr size_t kMaxTextBytes = 2000;

// Tars are made under this lock: two first downloads of one export must not both write it.
std::mutex tar_mu;

std::string ExportText(int64_t id) { return "export " + std::to_string(id); }

// Same as config::KeysDir: the keys live under the data directory.
std::string KeysDir(const ApiContext& ctx) { return ctx.options.data_dir + "/keys"; }

std::string ContainerDir(const ApiContext& ctx, int64_t id) {
  return ctx.options.data_dir + "/" + exports::ExportDirRelative(id);
}

Result<ExportRow> LoadExport(ApiContext& ctx, int64_t id) {
  auto e = ctx.db.GetExport(id);
  if (!e.ok()) return FromRecords(e.status(), "read the export");
  if (!*e) return NotFound("no " + ExportText(id));
  return std::move(**e);
}

// Whether every range's camera is permitted to the caller.
Status CamerasPermitted(ApiContext& ctx, const Principal& me,
                        const std::vector<records::FootageRange>& ranges, const std::string& what) {
  for (const auto& r : ranges) {
    auto may = MayViewCamera(ctx, me, r.camera_id);
    if (!may.ok()) return may.status();
    if (!*may) {
      return PermissionDenied(what + " includes camera " + r.camera_id +
                              ", which you have no permission for");
    }
  }
  return Status::Ok();
}

// Managers act on exports whose every camera they may see; the DPO on any.
Status CheckCameras(ApiContext& ctx, const Principal& me, const ExportRow& e) {
  if (me.role == records::Role::kDpo) return Status::Ok();
  return CamerasPermitted(ctx, me, e.ranges, ExportText(e.id));
}

Result<ExportRow> ScopedExport(ApiContext& ctx, const Call& call) {
  auto e = LoadExport(ctx, *call.params.id);
  if (!e.ok()) return e.status();
  CUSTODIAN_RETURN_IF_ERROR(CheckCameras(ctx, call.user(), *e));
  return e;
}

Status LogChange(ApiContext& ctx, const Call& call, const std::string& detail) {
  return RecordChange(ctx, EntryFor(call, AccessResult::kOk, detail));
}

// The files listed in a ready export's manifest; empty when it cannot be read.
json ManifestFiles(const ApiContext& ctx, const ExportRow& e) {
  json files = json::array();
  if (e.state != records::ExportState::kReady || !e.path) return files;
  auto text =
      ReadFileToString(ctx.fs, ctx.options.data_dir + "/" + *e.path + "/" +
                                   exports::PackageName(e.id) + "/" + exports::kManifestName);
  if (!text.ok()) return files;
  json m = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!m.is_object() || !m.contains("files") || !m["files"].is_array()) return files;
  for (const json& f : m["files"]) {
    if (!f.is_object()) continue;
    json file = {{"path", f.value("path", "")},
                 {"kind", f.value("kind", "")},
                 {"bytes", f.value("bytes", int64_t{0})},
                 {"sha256", f.value("sha256", "")}};
    // Video files: the frame size and camera, for drawing redaction regions in the UI.
    if (f.contains("width")) {
      file["width"] = f.value("width", 0);
      file["height"] = f.value("height", 0);
      file["camera"] = f.value("camera_id", "");
      file["from"] = f.value("from_utc", "");
      file["to"] = f.value("to_utc", "");
    }
    files.push_back(file);
  }
  return files;
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// --- Download -------------------------------------------------------------------------

// One entry per range of the export, each with the purpose offered.
Status LogDownload(ApiContext& ctx, const Call& call, const std::optional<ExportRow>& e,
                   const Purpose& purpose, AccessResult result, const std::string& detail) {
  std::vector<FootageScope> scopes;
  if (e) {
    for (const auto& r : e->ranges) scopes.push_back({r.camera_id, r.from, r.to});
  }
  if (scopes.empty()) scopes.push_back({});
  for (const FootageScope& s : scopes) {
    CUSTODIAN_RETURN_IF_ERROR(LogFootage(ctx, call, s, purpose, result, detail));
  }
  return Status::Ok();
}

Status DownloadFailed(ApiContext& ctx, const Call& call, const std::optional<ExportRow>& e,
                      const Purpose& purpose, Status failure) {
  const AccessResult result = failure.kind() == ErrorKind::kPermissionDenied ||
                                      failure.kind() == ErrorKind::kInvalidArgument
                                  ? AccessResult::kDenied
                                  : AccessResult::kError;
  const std::string id = e ? ExportText(e->id) : ExportText(*call.params.id);
  Status logged = LogDownload(ctx, call, e, purpose, result, id + ": " + failure.message());
  return logged.ok() ? failure : logged;
}

struct PackageFile {
  std::shared_ptr<OpenFile> file;
  uint64_t size = 0;
  std::string name;  // for Content-Disposition
  std::string content_type;
};

// The package folder that goes out for an export: a DSAR goes out redacted once a
// redaction of it is signed off (jobs/redactions.h), so its newest signed-off redacted
// package when there is one; otherwise the export's own package. The encrypted zip is made
// from the same choice, so this also says what a zip holds.
Result<std::string> OutgoingPackage(ApiContext& ctx, const ExportRow& e) {
  auto request = ctx.db.GetFootageRequest(e.request_id);
  if (!request.ok()) return FromRecords(request.status(), "read the export's request");
  if (*request && (*request)->type == records::RequestType::kDsar) {
    auto redaction = jobs::SignedOffRedaction(ctx.db, ctx.fs, ctx.options.data_dir, e.id);
    if (!redaction.ok()) return FromRecords(redaction.status(), "read the export's redactions");
    if (*redaction) return jobs::RedactedPackageName(e.id, (*redaction)->id);
  }
  return exports::PackageName(e.id);
}

// The one rule for an export leaving the box (requests::CheckExportMayLeave), for `package`
// as OutgoingPackage chose it.
Status MayLeave(ApiContext& ctx, const ExportRow& e, const std::string& package) {
  return requests::CheckExportMayLeave(ctx.db, e, package != exports::PackageName(e.id),
                                       ctx.clock.Now());
}

// Opens the tar of `package` (made on first use) or, with zip, the encrypted zip.
Result<PackageFile> OpenPackageFile(ApiContext& ctx, const ExportRow& e,
                                    const std::string& package, bool zip) {
  const std::string container = ContainerDir(ctx, e.id);
  PackageFile out;
  out.name = zip ? exports::PackageName(e.id) + ".zip" : package + ".tar";
  out.content_type = zip ? "application/zip" : "application/x-tar";
  const std::string path = container + "/" + out.name;
  if (zip && !FileExists(path)) {
    return NotFound("no encrypted zip of " + ExportText(e.id) +
                    " has been made (POST /api/v1/exports/" + std::to_string(e.id) +
                    "/encrypted-zip)");
  }
  if (!zip) {
    std::lock_guard lock(tar_mu);
    if (!FileExists(path)) {
      CUSTODIAN_RETURN_IF_ERROR(WritePackageTar(container + "/" + package, package, path, ctx.fs));
    }
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return IoError("open the package of " + ExportText(e.id) + ": " + std::strerror(errno));
  out.file = std::make_shared<OpenFile>(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return IoError("the package of " + ExportText(e.id) + " is not a regular file");
  }
  out.size = static_cast<uint64_t>(st.st_size);
  return out;
}

std::string RangeDetail(const ExportRow& e, const PackageFile& p, const ByteRange& r) {
  std::string d = ExportText(e.id) + " " + p.name;
  if (r.kind == ByteRange::Kind::kPartial) {
    return d + " bytes " + std::to_string(r.offset) + "-" +
           std::to_string(r.offset + r.length - 1) + "/" + std::to_string(p.size);
  }
  return d + " whole file, " + std::to_string(p.size) + " bytes";
}

}  // namespace

Result<HttpResponse> HandleStartExport(ApiContext& ctx, const Call& call) {
  auto r = ctx.db.GetFootageRequest(*call.params.id);
  if (!r.ok()) return FromRecords(r.status(), "read the request");
  if (!*r) return NotFound("no request " + std::to_string(*call.params.id));
  if (call.user().role != records::Role::kDpo) {
    CUSTODIAN_RETURN_IF_ERROR(
        CamerasPermitted(ctx, call.user(), (*r)->ranges, "request " + std::to_string((*r)->id)));
  }
  bool originals = false;
  bool burned_in = false;
  if (!call.request.body.empty()) {
    auto body = JsonObjectBody(call.request);
    if (!body.ok()) return body.status();
    for (const char* key : {"include_originals", "master_copy", "burned_in_copy"}) {
      auto it = body->find(key);
      if (it == body->end()) continue;
      if (!it->is_boolean())
        return InvalidArgument(std::string("\"") + key + "\" must be true or false");
      bool& flag = std::string(key) == "burned_in_copy" ? burned_in : originals;
      flag = flag || it->get<bool>();
    }
  }
  exports::ExportTicket ticket;
  Status st = ctx.db.WithTransaction([&]() -> Status {
    auto t = exports::RequestExport(ctx.db, (*r)->id, call.user().user_id, originals, burned_in);
    if (!t.ok()) return t.status();
    ticket = *t;
    return LogChange(ctx, call,
                     ExportText(ticket.export_id) + " of request " + std::to_string((*r)->id) +
                         " queued (job " + std::to_string(ticket.job_id) + ")");
  });
  if (!st.ok()) return st;
  HttpResponse resp = Json({{"export_id", ticket.export_id},
                            {"job_id", ticket.job_id},
                            {"state", "building"},
                            {"include_originals", originals},
                            {"burned_in_copy", burned_in}},
                           202);
  resp.SetHeader("Location", "/api/v1/exports/" + std::to_string(ticket.export_id));
  return resp;
}

Result<HttpResponse> HandleGetExport(ApiContext& ctx, const Call& call) {
  auto e = ScopedExport(ctx, call);
  if (!e.ok()) return e.status();
  json job = nullptr;
  int progress = e->state == records::ExportState::kReady ? 100 : 0;
  if (e->job_id) {
    auto j = ctx.db.GetJob(*e->job_id);
    if (!j.ok()) return FromRecords(j.status(), "read the export's job");
    if (*j) {
      if (e->state != records::ExportState::kReady) {
        progress = std::clamp(static_cast<int>((*j)->progress * 100), 0, 99);
      }
      job = {{"id", (*j)->id},
             {"state", records::Name((*j)->state)},
             {"attempts", (*j)->attempts},
             {"cancel_requested", (*j)->cancel_requested}};
    }
  }
  // An export waits, before it is built, for footage still being recorded
  // (exports/recording_wait.h); say so, with how much is recorded, rather than show 0%.
  json waiting = nullptr;
  if (e->state == records::ExportState::kBuilding) {
    auto pending = exports::FindRecordingInProgress(ctx.db, e->ranges, ctx.clock.Now());
    if (!pending.ok()) return FromRecords(pending.status(), "read the export's segments");
    if (!pending->empty()) {
      waiting = {{"text", exports::DescribeWait(*pending, TimeZone::UkLocal())},
                 {"recorded_percent",
                  std::min(99, static_cast<int>(exports::RecordedFraction(e->ranges, *pending) * 100))}};
    }
  }
  const std::string container = ContainerDir(ctx, e->id);
  json ranges = json::array();
  for (const auto& r : e->ranges) {
    ranges.push_back({{"camera", r.camera_id}, {"from", TimeJson(r.from)}, {"to", TimeJson(r.to)}});
  }
  json body = {
      {"id", e->id},
      {"request_id", e->request_id},
      {"state", records::Name(e->state)},
      {"progress", progress},
      {"job", job},
      {"waiting_for_recording", waiting},
      {"error", e->error ? json(*e->error) : json()},
      {"created", TimeJson(e->created)},
      {"created_by", e->created_by},
      {"include_originals", e->include_originals},
      {"redacted", e->redacted},
      {"unredacted_justification",
       e->unredacted_justification ? json(*e->unredacted_justification) : json()},
      {"bytes", e->bytes},
      {"manifest_sha256", e->manifest_sha256 ? json(*e->manifest_sha256) : json()},
      {"key_id", e->key_id ? json(*e->key_id) : json()},
      {"expires", TimeJson(e->expires)},
      {"ranges", ranges},
      {"files", ManifestFiles(ctx, *e)},
      {"encrypted_zip", FileExists(container + "/" + exports::PackageName(e->id) + ".zip")}};
  // Its redactions (jobs/redactions.h), newest last, so a page can resume showing them.
  auto redactions = ctx.db.ListRedactionsForExport(e->id);
  if (!redactions.ok()) return FromRecords(redactions.status(), "read the export's redactions");
  body["redactions"] = json::array();
  for (const auto& red : *redactions) {
    body["redactions"].push_back({{"id", red.id}, {"signed_off", TimeJson(red.signed_off)}});
  }
  CUSTODIAN_RETURN_IF_ERROR(
      RecordAccess(ctx, EntryFor(call, AccessResult::kOk, ExportText(e->id))));
  return Json(body);
}

Result<HttpResponse> HandleCancelExport(ApiContext& ctx, const Call& call) {
  auto e = ScopedExport(ctx, call);
  if (!e.ok()) return e.status();
  if (e->state != records::ExportState::kBuilding) {
    return FailedPrecondition(ExportText(e->id) + " is " + records::Name(e->state) +
                              "; only an export being built can be cancelled");
  }
  records::JobState state = records::JobState::kQueued;
  Status st = ctx.db.WithTransaction([&]() -> Status {
    auto s = exports::CancelExport(ctx.db, e->id);
    if (!s.ok()) return s.status();
    state = *s;
    return LogChange(ctx, call, ExportText(e->id) + " cancelled");
  });
  if (!st.ok()) return st;
  const bool done = state == records::JobState::kCancelled;
  return Json({{"export_id", e->id}, {"state", done ? "cancelled" : "cancel_requested"}}, 202);
}

Result<HttpResponse> HandleJustifyUnredacted(ApiContext& ctx, const Call& call) {
  auto e = ScopedExport(ctx, call);
  if (!e.ok()) return e.status();
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  auto why = StringMember(*body, "why", kMaxTextBytes, true);
  if (!why.ok()) return why.status();
  requests::Workflow workflow(ctx.db, ctx.clock);
  Status st = ctx.db.WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(workflow.JustifyUnredactedRelease(e->id, call.user().user_id, **why));
    return LogChange(ctx, call, ExportText(e->id) + " may go out unredacted");
  });
  if (!st.ok()) return st;
  return NoContent();
}

Result<HttpResponse> HandleEncryptedZip(ApiContext& ctx, const Call& call) {
  auto e = ScopedExport(ctx, call);
  if (!e.ok()) return e.status();
  // A DSAR's copy holds its signed-off redacted package. exports applies the rule for
  // leaving the box (requests::CheckExportMayLeave) and records its own access-log entry
  // (export_copy); the password is in this answer only.
  auto package = OutgoingPackage(ctx, *e);
  if (!package.ok()) return package.status();
  auto copy = exports::MakeRemovableMediaCopy(ctx.db, ctx.fs, ctx.options.data_dir, e->id,
                                              call.user().user_id, *package);
  if (!copy.ok()) return copy.status();
  return Json({{"export_id", e->id},
               {"file", exports::PackageName(e->id) + ".zip"},
               {"password", copy->password},
               {"note",
                "the password is shown this once and stored nowhere; give it to the recipient "
                "separately from the media"}},
              201);
}

Result<HttpResponse> HandleDownloadExport(ApiContext& ctx, const Call& call) {
  const Purpose offered = OfferedPurpose(call.request);
  auto loaded = LoadExport(ctx, *call.params.id);
  if (!loaded.ok()) return DownloadFailed(ctx, call, std::nullopt, offered, loaded.status());
  const std::optional<ExportRow> e = *loaded;
  // Footage itself needs the camera permission, the DPO's included (docs/design/api.md).
  Status cams = CamerasPermitted(ctx, call.user(), e->ranges, ExportText(e->id));
  if (!cams.ok()) return DownloadFailed(ctx, call, e, offered, cams);
  auto purpose = PurposeOf(call.request);
  if (!purpose.ok()) return DownloadFailed(ctx, call, e, offered, purpose.status());
  const std::string* format = call.request.Query("format");
  if (format && *format != "tar" && *format != "zip") {
    return DownloadFailed(ctx, call, e, *purpose, InvalidArgument("format must be tar or zip"));
  }
  // Refused before any file is opened or made: nothing of the package goes out.
  auto package = OutgoingPackage(ctx, *e);
  if (!package.ok()) return DownloadFailed(ctx, call, e, *purpose, package.status());
  Status may = MayLeave(ctx, *e, *package);
  if (!may.ok()) return DownloadFailed(ctx, call, e, *purpose, may);
  auto file = OpenPackageFile(ctx, *e, *package, format && *format == "zip");
  if (!file.ok()) return DownloadFailed(ctx, call, e, *purpose, file.status());
  const std::string* header = call.request.Header("range");
  ByteRange range = header ? ParseByteRange(*header, file->size)
                           : ByteRange{ByteRange::Kind::kWhole, 0, file->size};
  if (range.kind == ByteRange::Kind::kUnsatisfiable) {
    CUSTODIAN_RETURN_IF_ERROR(LogDownload(ctx, call, e, *purpose, AccessResult::kError,
                                          ExportText(e->id) + ": range not satisfiable"));
    HttpResponse r = ErrorResponse(416, "range_not_satisfiable", "the range lies outside the file");
    r.SetHeader("Content-Range", "bytes */" + std::to_string(file->size));
    return r;
  }
  std::vector<FootageScope> ranges;
  for (const auto& er : e->ranges) ranges.push_back({er.camera_id, er.from, er.to});
  auto viewing = EnterPackageViewing(ctx, call, *purpose, ExportText(e->id), ranges,
                                     range.length, RangeDetail(*e, *file, range));
  if (!viewing.ok()) return viewing.status();
  HttpResponse r;
  NameViewing(&r, *viewing);
  r.content_type = file->content_type;
  r.file = FileSlice{file->file, range.offset, range.length};
  r.SetHeader("Accept-Ranges", "bytes");
  r.SetHeader("Content-Disposition", "attachment; filename=\"" + file->name + "\"");
  if (range.kind == ByteRange::Kind::kPartial) {
    r.status = 206;
    r.SetHeader("Content-Range", "bytes " + std::to_string(range.offset) + "-" +
                                     std::to_string(range.offset + range.length - 1) + "/" +
                                     std::to_string(file->size));
  }
  return r;
}

Result<HttpResponse> HandleSigningKey(ApiContext& ctx, const Call&) {
  auto key = exports::SigningKey::LoadOrCreate(KeysDir(ctx), ctx.fs);
  if (!key.ok()) return key.status();
  const exports::PublicKey& pk = key->public_key();
  return Json({{"algorithm", "minisign Ed25519"},
               {"key_id", pk.KeyIdHex()},
               {"public_key", pk.Base64()},
               {"public_key_file", pk.FileText()},
               {"verify_command", "minisign -Vm manifest.json -P " + pk.Base64()}});
}

}  // namespace custodian::api
