// The route table: every URL the server answers, as a typed enum and one table row each.
//
// Each row names the method and path pattern, who may call it (Access), the action that
// the access log records for it, and whether it reveals footage (and so needs a stated
// purpose and an access-log entry before anything is sent). docs/ref/openapi.yaml documents
// every row, and openapi_test.cpp fails when one is missing there.
//
// Path parameters are typed and checked here, before any handler runs:
//   {camera}              [a-z0-9-]{1,64}, the camera id as in config and records
//   {segment} {user} {hold} {request} {export} {redaction} {grant} {alarm}
//                         a positive decimal integer of at most 18 digits
//   {asset...}            the rest of the path, for the web UI (letters, digits, - _ . /,
//                         no "..", no empty segments)
// so no handler ever sees "..", a slash or an SQL metacharacter in an id. Handlers never
// build a file path from a parameter either: files are found through their records row.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"
#include "base/status.h"
#include "records/rows.h"

namespace custodian::api {

enum class RouteId {
  kHealthz,         // GET    /healthz
  kMetrics,         // GET    /metrics
  kLogin,           // POST   /api/v1/auth/login
  kLogout,          // POST   /api/v1/auth/logout
  kSession,         // GET    /api/v1/auth/session
  kChangePassword,  // POST   /api/v1/auth/password
  kListCameras,     // GET    /api/v1/cameras
  kTimeline,        // GET    /api/v1/cameras/{camera}/timeline?from=&to=
  kPlaylist,        // GET    /api/v1/cameras/{camera}/playlist.m3u8?from=&to=&purpose=
  kThumbnail,       // GET    /api/v1/cameras/{camera}/thumbnail.jpg?at=&purpose=
  kSaveStill,       // GET    /api/v1/cameras/{camera}/still.jpg?at=&purpose=  (a file to keep)
  kActivity,        // GET    /api/v1/cameras/{camera}/activity?from=&to=&buckets=&purpose=
  kActivitySearch,  // GET    /api/v1/cameras/{camera}/activity/search?from=&to=&regions=&purpose=
  kSegmentFile,     // GET    /api/v1/segments/{segment}/file?purpose=   (Range supported)
  // Live view (handlers_live.cpp).
  kLivePlaylist,     // GET    /api/v1/cameras/{camera}/live.m3u8?purpose=
  kLivePicture,      // GET    /api/v1/cameras/{camera}/live.jpg?purpose=
  kLiveSegmentFile,  // GET    /api/v1/segments/{segment}/live?purpose=   (Range supported)
  kAccessLog,        // GET    /api/v1/access-log?user=&camera=&action=&from=&to=&limit=
  kAccessLogCsv,     // GET    /api/v1/access-log.csv (same filters)
  kListUsers,        // GET    /api/v1/users
  kCreateUser,       // POST   /api/v1/users
  kUpdateUser,       // PATCH  /api/v1/users/{user}
  kSetUserCameras,   // PUT    /api/v1/users/{user}/cameras
  kListRoleGrants,   // GET    /api/v1/role-grants
  kDecideRoleGrant,  // POST   /api/v1/role-grants/{grant}/decision
  kListHolds,        // GET    /api/v1/holds
  kCreateHold,       // POST   /api/v1/holds
  kReleaseHold,      // POST   /api/v1/holds/{hold}/release
  kListDeletions,    // GET    /api/v1/deletions?from=&to=
  // Footage requests, exports and disclosures (handlers_requests.cpp and
  // handlers_exports.cpp).
  kLogRequest,           // POST   /api/v1/requests
  kListRequests,         // GET    /api/v1/requests?state=&type=
  kRequestRules,         // GET    /api/v1/request-rules?received=
  kGetRequest,           // GET    /api/v1/requests/{request}
  kAddVerification,      // POST   /api/v1/requests/{request}/verifications
  kSubmitRequest,        // POST   /api/v1/requests/{request}/submit
  kDecideRequest,        // POST   /api/v1/requests/{request}/decision
  kExtendDeadline,       // POST   /api/v1/requests/{request}/extension
  kStopClock,            // POST   /api/v1/requests/{request}/clock-stop
  kRestartClock,         // POST   /api/v1/requests/{request}/clock-restart
  kSubjectNotification,  // POST   /api/v1/requests/{request}/subject-notification
  kWithdrawRequest,      // POST   /api/v1/requests/{request}/withdraw
  kCloseRequest,         // POST   /api/v1/requests/{request}/close
  kStartExport,          // POST   /api/v1/requests/{request}/exports
  kGetExport,            // GET    /api/v1/exports/{export}
  kCancelExport,         // POST   /api/v1/exports/{export}/cancel
  kJustifyUnredacted,    // POST   /api/v1/exports/{export}/justify-unredacted
  kEncryptedZip,         // POST   /api/v1/exports/{export}/encrypted-zip
  kDownloadExport,       // GET    /api/v1/exports/{export}/download?purpose=&format=
  // Redaction of a ready export (handlers_redactions.cpp).
  kStartRedaction,         // POST   /api/v1/exports/{export}/redactions
  kGetRedaction,           // GET    /api/v1/redactions/{redaction}
  kRedactionContactSheet,  // GET    /api/v1/redactions/{redaction}/contact.jpg?purpose=
  kRedactedVideo,          // GET    /api/v1/redactions/{redaction}/video?file=&purpose=  (Range)
  kRedactionOriginal,      // GET    /api/v1/redactions/{redaction}/original?file=&purpose= (Range)
  kSignOffRedaction,       // POST   /api/v1/redactions/{redaction}/sign-off
  kRecordDisclosure,       // POST   /api/v1/disclosures
  kListDisclosures,        // GET    /api/v1/disclosures?from=&to=
  kStatistics,             // GET    /api/v1/statistics?month=YYYY-MM
  kSigningKey,             // GET    /api/v1/signing-key
  // Camera administration and the access log's chain status (handlers_cameras.cpp,
  // handlers_audit.cpp).
  kVerifyAccessLog,          // GET    /api/v1/access-log/verify
  kAccessCheckpoint,         // POST   /api/v1/access-log/checkpoint
  kCreateCamera,             // POST   /api/v1/cameras
  kUpdateCamera,             // PATCH  /api/v1/cameras/{camera}
  kTestCamera,               // POST   /api/v1/cameras/{camera}/test
  kAcceptCameraCertificate,  // POST /api/v1/cameras/{camera}/certificate/accept
  kDiscoverCameras,          // POST   /api/v1/camera-discovery
  kCameraStreams,            // POST   /api/v1/camera-discovery/streams
  // Health, alarms and account recovery (handlers_alarms.cpp, handlers_users.cpp).
  kHealthStatus,      // GET    /api/v1/health
  kListAlarms,        // GET    /api/v1/alarms
  kAcknowledgeAlarm,  // POST   /api/v1/alarms/{alarm}/acknowledge
  kUnlockUser,        // POST   /api/v1/users/{user}/unlock
  kResetPassword,     // POST   /api/v1/users/{user}/password-reset
  kWebAsset,          // GET    /{asset...}  the web UI; 404 until it is installed
  kCount
};

// Who may call a route. Footage roles are staff, manager and dpo; admin manages users and
// cameras but sees no footage. Per-camera permissions are checked by the handlers.
enum class Access {
  kPublic,   // no session needed, from any address (loopback is not trusted: a local
             // reverse proxy forwards anyone's requests from it)
  kAnyUser,  // any signed-in account
  kFootage,  // staff, manager, dpo
  kManager,  // manager, dpo
  kDpo,      // dpo
  kAdmin,    // admin
  kGrants,   // admin, dpo: the second person who confirms a grant of a privileged role
  kHealth,   // manager, dpo, admin: the health page and its alarms
};

struct RouteSpec {
  RouteId id;
  Method method;
  const char* pattern;
  Access access;
  const char* action;           // the access log's name for this request
  bool reveals_footage;         // needs a purpose; logged before footage is sent
  bool before_password_change;  // allowed while the account must change its password
  const char* summary;
};

const std::array<RouteSpec, static_cast<size_t>(RouteId::kCount)>& RouteTable();
const RouteSpec& Route(RouteId id);

// Whether a signed-in user of this role may call a route of this access class.
// kPublic is decided by the caller for requests without a session.
bool RoleAllowed(Access access, records::Role role);

struct RouteParams {
  std::string camera;
  std::optional<int64_t> id;  // {segment}, {user}, {hold}, {request}, {export}, {redaction}, {grant}, {alarm}
  std::string asset;
};

struct RouteMatch {
  const RouteSpec* route = nullptr;
  RouteParams params;
};

// Finds the route for method and path. kNotFound when no pattern matches the path;
// kInvalidArgument when a pattern matches but a parameter is malformed; kFailedPrecondition
// (answered as 405) when the path exists for other methods only, with *allowed set to them
// ("GET, POST").
Result<RouteMatch> MatchRoute(Method method, std::string_view path, std::string* allowed);

// Whether the request's route may hash or verify a password (sign-in, password change,
// account creation): the server runs those on a pool of their own.
bool UsesPasswordHashing(Method method, std::string_view path);

bool IsValidCameraId(std::string_view id);

// Every action an access-log entry can have, sorted: each logged route's, the end of a
// viewing started by each footage route ("live_view_end"), and those written outside a
// route (failed sign-ins, refusal counts, account changes, export builds, the recorder's
// and retention's entries, console changes).
const std::vector<std::string>& AccessLogActions();

}  // namespace custodian::api
