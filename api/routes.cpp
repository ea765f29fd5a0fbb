#include "api/routes.h"

#include <cctype>
#include <set>

namespace custodian::api {

namespace {

using records::Role;
constexpr Method G = Method::kGet, P = Method::kPost, PUT = Method::kPut, PATCH = Method::kPatch;

// In RouteId order (routes_test.cpp checks). Columns: id, method, pattern, access, action,
// reveals footage, allowed before a required password change, summary.
// clang-format off
const std::array<RouteSpec, static_cast<size_t>(RouteId::kCount)> kRoutes = {{
    {RouteId::kHealthz, G, "/healthz", Access::kPublic, "healthz", false, true,
     "liveness: the server answers and the records open"},
    // An admin session from anywhere, loopback included: a reverse proxy on the box would
    // otherwise publish the metrics to whoever it serves.
    {RouteId::kMetrics, G, "/metrics", Access::kAdmin, "metrics", false, false,
     "Prometheus metrics"},
    {RouteId::kLogin, P, "/api/v1/auth/login", Access::kPublic, "login", false, true,
     "sign in; sets the session cookie"},
    {RouteId::kLogout, P, "/api/v1/auth/logout", Access::kAnyUser, "logout", false, true,
     "sign out; ends the session"},
    {RouteId::kSession, G, "/api/v1/auth/session", Access::kAnyUser, "session", false, true,
     "the signed-in user, role, cameras and CSRF token"},
    {RouteId::kChangePassword, P, "/api/v1/auth/password", Access::kAnyUser, "password_change",
     false, true, "change one's own password"},
    {RouteId::kListCameras, G, "/api/v1/cameras", Access::kAnyUser, "cameras", false, false,
     "cameras the user may see, with status"},
    {RouteId::kTimeline, G, "/api/v1/cameras/{camera}/timeline", Access::kFootage, "timeline",
     false, false, "segments and gaps of a camera in a time range"},
    {RouteId::kPlaylist, G, "/api/v1/cameras/{camera}/playlist.m3u8", Access::kFootage, "play",
     true, false, "an HLS playlist of the segments in a time range"},
    {RouteId::kThumbnail, G, "/api/v1/cameras/{camera}/thumbnail.jpg", Access::kFootage,
     "thumbnail", true, false, "a JPEG of the frame nearest a time"},
    // A saved still is a copy of footage leaving the system, like an export's package: a
    // manager's (or the DPO's) to take, each one its own access-log entry.
    {RouteId::kSaveStill, G, "/api/v1/cameras/{camera}/still.jpg", Access::kManager,
     "still_save", true, false, "the frame nearest a time as a JPEG file to keep"},
    {RouteId::kActivity, G, "/api/v1/cameras/{camera}/activity", Access::kFootage, "activity",
     true, false, "a camera's activity in a time range: heat strip and active stretches"},
    {RouteId::kActivitySearch, G, "/api/v1/cameras/{camera}/activity/search", Access::kFootage,
     "activity_search", true, false, "moments with movement inside boxes drawn on the picture"},
    {RouteId::kSegmentFile, G, "/api/v1/segments/{segment}/file", Access::kFootage, "download",
     true, false, "a segment's fragmented MP4 file, with Range support"},
    {RouteId::kLivePlaylist, G, "/api/v1/cameras/{camera}/live.m3u8", Access::kFootage,
     "live_view", true, false, "an HLS live playlist of the segment being recorded"},
    {RouteId::kLivePicture, G, "/api/v1/cameras/{camera}/live.jpg", Access::kFootage,
     "live_picture", true, false, "a JPEG of the camera's newest recorded keyframe"},
    {RouteId::kLiveSegmentFile, G, "/api/v1/segments/{segment}/live", Access::kFootage,
     "live_download", true, false,
     "whole fragments of a segment being recorded, with Range support"},
    {RouteId::kAccessLog, G, "/api/v1/access-log", Access::kDpo, "access_log_query", false,
     false, "query the access log"},
    {RouteId::kAccessLogCsv, G, "/api/v1/access-log.csv", Access::kDpo, "access_log_download",
     false, false, "download the access log as CSV"},
    {RouteId::kListUsers, G, "/api/v1/users", Access::kAdmin, "user_list", false, false,
     "list accounts"},
    {RouteId::kCreateUser, P, "/api/v1/users", Access::kAdmin, "user_create", false, false,
     "create an account"},
    {RouteId::kUpdateUser, PATCH, "/api/v1/users/{user}", Access::kAdmin, "user_update", false,
     false, "change an account's role or disable it"},
    {RouteId::kSetUserCameras, PUT, "/api/v1/users/{user}/cameras", Access::kAdmin,
     "permission_change", false, false, "set the cameras an account may see"},
    // Grants of the manager, DPO and admin roles wait for a second person.
    {RouteId::kListRoleGrants, G, "/api/v1/role-grants", Access::kGrants, "role_grant_list",
     false, false, "pending and recently decided grants of the manager, dpo and admin roles"},
    {RouteId::kDecideRoleGrant, P, "/api/v1/role-grants/{grant}/decision", Access::kGrants,
     "role_grant_decide", false, false,
     "confirm or refuse a pending role grant (not its requester, not the account)"},
    {RouteId::kListHolds, G, "/api/v1/holds", Access::kManager, "hold_list", false, false,
     "active holds on cameras the user may see"},
    {RouteId::kCreateHold, P, "/api/v1/holds", Access::kManager, "hold_create", false, false,
     "keep footage past its expiry"},
    {RouteId::kReleaseHold, P, "/api/v1/holds/{hold}/release", Access::kManager,
     "hold_release", false, false, "release a hold"},
    {RouteId::kListDeletions, G, "/api/v1/deletions", Access::kDpo, "deletion_list", false,
     false, "deletion records in a time range"},
    // Footage requests, exports and disclosures.
    {RouteId::kLogRequest, P, "/api/v1/requests", Access::kFootage, "request_log", false, false,
     "log a footage request; its footage is held at once"},
    {RouteId::kListRequests, G, "/api/v1/requests", Access::kFootage, "request_list", false,
     false, "footage requests touching cameras the user may see (dpo: all)"},
    {RouteId::kRequestRules, G, "/api/v1/request-rules", Access::kFootage, "request_rules",
     false, false, "what each type of request needs, and a DSAR's due date"},
    {RouteId::kGetRequest, G, "/api/v1/requests/{request}", Access::kFootage, "request_view",
     false, false, "a request with its verifications, history, exports and disclosures"},
    {RouteId::kAddVerification, P, "/api/v1/requests/{request}/verifications", Access::kFootage,
     "request_verify", false, false, "record a verification step"},
    {RouteId::kSubmitRequest, P, "/api/v1/requests/{request}/submit", Access::kFootage,
     "request_submit", false, false, "send a verified request for decision"},
    {RouteId::kDecideRequest, P, "/api/v1/requests/{request}/decision", Access::kManager,
     "request_decide", false, false, "approve or refuse a request"},
    {RouteId::kExtendDeadline, P, "/api/v1/requests/{request}/extension", Access::kManager,
     "request_extend", false, false, "extend a DSAR's deadline"},
    {RouteId::kStopClock, P, "/api/v1/requests/{request}/clock-stop", Access::kManager,
     "request_clock_stop", false, false,
     "stop a DSAR's clock while the requester is asked for identity or a clarification"},
    {RouteId::kRestartClock, P, "/api/v1/requests/{request}/clock-restart", Access::kManager,
     "request_clock_restart", false, false, "restart a DSAR's clock: the requester answered"},
    {RouteId::kSubjectNotification, P, "/api/v1/requests/{request}/subject-notification",
     Access::kManager, "request_notify", false, false,
     "record whether the data subject was told"},
    {RouteId::kWithdrawRequest, P, "/api/v1/requests/{request}/withdraw", Access::kFootage,
     "request_withdraw", false, false, "withdraw a request"},
    {RouteId::kCloseRequest, P, "/api/v1/requests/{request}/close", Access::kManager,
     "request_close", false, false, "close a finished request"},
    {RouteId::kStartExport, P, "/api/v1/requests/{request}/exports", Access::kManager,
     "export_start", false, false, "queue an export of an approved request"},
    {RouteId::kGetExport, G, "/api/v1/exports/{export}", Access::kManager, "export_view", false,
     false, "an export's state, progress, files and hashes"},
    {RouteId::kCancelExport, P, "/api/v1/exports/{export}/cancel", Access::kManager,
     "export_cancel", false, false, "cancel an export being built"},
    {RouteId::kJustifyUnredacted, P, "/api/v1/exports/{export}/justify-unredacted",
     Access::kManager, "export_justify", false, false,
     "record why a DSAR export may go out unredacted"},
    {RouteId::kEncryptedZip, P, "/api/v1/exports/{export}/encrypted-zip", Access::kManager,
     "export_copy", false, false, "make the AES-256 zip; its password is shown once"},
    {RouteId::kDownloadExport, G, "/api/v1/exports/{export}/download", Access::kManager,
     "export_download", true, false, "the export package as one file, with Range support"},
    {RouteId::kStartRedaction, P, "/api/v1/exports/{export}/redactions", Access::kManager,
     "redaction_start", false, false, "queue a redaction of a ready export's video files"},
    {RouteId::kGetRedaction, G, "/api/v1/redactions/{redaction}", Access::kManager,
     "redaction_view", false, false, "a redaction's record, flagged frames, state and progress"},
    {RouteId::kRedactionContactSheet, G, "/api/v1/redactions/{redaction}/contact.jpg",
     Access::kManager, "redaction_contact_sheet", true, false,
     "the contact sheet of a redaction, for review"},
    {RouteId::kRedactedVideo, G, "/api/v1/redactions/{redaction}/video", Access::kManager,
     "redaction_video", true, false, "a redacted video of a redaction, for review"},
    {RouteId::kRedactionOriginal, G, "/api/v1/redactions/{redaction}/original",
     Access::kManager, "redaction_original", true, false,
     "the original video a redacted one was made from, for review beside it"},
    {RouteId::kSignOffRedaction, P, "/api/v1/redactions/{redaction}/sign-off", Access::kManager,
     "redaction_sign_off", false, false, "record the reviewer's sign-off of a redaction"},
    {RouteId::kRecordDisclosure, P, "/api/v1/disclosures", Access::kManager, "disclosure_record",
     false, false, "record a handover of an export"},
    {RouteId::kListDisclosures, G, "/api/v1/disclosures", Access::kDpo, "disclosure_list", false,
     false, "the disclosure register for a time range"},
    {RouteId::kStatistics, G, "/api/v1/statistics", Access::kDpo, "statistics", false, false,
     "anonymised statistics of a calendar month"},
    {RouteId::kSigningKey, G, "/api/v1/signing-key", Access::kAnyUser, "signing_key", false,
     false, "the export-signing public key, for recipients"},
    // Camera administration and the access log's chain status.
    {RouteId::kVerifyAccessLog, G, "/api/v1/access-log/verify", Access::kDpo,
     "access_log_verify", false, false, "walk the access log's hash chain"},
    {RouteId::kAccessCheckpoint, P, "/api/v1/access-log/checkpoint", Access::kDpo,
     "access_log_checkpoint", false, false,
     "sign a checkpoint of the access log's head, to keep off the box"},
    {RouteId::kCreateCamera, P, "/api/v1/cameras", Access::kAdmin, "camera_create", false, false,
     "add a camera (a file in the site's cameras_dir)"},
    {RouteId::kUpdateCamera, PATCH, "/api/v1/cameras/{camera}", Access::kAdmin, "camera_update",
     false, false, "change a camera defined in cameras_dir"},
    {RouteId::kTestCamera, P, "/api/v1/cameras/{camera}/test", Access::kAdmin, "camera_test",
     false, false, "connect to a camera and report its stream"},
    {RouteId::kAcceptCameraCertificate, P, "/api/v1/cameras/{camera}/certificate/accept",
     Access::kAdmin, "camera_certificate_accept", false, false,
     "trust the new TLS certificate an rtsps:// camera presents"},
    {RouteId::kDiscoverCameras, P, "/api/v1/camera-discovery", Access::kAdmin, "camera_discover",
     false, false, "list the ONVIF cameras that answer a WS-Discovery probe"},
    {RouteId::kCameraStreams, P, "/api/v1/camera-discovery/streams", Access::kAdmin,
     "camera_discover_streams", false, false,
     "ask an ONVIF camera for its make, model, firmware and stream URLs"},
    {RouteId::kHealthStatus, G, "/api/v1/health", Access::kHealth, "health_view", false, false,
     "cameras, disk, clock, backup, holds, DSAR deadlines and alarms with what to do"},
    {RouteId::kListAlarms, G, "/api/v1/alarms", Access::kHealth, "alarm_list", false, false,
     "the open alarms, for the banner on every page"},
    {RouteId::kAcknowledgeAlarm, P, "/api/v1/alarms/{alarm}/acknowledge", Access::kHealth,
     "alarm_acknowledge", false, false, "record that a person is dealing with an alarm"},
    {RouteId::kUnlockUser, P, "/api/v1/users/{user}/unlock", Access::kAdmin, "account_unlock",
     false, false, "end an account's lockout after failed sign-ins"},
    {RouteId::kResetPassword, P, "/api/v1/users/{user}/password-reset", Access::kAdmin,
     "password_reset", false, false,
     "give an account a one-time password to change at next sign-in"},
    {RouteId::kWebAsset, G, "/{asset...}", Access::kPublic, "web", false, true,
     "the web UI's files, served from http.web_root"},
}};
// clang-format on

constexpr size_t kMaxIdDigits = 18;

bool ParseId(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > kMaxIdDigits || s[0] == '0') return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool IsValidAsset(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t slash = s.find('/', start);
    std::string_view part =
        s.substr(start, slash == std::string_view::npos ? s.npos : slash - start);
    if (part.empty() || part == "." || part == ".." || part.find("..") != part.npos) return false;
    for (char c : part) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
        return false;
      }
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.empty() || path[0] != '/') return parts;
  path.remove_prefix(1);
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == path.npos ? path.npos : slash - start));
    if (slash == path.npos) break;
    start = slash + 1;
  }
  return parts;
}

enum class PatternFit { kNo, kYes, kBadParam };

// Whether path parts fit the pattern; fills params on kYes.
PatternFit Fit(const RouteSpec& route, std::string_view path,
               const std::vector<std::string_view>& parts, RouteParams* params) {
  if (route.id == RouteId::kWebAsset) {
    if (path.rfind("/api/", 0) == 0 || path == "/api") return PatternFit::kNo;
    std::string_view rest = path.substr(1);
    params->asset = rest.empty() ? "index.html" : std::string(rest);
    return IsValidAsset(params->asset) ? PatternFit::kYes : PatternFit::kBadParam;
  }
  std::vector<std::string_view> want = SplitPath(route.pattern);
  if (want.size() != parts.size()) return PatternFit::kNo;
  bool bad = false;
  RouteParams p;
  for (size_t i = 0; i < want.size(); ++i) {
    std::string_view w = want[i];
    if (w == "{camera}") {
      if (IsValidCameraId(parts[i]))
        p.camera = std::string(parts[i]);
      else
        bad = true;
    } else if (w == "{segment}" || w == "{user}" || w == "{hold}" || w == "{request}" ||
               w == "{export}" || w == "{redaction}" || w == "{grant}" || w == "{alarm}") {
      int64_t id = 0;
      if (ParseId(parts[i], &id))
        p.id = id;
      else
        bad = true;
    } else if (w != parts[i]) {
      return PatternFit::kNo;
    }
  }
  if (bad) return PatternFit::kBadParam;
  *params = std::move(p);
  return PatternFit::kYes;
}

}  // namespace

const std::array<RouteSpec, static_cast<size_t>(RouteId::kCount)>& RouteTable() { return kRoutes; }

const RouteSpec& Route(RouteId id) { return kRoutes[static_cast<size_t>(id)]; }

bool RoleAllowed(Access access, Role role) {
  switch (access) {
    case Access::kPublic:
    case Access::kAnyUser:
      return true;
    case Access::kAdmin:
      return role == Role::kAdmin;
    case Access::kFootage:
      return role == Role::kStaff || role == Role::kManager || role == Role::kDpo;
    case Access::kManager:
      return role == Role::kManager || role == Role::kDpo;
    case Access::kDpo:
      return role == Role::kDpo;
    case Access::kGrants:
      return role == Role::kAdmin || role == Role::kDpo;
    case Access::kHealth:
      return role == Role::kManager || role == Role::kDpo || role == Role::kAdmin;
  }
  return false;
}

const std::vector<std::string>& AccessLogActions() {
  static const std::vector<std::string> actions = [] {
    std::set<std::string> all = {
        "login_failed",     "no_session_refusals",      "role_change",
        "account_disabled", "account_enabled",          "password_reset",
        "export",           "retention_policy_change", "camera_password_withheld",
        "role_grant_request", "role_grant_confirm",    "role_grant_refuse"};
    for (const RouteSpec& r : kRoutes) {
      if (r.id == RouteId::kHealthz || r.id == RouteId::kWebAsset) continue;  // never logged
      all.insert(r.action);
      if (r.reveals_footage) all.insert(std::string(r.action) + "_end");
    }
    return std::vector<std::string>(all.begin(), all.end());
  }();
  return actions;
}

bool IsValidCameraId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

Result<RouteMatch> MatchRoute(Method method, std::string_view path, std::string* allowed) {
  allowed->clear();
  std::vector<std::string_view> parts = SplitPath(path);
  if (parts.empty()) return InvalidArgument("the request path must start with '/'");
  bool bad_param = false;
  for (const RouteSpec& route : kRoutes) {
    RouteParams params;
    PatternFit fit = Fit(route, path, parts, &params);
    if (fit == PatternFit::kNo) continue;
    if (fit == PatternFit::kBadParam) {
      bad_param = true;
      continue;
    }
    if (route.method == method) return RouteMatch{&route, std::move(params)};
    if (!allowed->empty()) *allowed += ", ";
    *allowed += MethodName(route.method);
  }
  if (!allowed->empty()) return FailedPrecondition("method not allowed");
  if (bad_param) {
    return InvalidArgument(
        "malformed id in the path: camera ids are [a-z0-9-]{1,64}, other ids are positive "
        "integers");
  }
  return NotFound("no such resource");
}

bool UsesPasswordHashing(Method method, std::string_view path) {
  std::string allowed;
  auto match = MatchRoute(method, path, &allowed);
  if (!match.ok()) return false;
  switch (match->route->id) {
    case RouteId::kLogin:
    case RouteId::kChangePassword:
    case RouteId::kCreateUser:
    case RouteId::kResetPassword:
      return true;
    default:
      return false;
  }
}

}  // namespace custodian::api
