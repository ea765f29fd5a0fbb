// What handlers share: the ApiContext they run in, the Call they answer, and helpers for
// JSON bodies, time ranges, camera permissions and access-log entries.
//
// A handler is `Result<HttpResponse> Handle...(ApiContext&, const Call&)`. By the time it
// runs, the dispatcher (api.cpp) has matched the route, checked the path parameters, the
// session, CSRF and the route's role rule; the handler checks what depends on the data:
// per-camera permissions, the stated purpose, the request body. A non-ok Result becomes a
// JSON error through errors.h; failures of the records go through FromRecords first so
// that no SQL reaches a client.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/access_writer.h"
#include "api/api.h"
#include "api/errors.h"
#include "api/http.h"
#include "api/metrics.h"
#include "api/purpose.h"
#include "api/routes.h"
#include "api/sessions.h"
#include "api/transcodes.h"
#include "api/viewings.h"

namespace custodian::api {

inline constexpr uint64_t kTranscodeCacheBytes = 256ull * 1024 * 1024;

struct ApiContext {
  ApiContext(records::Database& db, records::Database& access_log_db, const Clock& clock,
             ApiOptions options);

  records::Database& db;
  const Clock& clock;
  const ApiOptions options;
  Filesystem& fs;  // options.filesystem, or PosixFilesystem
  SessionService sessions;
  AccessLogWriter access_log;
  ViewingLog viewings;
  Metrics metrics;
  AddressLimiter sign_in_limiter;
  AddressLimiter no_session_limiter;
  RefusalTally no_session_refusals;
  // Thumbnails decode a GOP each; one at a time keeps a burst of them from starving the
  // handler threads and the recorder of CPU.
  std::mutex thumbnail_mu;
  // H.264 copies for browsers that cannot decode a camera's codec: one transcode at a
  // time, pictures at most 1280x720, at most kTranscodeCacheBytes kept.
  TranscodeCache transcodes{media::TranscodeSize{1280, 720}, kTranscodeCacheBytes};
};

struct Call {
  const HttpRequest& request;
  const RouteSpec& route;
  RouteParams params;
  std::optional<Principal> principal;  // set for every route but the public ones

  const Principal& user() const { return *principal; }
};

using Handler = Result<HttpResponse> (*)(ApiContext&, const Call&);

// Limits on what a request may ask for.
inline constexpr int64_t kMaxTimelineSpanUs = 31 * kMicrosPerDay;
inline constexpr int64_t kMaxPlaylistSpanUs = 1 * kMicrosPerDay;
inline constexpr int64_t kMaxListingSpanUs = 366 * kMicrosPerDay;
inline constexpr int kMaxAccessLogRows = 10000;

// --- Responses -------------------------------------------------------------------------
HttpResponse Json(const nlohmann::json& body, int status = 200);
HttpResponse NoContent();
nlohmann::json TimeJson(UtcMicros t);
nlohmann::json TimeJson(const std::optional<UtcMicros>& t);
// An account as the API shows it (never the password hash).
nlohmann::json UserJson(const records::UserRow& user);

// People by name, not number: the accounts' names and roles, read once for a
// response. Who(7) is "Ada Lovelace (manager)"; an id with no account is "account 7".
class People {
 public:
  static Result<People> Load(ApiContext& ctx);
  std::string Who(int64_t id) const;
  nlohmann::json Who(const std::optional<int64_t>& id) const;  // null for none

 private:
  std::map<int64_t, std::string> who_;
};

// --- Request input ---------------------------------------------------------------------
// The body as a JSON object; kInvalidArgument for anything else (never echoing the body).
Result<nlohmann::json> JsonObjectBody(const HttpRequest& request);
// A string member of at most max_bytes, printable UTF-8; nullopt when absent and optional.
Result<std::optional<std::string>> StringMember(const nlohmann::json& object,
                                                const std::string& key, size_t max_bytes,
                                                bool required);
// A UTC time query parameter ("2026-01-01T00:00:00Z").
Result<UtcMicros> TimeParam(const HttpRequest& request, const std::string& key);
struct TimeRange {
  UtcMicros from;
  UtcMicros to;
};
// from and to, required, with from < to and to - from <= max_span_us.
Result<TimeRange> RangeParams(const HttpRequest& request, int64_t max_span_us);

// --- Permissions ----------------------------------------------------------------------
// The cameras the principal may see footage of (none for admin).
Result<std::vector<std::string>> PermittedCameras(ApiContext& ctx, const Principal& principal);
Result<bool> MayViewCamera(ApiContext& ctx, const Principal& principal,
                           const std::string& camera_id);

// --- Access log -----------------------------------------------------------------------
// An entry for this call: user, action and client filled in.
records::AccessEntry EntryFor(const Call& call, records::AccessResult result, std::string detail);
// Appends the entry durably; a failure is kUnavailable-like and the request must fail.
Status RecordAccess(ApiContext& ctx, const records::AccessEntry& entry);
// For a change to the records (accounts, permissions, holds): appends the entry on the
// main connection. Call it inside ctx.db.WithTransaction, so that the change and its
// entry commit together or not at all.
Status RecordChange(ApiContext& ctx, const records::AccessEntry& entry);

// What a footage request is about, for its access-log entry.
struct FootageScope {
  std::string camera;
  std::optional<UtcMicros> from;
  std::optional<UtcMicros> to;
};
// Checks the principal's permission for the camera and the stated purpose. A refusal is
// logged (with whatever purpose was offered) and returned as the error.
Result<Purpose> AdmitFootage(ApiContext& ctx, const Call& call, const FootageScope& scope);
// A footage call on call.params.camera over ?from=&to= (at most max_span_us apart): admitted
// with AdmitFootage first (its scope holds the range when the range parses), then a bad
// range is logged as a failure of the admitted call (FootageFailed) and returned.
struct AdmittedRange {
  TimeRange range;
  FootageScope scope;  // the camera and the range
  Purpose purpose;
};
Result<AdmittedRange> AdmitFootageRange(ApiContext& ctx, const Call& call, int64_t max_span_us);
// Logs a footage access with its purpose and outcome; call with kOk before sending.
Status LogFootage(ApiContext& ctx, const Call& call, const FootageScope& scope,
                  const Purpose& purpose, records::AccessResult result, std::string detail);
// Logs a failure of an admitted footage request and returns the failure, for
//   return FootageFailed(ctx, call, scope, purpose, NotFound("..."));
Status FootageFailed(ApiContext& ctx, const Call& call, const FootageScope& scope,
                     const Purpose& purpose, Status failure);

// What a footage response is about to reveal, for the viewing it belongs to (viewings.h).
struct Reveal {
  ViewingKind kind = ViewingKind::kRecorded;
  std::string object;     // "export 3", "redaction 2"; empty for a camera's footage
  FootageScope reach;     // what a viewing this response starts can reach (to unset: live)
  FootageScope fetched;   // what this response sends
  uint64_t bytes = 0;
  std::string start_detail;  // what the reach is, for a start entry
};
// Joins the caller's open viewing that reaches what this response sends, or starts one:
// its start entry is durable before this returns, so call it before sending anything
// and send nothing when it fails. Returns the start entry's id, for NameViewing.
Result<int64_t> EnterViewing(ApiContext& ctx, const Call& call, const Purpose& purpose,
                             const Reveal& reveal);
// For an export's package or a redaction's contact sheet (`object`): one viewing per camera
// range of the export, so that each camera's entries name it. Returns the first range's
// start entry.
Result<int64_t> EnterPackageViewing(ApiContext& ctx, const Call& call, const Purpose& purpose,
                                    const std::string& object,
                                    const std::vector<FootageScope>& ranges, uint64_t bytes,
                                    const std::string& start_detail);
// Names the viewing's start entry in the response (X-Access-Entry).
void NameViewing(HttpResponse* response, int64_t start_entry_id);


// --- Segment files -----------------------------------------------------------------------
struct OpenedSegment {
  std::shared_ptr<OpenFile> file;
  uint64_t size = 0;
};
// The file behind a segment row. The path comes only from the row (relative to data_dir,
// checked again here although the schema already refuses ".." and absolute paths); the last
// component is not followed if it is a symlink. kNotFound when the file is missing.
Result<OpenedSegment> OpenSegmentFile(const ApiContext& ctx, const records::SegmentRow& segment);

}  // namespace custodian::api
