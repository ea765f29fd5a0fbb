#include "api/handler_support.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace custodian::api {

using records::AccessEntry;
using records::AccessResult;

ApiContext::ApiContext(records::Database& db_in, records::Database& access_log_db,
                       const Clock& clock_in, ApiOptions options_in)
    : db(db_in),
      clock(clock_in),
      options(std::move(options_in)),
      fs(options.filesystem ? *options.filesystem : PosixFilesystem::Instance()),
      sessions(db_in, clock_in, options.sessions),
      access_log(access_log_db),
      viewings(access_log, clock_in, options.viewing_idle_timeout_us),
      sign_in_limiter(options.rate_limits.sign_in, options.rate_limits.max_addresses),
      no_session_limiter(options.rate_limits.no_session, options.rate_limits.max_addresses),
      no_session_refusals(options.rate_limits.refusal_log_window_us,
                          options.rate_limits.max_addresses) {}

HttpResponse Json(const nlohmann::json& body, int status) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse NoContent() {
  HttpResponse r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

nlohmann::json TimeJson(UtcMicros t) { return FormatUtc(t); }

nlohmann::json TimeJson(const std::optional<UtcMicros>& t) {
  return t ? nlohmann::json(FormatUtc(*t)) : nlohmann::json(nullptr);
}

nlohmann::json UserJson(const records::UserRow& u) {
  return {{"id", u.id},
          {"name", u.name},
          {"role", records::Name(u.role)},
          {"disabled", u.disabled},
          {"must_change_password", u.must_change_password},
          {"failed_logins", u.failed_logins},
          {"locked_until", TimeJson(u.locked_until)},
          {"created", TimeJson(u.created)}};
}

Result<People> People::Load(ApiContext& ctx) {
  auto users = ctx.db.ListUsers();
  if (!users.ok()) return FromRecords(users.status(), "list accounts");
  People p;
  for (const auto& u : *users) {
    const records::Role r = u.role;
    p.who_[u.id] = u.name + " (" + (r == records::Role::kDpo ? "DPO" : records::Name(r)) + ")";
  }
  return p;
}

std::string People::Who(int64_t id) const {
  auto it = who_.find(id);
  return it != who_.end() ? it->second : "account " + std::to_string(id);
}

nlohmann::json People::Who(const std::optional<int64_t>& id) const {
  return id ? nlohmann::json(Who(*id)) : nlohmann::json();
}

Result<nlohmann::json> JsonObjectBody(const HttpRequest& request) {
  nlohmann::json j = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("the request body is not valid JSON");
  if (!j.is_object()) return InvalidArgument("the request body must be a JSON object");
  return j;
}

Result<std::optional<std::string>> StringMember(const nlohmann::json& object,
                                                const std::string& key, size_t max_bytes,
                                                bool required) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (required) return InvalidArgument("missing \"" + key + "\"");
    return std::optional<std::string>();
  }
  if (!it->is_string()) return InvalidArgument("\"" + key + "\" must be a string");
  std::string value = it->get<std::string>();
  if (value.size() > max_bytes) {
    return InvalidArgument("\"" + key + "\" is longer than " + std::to_string(max_bytes) +
                           " bytes");
  }
  if (!IsPrintableUtf8(value)) {
    return InvalidArgument("\"" + key + "\" must be printable text");
  }
  return std::optional<std::string>(std::move(value));
}

Result<UtcMicros> TimeParam(const HttpRequest& request, const std::string& key) {
  const std::string* v = request.Query(key);
  if (!v) return InvalidArgument("missing query parameter " + key);
  UtcMicros t;
  if (v->size() > 40 || !ParseUtc(*v, &t)) {
    return InvalidArgument(key + " must be a UTC time like 2026-01-01T00:00:00Z");
  }
  return t;
}

Result<TimeRange> RangeParams(const HttpRequest& request, int64_t max_span_us) {
  auto from = TimeParam(request, "from");
  if (!from.ok()) return from.status();
  auto to = TimeParam(request, "to");
  if (!to.ok()) return to.status();
  if (!(*from < *to)) return InvalidArgument("from must be before to");
  if (*to - *from > max_span_us) {
    return InvalidArgument("the time range is too long: at most " +
                           std::to_string(max_span_us / kMicrosPerSecond / 3600) + " hours");
  }
  return TimeRange{*from, *to};
}

Result<std::vector<std::string>> PermittedCameras(ApiContext& ctx, const Principal& principal) {
  if (!RoleAllowed(Access::kFootage, principal.role)) return std::vector<std::string>();
  auto cams = ctx.db.ListCameraPermissions(principal.user_id);
  if (!cams.ok()) return FromRecords(cams.status(), "read camera permissions");
  return cams;
}

Result<bool> MayViewCamera(ApiContext& ctx, const Principal& principal,
                           const std::string& camera_id) {
  auto cams = PermittedCameras(ctx, principal);
  if (!cams.ok()) return cams.status();
  return std::find(cams->begin(), cams->end(), camera_id) != cams->end();
}

AccessEntry EntryFor(const Call& call, AccessResult result, std::string detail) {
  AccessEntry e;
  if (call.principal) {
    e.user_id = call.principal->user_id;
    e.user_name = call.principal->name;
  }
  e.action = call.route.action;
  e.client = call.request.client;
  e.result = result;
  e.detail = std::move(detail);
  return e;
}

Status RecordAccess(ApiContext& ctx, const AccessEntry& entry) {
  auto id = ctx.access_log.Append(entry);
  ctx.metrics.CountAccessEntry(id.ok());
  if (!id.ok()) return FromRecords(id.status(), "write the access log");
  return Status::Ok();
}

Status RecordChange(ApiContext& ctx, const AccessEntry& entry) {
  auto id = ctx.db.AppendAccess(entry);
  ctx.metrics.CountAccessEntry(id.ok());
  return id.ok() ? Status::Ok() : id.status();
}

Status LogFootage(ApiContext& ctx, const Call& call, const FootageScope& scope,
                  const Purpose& purpose, AccessResult result, std::string detail) {
  AccessEntry e = EntryFor(call, result, std::move(detail));
  if (!scope.camera.empty()) e.camera_id = scope.camera;
  e.from = scope.from;
  e.to = scope.to;
  e.purpose_category = purpose.category;
  e.purpose_text = purpose.text;
  return RecordAccess(ctx, e);
}

Result<int64_t> EnterViewing(ApiContext& ctx, const Call& call, const Purpose& purpose,
                             const Reveal& reveal) {
  ViewingRequest r;
  r.key.session = call.user().token_hash;
  r.key.kind = reveal.kind;
  r.key.object = reveal.object;
  r.key.camera = reveal.reach.camera;
  r.key.purpose_category = purpose.category;
  r.key.purpose_text = purpose.text;
  r.key.client = call.request.client;
  r.user_id = call.user().user_id;
  r.user_name = call.user().name;
  r.action = call.route.action;
  r.reach_from = reveal.reach.from;
  r.reach_to = reveal.reach.to;
  r.start_detail = reveal.start_detail;
  r.fetched_from = reveal.fetched.from;
  r.fetched_to = reveal.fetched.to;
  r.bytes = reveal.bytes;
  auto id = ctx.viewings.Enter(r);
  if (!id.ok()) {
    // Whatever the records' reason (busy, disk full, a failing disk), the answer is the
    // same: nothing is sent, and trying again later may work.
    ctx.metrics.CountAccessEntry(false);
    return Status(ErrorKind::kUnavailable,
                  FromRecords(id.status(), "write the access log").message() +
                      ", so no footage was sent");
  }
  return id;
}

Result<int64_t> EnterPackageViewing(ApiContext& ctx, const Call& call, const Purpose& purpose,
                                    const std::string& object,
                                    const std::vector<FootageScope>& ranges, uint64_t bytes,
                                    const std::string& start_detail) {
  std::optional<int64_t> first;
  const std::vector<FootageScope> scopes = ranges.empty() ? std::vector<FootageScope>{{}} : ranges;
  for (const FootageScope& range : scopes) {
    Reveal reveal;
    reveal.kind = ViewingKind::kPackage;
    reveal.object = object;
    reveal.reach = range;
    reveal.fetched = range;
    reveal.bytes = bytes;
    reveal.start_detail = start_detail;
    auto id = EnterViewing(ctx, call, purpose, reveal);
    if (!id.ok()) return id.status();
    if (!first) first = *id;
  }
  return *first;
}

void NameViewing(HttpResponse* response, int64_t start_entry_id) {
  response->SetHeader("X-Access-Entry", std::to_string(start_entry_id));
}

Status FootageFailed(ApiContext& ctx, const Call& call, const FootageScope& scope,
                     const Purpose& purpose, Status failure) {
  AccessResult result = failure.kind() == ErrorKind::kPermissionDenied ||
                                failure.kind() == ErrorKind::kInvalidArgument
                            ? AccessResult::kDenied
                            : AccessResult::kError;
  Status logged = LogFootage(ctx, call, scope, purpose, result, failure.message());
  return logged.ok() ? failure : logged;
}

Result<Purpose> AdmitFootage(ApiContext& ctx, const Call& call, const FootageScope& scope) {
  const Purpose offered = OfferedPurpose(call.request);
  auto may = MayViewCamera(ctx, call.user(), scope.camera);
  if (!may.ok()) return FootageFailed(ctx, call, scope, offered, may.status());
  if (!*may) {
    return FootageFailed(ctx, call, scope, offered,
                         PermissionDenied("no permission for camera " + scope.camera));
  }
  auto purpose = PurposeOf(call.request);
  if (!purpose.ok()) return FootageFailed(ctx, call, scope, offered, purpose.status());
  return purpose;
}

Result<AdmittedRange> AdmitFootageRange(ApiContext& ctx, const Call& call, int64_t max_span_us) {
  auto range = RangeParams(call.request, max_span_us);
  FootageScope scope{call.params.camera, std::nullopt, std::nullopt};
  if (range.ok()) scope = {call.params.camera, range->from, range->to};
  auto purpose = AdmitFootage(ctx, call, scope);
  if (!purpose.ok()) return purpose.status();
  if (!range.ok()) return FootageFailed(ctx, call, scope, *purpose, range.status());
  return AdmittedRange{*range, std::move(scope), std::move(purpose).value()};
}

Result<OpenedSegment> OpenSegmentFile(const ApiContext& ctx, const records::SegmentRow& segment) {
  if (segment.path.empty() || segment.path[0] == '/' ||
      segment.path.find("..") != std::string::npos) {
    return Internal("segment " + std::to_string(segment.id) + " has an unsafe path");
  }
  const std::string path = ctx.options.data_dir + "/" + segment.path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return errno == ENOENT
               ? NotFound("the file of segment " + std::to_string(segment.id) + " is missing")
               : IoError("open segment " + std::to_string(segment.id) + ": " +
                         std::strerror(errno));
  }
  auto file = std::make_shared<OpenFile>(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return IoError("segment " + std::to_string(segment.id) + " is not a regular file");
  }
  return OpenedSegment{std::move(file), static_cast<uint64_t>(st.st_size)};
}

}  // namespace custodian::api
