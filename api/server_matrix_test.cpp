// Every route with every role and with no session; per-camera scoping.
#include <map>
#include <nlohmann/json.hpp>

#include "api/routes.h"
#include "api/testing/api_fixture.h"
#include "exports/export_jobs.h"
#include "requests/workflow.h"

namespace custodian::api::testing {
namespace {

using records::Role;
using json = nlohmann::json;

enum class Who { kNone, kStaff, kManager, kDpo, kAdmin };
constexpr Who kEveryone[] = {Who::kNone, Who::kStaff, Who::kManager, Who::kDpo, Who::kAdmin};

// What each route answers. A: allowed (anything but 401/403); D: 403; U: 401.
// Written out here, not derived from the route table, so a changed rule fails this test.
struct Expected {
  RouteId route;
  const char* none;
  const char* staff;
  const char* manager;
  const char* dpo;
  const char* admin;
};
// clang-format off
const Expected kMatrix[] = {
    //                                none staff manager dpo admin
    {RouteId::kHealthz,              "A", "A", "A", "A", "A"},
    {RouteId::kMetrics,              "U", "D", "D", "D", "A"},  // loopback too
    {RouteId::kLogin,                "A", "A", "A", "A", "A"},
    {RouteId::kLogout,               "U", "A", "A", "A", "A"},
    {RouteId::kSession,              "U", "A", "A", "A", "A"},
    {RouteId::kChangePassword,       "U", "A", "A", "A", "A"},
    {RouteId::kListCameras,          "U", "A", "A", "A", "A"},
    {RouteId::kTimeline,             "U", "A", "A", "A", "D"},
    {RouteId::kPlaylist,             "U", "A", "A", "A", "D"},
    {RouteId::kThumbnail,            "U", "A", "A", "A", "D"},
    {RouteId::kSaveStill,            "U", "D", "A", "A", "D"},  // a copy: not staff's
    {RouteId::kActivity,             "U", "A", "A", "A", "D"},
    {RouteId::kActivitySearch,       "U", "A", "A", "A", "D"},
    {RouteId::kSegmentFile,          "U", "A", "A", "A", "D"},
    {RouteId::kLivePlaylist,         "U", "A", "A", "A", "D"},
    {RouteId::kLivePicture,          "U", "A", "A", "A", "D"},
    {RouteId::kLiveSegmentFile,      "U", "A", "A", "A", "D"},
    {RouteId::kAccessLog,            "U", "D", "D", "A", "D"},
    {RouteId::kAccessLogCsv,         "U", "D", "D", "A", "D"},
    {RouteId::kListUsers,            "U", "D", "D", "D", "A"},
    {RouteId::kCreateUser,           "U", "D", "D", "D", "A"},
    {RouteId::kUpdateUser,           "U", "D", "D", "D", "A"},
    {RouteId::kSetUserCameras,       "U", "D", "D", "D", "A"},
    {RouteId::kListRoleGrants,       "U", "D", "D", "A", "A"},
    {RouteId::kDecideRoleGrant,      "U", "D", "D", "A", "A"},
    {RouteId::kListHolds,            "U", "D", "A", "A", "D"},
    {RouteId::kCreateHold,           "U", "D", "A", "A", "D"},
    {RouteId::kReleaseHold,          "U", "D", "A", "A", "D"},
    {RouteId::kListDeletions,        "U", "D", "D", "A", "D"},
    {RouteId::kLogRequest,           "U", "A", "A", "A", "D"},
    {RouteId::kListRequests,         "U", "A", "A", "A", "D"},  // staff: their own
    {RouteId::kRequestRules,         "U", "A", "A", "A", "D"},
    {RouteId::kGetRequest,           "U", "A", "A", "A", "D"},
    {RouteId::kAddVerification,      "U", "A", "A", "A", "D"},
    {RouteId::kSubmitRequest,        "U", "A", "A", "A", "D"},
    {RouteId::kDecideRequest,        "U", "D", "A", "A", "D"},
    {RouteId::kExtendDeadline,       "U", "D", "A", "A", "D"},
    {RouteId::kStopClock,            "U", "D", "A", "A", "D"},
    {RouteId::kRestartClock,         "U", "D", "A", "A", "D"},
    {RouteId::kSubjectNotification,  "U", "D", "A", "A", "D"},
    {RouteId::kWithdrawRequest,      "U", "A", "A", "A", "D"},
    {RouteId::kCloseRequest,         "U", "D", "A", "A", "D"},
    {RouteId::kStartExport,          "U", "D", "A", "A", "D"},
    {RouteId::kGetExport,            "U", "D", "A", "A", "D"},
    {RouteId::kCancelExport,         "U", "D", "A", "A", "D"},
    {RouteId::kJustifyUnredacted,    "U", "D", "A", "A", "D"},
    {RouteId::kEncryptedZip,         "U", "D", "A", "A", "D"},
    {RouteId::kDownloadExport,       "U", "D", "A", "A", "D"},
    {RouteId::kStartRedaction,       "U", "D", "A", "A", "D"},
    {RouteId::kGetRedaction,         "U", "D", "A", "A", "D"},
    {RouteId::kRedactionContactSheet,"U", "D", "A", "A", "D"},
    {RouteId::kRedactedVideo,        "U", "D", "A", "A", "D"},
    {RouteId::kRedactionOriginal,    "U", "D", "A", "A", "D"},
    {RouteId::kSignOffRedaction,     "U", "D", "A", "A", "D"},
    {RouteId::kRecordDisclosure,     "U", "D", "A", "A", "D"},
    {RouteId::kListDisclosures,      "U", "D", "D", "A", "D"},
    {RouteId::kStatistics,           "U", "D", "D", "A", "D"},
    {RouteId::kSigningKey,           "U", "A", "A", "A", "A"},
    {RouteId::kVerifyAccessLog,      "U", "D", "D", "A", "D"},
    {RouteId::kAccessCheckpoint,     "U", "D", "D", "A", "D"},
    {RouteId::kCreateCamera,         "U", "D", "D", "D", "A"},
    {RouteId::kUpdateCamera,         "U", "D", "D", "D", "A"},
    {RouteId::kTestCamera,           "U", "D", "D", "D", "A"},
    {RouteId::kAcceptCameraCertificate, "U", "D", "D", "D", "A"},
    {RouteId::kDiscoverCameras,      "U", "D", "D", "D", "A"},
    {RouteId::kCameraStreams,        "U", "D", "D", "D", "A"},
    {RouteId::kHealthStatus,         "U", "D", "A", "A", "A"},
    {RouteId::kListAlarms,           "U", "D", "A", "A", "A"},
    {RouteId::kAcknowledgeAlarm,     "U", "D", "A", "A", "A"},
    {RouteId::kUnlockUser,           "U", "D", "D", "D", "A"},
    {RouteId::kResetPassword,        "U", "D", "D", "D", "A"},
    {RouteId::kWebAsset,             "A", "A", "A", "A", "A"},
};
// clang-format on

const char* ExpectedFor(const Expected& e, Who who) {
  switch (who) {
    case Who::kNone:
      return e.none;
    case Who::kStaff:
      return e.staff;
    case Who::kManager:
      return e.manager;
    case Who::kDpo:
      return e.dpo;
    case Who::kAdmin:
      return e.admin;
  }
  return "?";
}

const char* Name(Who who) {
  const char* names[] = {"none", "staff", "manager", "dpo", "admin"};
  return names[static_cast<int>(who)];
}

struct Sample {
  std::string method, target, body;
};

class Matrix {
 public:
  Matrix() {
    ids_[Who::kStaff] = f_.AddUser("staff", Role::kStaff, {"door-1"});
    ids_[Who::kManager] = f_.AddUser("manager", Role::kManager, {"door-1"});
    ids_[Who::kDpo] = f_.AddUser("dpo", Role::kDpo, {"door-1"});
    ids_[Who::kAdmin] = f_.AddUser("admin", Role::kAdmin);
    target_user_ = f_.AddUser("target", Role::kStaff);
    ids_[Who::kNone] = target_user_;
    segment_ = f_.AddSegment("door-1", kFootageT0);
  }

  ApiServerFixture& fixture() { return f_; }

  // A fresh session per request, since some routes end sessions.
  std::optional<SignedIn> SessionFor(Who who) {
    if (who == Who::kNone) return std::nullopt;
    return f_.Login(Name(who));
  }

  // A request that an allowed caller can make successfully or fail on its data only.
  Sample SampleFor(RouteId id, Who who) {
    const std::string range = "from=" + At(kFootageT0) + "&to=" + At(kFootageT0 + 60 * kSecond);
    switch (id) {
      case RouteId::kHealthz:
        return {"GET", "/healthz", ""};
      case RouteId::kMetrics:
        return {"GET", "/metrics", ""};
      case RouteId::kLogin:
        return {
            "POST", "/api/v1/auth/login",
            json{{"name", "staff"}, {"password", ApiServerFixture::PasswordOf("staff")}}.dump()};
      case RouteId::kLogout:
        return {"POST", "/api/v1/auth/logout", ""};
      case RouteId::kSession:
        return {"GET", "/api/v1/auth/session", ""};
      case RouteId::kChangePassword:  // a too-short password: refused on its merits (400)
        return {"POST", "/api/v1/auth/password",
                json{{"current_password", ApiServerFixture::PasswordOf(Name(who))},
                     {"new_password", "short"}}
                    .dump()};
      case RouteId::kListCameras:
        return {"GET", "/api/v1/cameras", ""};
      case RouteId::kTimeline:
        return {"GET", "/api/v1/cameras/door-1/timeline?" + range, ""};
      case RouteId::kPlaylist:
        return {"GET", "/api/v1/cameras/door-1/playlist.m3u8?" + range + "&" + PurposeParams(), ""};
      case RouteId::kThumbnail:
        return {"GET",
                "/api/v1/cameras/door-1/thumbnail.jpg?at=" + At(kFootageT0 + kSecond) + "&" +
                    PurposeParams(),
                ""};
      case RouteId::kSaveStill:
        return {"GET",
                "/api/v1/cameras/door-1/still.jpg?at=" + At(kFootageT0 + kSecond) + "&" +
                    PurposeParams(),
                ""};
      case RouteId::kActivity:
        return {"GET", "/api/v1/cameras/door-1/activity?" + range + "&" + PurposeParams(), ""};
      case RouteId::kActivitySearch:
        return {"GET",
                "/api/v1/cameras/door-1/activity/search?" + range + "&regions=0,0,1,1&" +
                    PurposeParams(),
                ""};
      case RouteId::kSegmentFile:
        return {"GET", "/api/v1/segments/" + std::to_string(segment_) + "/file?" + PurposeParams(),
                ""};
      case RouteId::kLivePlaylist:  // nothing is being recorded here: 404 once admitted
        return {"GET", "/api/v1/cameras/door-1/live.m3u8?" + PurposeParams(), ""};
      case RouteId::kLivePicture:
        return {"GET", "/api/v1/cameras/door-1/live.jpg?" + PurposeParams(), ""};
      case RouteId::kLiveSegmentFile:
        return {"GET", "/api/v1/segments/" + std::to_string(segment_) + "/live?" + PurposeParams(),
                ""};
      case RouteId::kAccessLog:
        return {"GET", "/api/v1/access-log?limit=5", ""};
      case RouteId::kAccessLogCsv:
        return {"GET", "/api/v1/access-log.csv?limit=5", ""};
      case RouteId::kListUsers:
        return {"GET", "/api/v1/users", ""};
      case RouteId::kCreateUser:
        return {"POST", "/api/v1/users",
                json{{"name", std::string("made-by-") + Name(who)},
                     {"role", "staff"},
                     {"password", "a-long-first-password"},
                     {"cameras", {"door-1"}}}
                    .dump()};
      case RouteId::kUpdateUser:
        return {"PATCH", "/api/v1/users/" + std::to_string(target_user_),
                json{{"role", "manager"}}.dump()};
      case RouteId::kSetUserCameras:
        return {"PUT", "/api/v1/users/" + std::to_string(target_user_) + "/cameras",
                json{{"cameras", {"door-1", "yard"}}}.dump()};
      case RouteId::kListRoleGrants:
        return {"GET", "/api/v1/role-grants", ""};
      case RouteId::kDecideRoleGrant:
        return {"POST", "/api/v1/role-grants/" + std::to_string(PendingGrant()) + "/decision",
                json{{"confirm", false}}.dump()};
      case RouteId::kListHolds:
        return {"GET", "/api/v1/holds", ""};
      case RouteId::kCreateHold:
        return {"POST", "/api/v1/holds", HoldBody()};
      case RouteId::kReleaseHold:
        return {"POST", "/api/v1/holds/" + std::to_string(MakeHold()) + "/release", ""};
      case RouteId::kListDeletions:
        return {"GET", "/api/v1/deletions?" + range, ""};
      case RouteId::kLogRequest:
        return {"POST", "/api/v1/requests", RequestBody()};
      case RouteId::kListRequests:
        return {"GET", "/api/v1/requests?state=received", ""};
      case RouteId::kRequestRules:
        return {"GET", "/api/v1/request-rules?received=2026-01-31T12:00:00Z", ""};
      case RouteId::kGetRequest:
        return {"GET", Req(LogRequest(ids_[who])), ""};
      case RouteId::kAddVerification:
        return {"POST", Req(LogRequest(ids_[who])) + "/verifications",
                json{{"step", "received_in_writing"}, {"note", "letter"}}.dump()};
      case RouteId::kSubmitRequest:
        return {"POST", Req(VerifiedRequest(ids_[who])) + "/submit", ""};
      case RouteId::kDecideRequest:
        return {"POST", Req(SubmittedRequest()) + "/decision",
                json{{"approve", true}, {"reason", "lawful and proportionate"}}.dump()};
      case RouteId::kExtendDeadline:
        return {"POST", Req(LogRequest(target_user_, records::RequestType::kDsar)) + "/extension",
                json{{"further_months", 1},
                     {"reason", "complex request"},
                     {"requester_told", At(f_.clock.Now())}}
                    .dump()};
      case RouteId::kStopClock:
        return {"POST", Req(LogRequest(target_user_, records::RequestType::kDsar)) + "/clock-stop",
                json{{"reason", "identity"}, {"asked", "photo ID"}}.dump()};
      case RouteId::kRestartClock:
        return {"POST", Req(StoppedDsar()) + "/clock-restart",
                json{{"answer", "passport seen"}}.dump()};
      case RouteId::kSubjectNotification:
        return {"POST", Req(LogRequest(target_user_)) + "/subject-notification",
                json{{"told", false}, {"note", "would prejudice the investigation"}}.dump()};
      case RouteId::kWithdrawRequest:
        return {"POST", Req(LogRequest(ids_[who])) + "/withdraw", ""};
      case RouteId::kCloseRequest:
        return {"POST", Req(WithdrawnRequest()) + "/close", ""};
      case RouteId::kStartExport:
        return {"POST", Req(ApprovedRequest()) + "/exports", ""};
      case RouteId::kGetExport:
        return {"GET", Exp(QueuedExport()), ""};
      case RouteId::kCancelExport:
        return {"POST", Exp(QueuedExport()) + "/cancel", ""};
      case RouteId::kJustifyUnredacted:
        return {"POST", Exp(QueuedExport()) + "/justify-unredacted",
                json{{"why", "the requester is the only person shown"}}.dump()};
      case RouteId::kEncryptedZip:  // not built yet: refused on its merits (409)
        return {"POST", Exp(QueuedExport()) + "/encrypted-zip", ""};
      case RouteId::kDownloadExport:  // likewise
        return {"GET", Exp(QueuedExport()) + "/download?" + PurposeParams(), ""};
      case RouteId::kStartRedaction:  // the export is not ready: refused on its merits (409)
        return {"POST", Exp(QueuedExport()) + "/redactions", json{{"mode", "faces"}}.dump()};
      case RouteId::kGetRedaction:
        return {"GET", Red(QueuedRedaction()), ""};
      case RouteId::kRedactionContactSheet:  // not done: no contact sheet yet (404)
        return {"GET", Red(QueuedRedaction()) + "/contact.jpg?" + PurposeParams(), ""};
      case RouteId::kRedactedVideo:  // not done: no video yet (404)
        return {"GET", Red(QueuedRedaction()) + "/video?" + PurposeParams(), ""};
      case RouteId::kRedactionOriginal:  // likewise
        return {"GET", Red(QueuedRedaction()) + "/original?" + PurposeParams(), ""};
      case RouteId::kSignOffRedaction:  // not done: refused on its merits (409)
        return {"POST", Red(QueuedRedaction()) + "/sign-off", json{{"note", "ok"}}.dump()};
      case RouteId::kRecordDisclosure:  // likewise: the export is not ready (409)
        return {"POST", "/api/v1/disclosures",
                json{{"export_id", QueuedExport()},
                     {"recipient_name", "DC Example"},
                     {"method", "download"}}
                    .dump()};
      case RouteId::kListDisclosures:
        return {"GET", "/api/v1/disclosures?" + range, ""};
      case RouteId::kStatistics:
        return {"GET", "/api/v1/statistics?month=2026-01", ""};
      case RouteId::kSigningKey:
        return {"GET", "/api/v1/signing-key", ""};
      case RouteId::kVerifyAccessLog:
        return {"GET", "/api/v1/access-log/verify", ""};
      case RouteId::kAccessCheckpoint:
        return {"POST", "/api/v1/access-log/checkpoint", ""};
      // Without a site file camera administration answers 409: admitted, refused on its merits.
      case RouteId::kCreateCamera:
        return {"POST", "/api/v1/cameras",
                json{{"id", "gate"}, {"url", "rtsp://127.0.0.1:9/gate"}}.dump()};
      case RouteId::kUpdateCamera:
        return {"PATCH", "/api/v1/cameras/door-1", json{{"name", "Door"}}.dump()};
      case RouteId::kTestCamera:
        return {"POST", "/api/v1/cameras/door-1/test", ""};
      case RouteId::kAcceptCameraCertificate:
        return {"POST", "/api/v1/cameras/door-1/certificate/accept",
                json{{"sha256", std::string(64, 'a')}}.dump()};
      // Nothing answers on these loopback ports: an empty list, and an unreachable camera.
      case RouteId::kDiscoverCameras:
        return {"POST", "/api/v1/camera-discovery",
                json{{"address", "127.0.0.1:9"}, {"timeout_ms", 100}}.dump()};
      case RouteId::kCameraStreams:
        return {"POST", "/api/v1/camera-discovery/streams",
                json{{"address", "http://127.0.0.1:9/onvif/device_service"}}.dump()};
      case RouteId::kHealthStatus:
        return {"GET", "/api/v1/health", ""};
      case RouteId::kListAlarms:
        return {"GET", "/api/v1/alarms", ""};
      case RouteId::kAcknowledgeAlarm:
        return {"POST", "/api/v1/alarms/" + std::to_string(RaiseAlarm()) + "/acknowledge", ""};
      case RouteId::kUnlockUser:
        return {"POST", "/api/v1/users/" + std::to_string(target_user_) + "/unlock", ""};
      case RouteId::kResetPassword:  // a fresh account each time: a reset ends its sessions
        return {"POST",
                "/api/v1/users/" +
                    std::to_string(f_.AddUser("forgetful-" + std::to_string(++grantees_),
                                              Role::kStaff)) +
                    "/password-reset",
                ""};
      case RouteId::kWebAsset:
        return {"GET", "/index.html", ""};
      case RouteId::kCount:
        break;
    }
    FAIL("no sample request for route " << static_cast<int>(id));
    return {};
  }

 private:
  std::string HoldBody() {
    return json{
        {"reason", "police request 2026/1"},
        {"review", At(f_.clock.Now() + 30 * kMicrosPerDay)},
        {"ranges",
         {{{"camera", "door-1"}, {"from", At(kFootageT0)}, {"to", At(kFootageT0 + 60 * kSecond)}}}}}
        .dump();
  }
  // A pending grant of the manager role to a new account, asked for by an account that is
  // never the caller.
  int64_t PendingGrant() {
    const int64_t user = f_.AddUser("grantee-" + std::to_string(++grantees_), Role::kStaff);
    auto id = f_.db().RequestRoleGrant(user, Role::kManager, target_user_);
    REQUIRE(id.ok());
    return *id;
  }
  // A new alarm each time (one active per kind), so that every caller may acknowledge one.
  int64_t RaiseAlarm() {
    auto id = f_.db().RaiseAlarm("camera_offline:matrix-" + std::to_string(++alarms_), "test");
    REQUIRE(id.ok());
    return *id;
  }
  int64_t MakeHold() {
    records::HoldRow h;
    h.reason = "matrix";
    h.owner_user_id = target_user_;
    h.review = f_.clock.Now() + kMicrosPerDay;
    h.ranges = {{"door-1", kFootageT0, kFootageT0 + kSecond}};
    auto id = f_.db().CreateHold(h);
    REQUIRE(id.ok());
    return *id;
  }

  // Footage requests in the states the samples need, made through the workflow.
  static std::string Req(int64_t id) { return "/api/v1/requests/" + std::to_string(id); }
  static std::string Exp(int64_t id) { return "/api/v1/exports/" + std::to_string(id); }
  static std::string Red(int64_t id) { return "/api/v1/redactions/" + std::to_string(id); }
  std::string RequestBody() {
    return json{{"type", "police"},
                {"requester_name", "DC Example"},
                {"organisation", "Example Constabulary"},
                {"reference", "CR/1"},
                {"ranges",
                 {{{"camera", "door-1"},
                   {"from", At(kFootageT0)},
                   {"to", At(kFootageT0 + 60 * kSecond)}}}}}
        .dump();
  }
  int64_t LogRequest(int64_t by, records::RequestType type = records::RequestType::kPolice) {
    requests::NewRequest r;
    r.type = type;
    r.legal_basis = requests::AllowedLegalBases(type).front();
    r.requester_name = "DC Example";
    r.ranges = {{"door-1", kFootageT0, kFootageT0 + 60 * kSecond}};
    auto id = workflow_.LogRequest(r, by);
    REQUIRE(id.ok());
    return *id;
  }
  int64_t VerifiedRequest(int64_t by) {
    const int64_t id = LogRequest(by);
    for (auto step : requests::RequiredVerifications(records::RequestType::kPolice)) {
      REQUIRE(workflow_.AddVerification(id, step, by, "done").ok());
    }
    return id;
  }
  int64_t SubmittedRequest() {
    const int64_t id = VerifiedRequest(target_user_);
    REQUIRE(workflow_.SubmitForDecision(id, target_user_).ok());
    return id;
  }
  int64_t ApprovedRequest() {
    const int64_t id = SubmittedRequest();
    requests::Decision d;
    d.approve = true;
    d.decided_by = ids_[Who::kManager];
    d.reason = "proportionate";
    REQUIRE(workflow_.Decide(id, d).ok());
    return id;
  }
  int64_t StoppedDsar() {
    const int64_t id = LogRequest(target_user_, records::RequestType::kDsar);
    requests::ClockStop stop{requests::ClockStopReason::kIdentity, "photo ID", ids_[Who::kDpo]};
    REQUIRE(workflow_.StopDsarClock(id, stop).ok());
    return id;
  }
  int64_t WithdrawnRequest() {
    const int64_t id = LogRequest(target_user_);
    REQUIRE(workflow_.Withdraw(id, target_user_, "no longer needed").ok());
    return id;
  }
  int64_t QueuedExport() {
    auto t = exports::RequestExport(f_.db(), ApprovedRequest(), ids_[Who::kManager], false);
    REQUIRE(t.ok());
    return t->export_id;
  }

  // A redaction row of a queued export, as a queued redaction job would leave it.
  int64_t QueuedRedaction() {
    records::Database::RedactionRow row;
    row.export_id = QueuedExport();
    row.input_sha256 = std::string(64, 'a');
    row.output_sha256 = std::string(64, '0');
    row.record_json = json{{"state", "queued"}}.dump();
    auto id = f_.db().AddRedaction(row);
    REQUIRE(id.ok());
    return *id;
  }

  ApiServerFixture f_;
  requests::Workflow workflow_{f_.db(), f_.clock};
  std::map<Who, int64_t> ids_;
  int64_t target_user_ = 0;
  int64_t segment_ = 0;
  int grantees_ = 0;
  int alarms_ = 0;
};

TEST_CASE("api role x route matrix: every route with every role and with no session") {
  Matrix m;
  REQUIRE(std::size(kMatrix) == RouteTable().size());
  for (const Expected& e : kMatrix) {
    for (Who who : kEveryone) {
      Sample s = m.SampleFor(e.route, who);
      auto session = m.SessionFor(who);
      const size_t log_before = m.fixture().AccessLog().size();
      auto r = m.fixture().Call(s.method, s.target, session, s.body);
      const std::string want = ExpectedFor(e, who);
      INFO(s.method << " " << s.target << " as " << Name(who) << " -> " << r.status << " "
                    << r.body.substr(0, 200));
      if (want == "A") {
        CHECK(r.status != 401);
        CHECK(r.status != 403);
        CHECK(r.status < 500);
      } else if (want == "D") {
        CHECK(r.status == 403);
        // Every refusal is logged.
        auto log = m.fixture().AccessLog();
        REQUIRE(log.size() > log_before);
        CHECK(log.back().result == records::AccessResult::kDenied);
        CHECK(log.back().user_name == Name(who));
      } else {
        CHECK(r.status == 401);
      }
      CHECK(json::parse(r.body.empty() || r.Header("content-type") != "application/json" ? "{}"
                                                                                         : r.body)
                .is_object());
    }
  }
}

// A reverse proxy on the box (nginx in front of the API, a tunnel) connects from loopback:
// if loopback alone admitted /metrics, the proxy would publish it to everyone it serves.
TEST_CASE(
    "api metrics behind a local reverse proxy: loopback without an admin session is refused") {
  ApiServerFixture f;
  f.AddUser("admin", Role::kAdmin);
  f.AddUser("staff", Role::kStaff);
  f.AddUser("dpo", Role::kDpo);
  // Over HTTPS from 127.0.0.1, as the proxy would forward an anonymous client.
  auto anonymous = f.Get("/metrics");
  CHECK(anonymous.status == 401);
  CHECK(anonymous.body.find("custodian_http_requests_total") == std::string::npos);
  CHECK(f.Get("/metrics", f.Login("staff")).status == 403);
  CHECK(f.Get("/metrics", f.Login("dpo")).status == 403);
  auto ok = f.Get("/metrics", f.Login("admin"));
  CHECK(ok.status == 200);
  CHECK(ok.body.find("custodian_http_requests_total") != std::string::npos);

  // The same from any other address.
  HttpRequest req;
  req.method = Method::kGet;
  req.target = req.path = "/metrics";
  req.client = "10.1.2.3";
  req.headers = {{"host", "cctv"}};
  CHECK(f.api().Handle(req).status == 401);
  req.headers.emplace_back("cookie", f.Login("admin").cookie);
  CHECK(f.api().Handle(req).status == 200);
  req.headers.back().second = f.Login("staff").cookie;
  CHECK(f.api().Handle(req).status == 403);
}

TEST_CASE("api per-camera permissions scope cameras, timeline, footage and holds") {
  ApiServerFixture f;
  f.AddUser("sam", Role::kStaff, {"door-1"});
  f.AddUser("mo", Role::kManager, {"door-1"});
  f.AddUser("admin", Role::kAdmin);
  const int64_t yard = f.AddSegment("yard", kFootageT0);
  const int64_t door = f.AddSegment("door-1", kFootageT0);
  SignedIn sam = f.Login("sam");

  auto cams = json::parse(f.Get("/api/v1/cameras", sam).body)["cameras"];
  REQUIRE(cams.size() == 1);
  CHECK(cams[0]["id"] == "door-1");
  CHECK(json::parse(f.Get("/api/v1/cameras", f.Login("admin")).body)["cameras"].size() == 2);

  const std::string range = "from=" + At(kFootageT0) + "&to=" + At(kFootageT0 + 60 * kSecond);
  CHECK(f.Get("/api/v1/cameras/yard/timeline?" + range, sam).status == 403);
  CHECK(f.LastAccess().camera_id == "yard");
  CHECK(f.Get("/api/v1/cameras/door-1/timeline?" + range, sam).status == 200);

  auto denied = f.Get("/api/v1/segments/" + std::to_string(yard) + "/file?" + PurposeParams(), sam);
  CHECK(denied.status == 403);
  auto e = f.LastAccess();
  CHECK(e.action == "download");
  CHECK(e.camera_id == "yard");
  CHECK(e.result == records::AccessResult::kDenied);
  CHECK(e.purpose_text == kPurposeText);
  CHECK(
      f.Get("/api/v1/segments/" + std::to_string(door) + "/file?" + PurposeParams(), sam).status ==
      200);
  CHECK(f.Get("/api/v1/cameras/yard/playlist.m3u8?" + range + "&" + PurposeParams(), sam).status ==
        403);
  CHECK(
      f.Get("/api/v1/cameras/yard/thumbnail.jpg?at=" + At(kFootageT0) + "&" + PurposeParams(), sam)
          .status == 403);
  // An unknown camera is refused the same way as a forbidden one: no existence leak.
  CHECK(f.Get("/api/v1/cameras/nowhere/timeline?" + range, sam).status == 403);

  SignedIn mo = f.Login("mo");
  json hold = {
      {"reason", "insurer claim"},
      {"review", At(f.clock.Now() + kMicrosPerDay)},
      {"ranges",
       {{{"camera", "yard"}, {"from", At(kFootageT0)}, {"to", At(kFootageT0 + kSecond)}}}}};
  CHECK(f.Call("POST", "/api/v1/holds", mo, hold.dump()).status == 403);
  hold["ranges"][0]["camera"] = "door-1";
  auto made = f.Call("POST", "/api/v1/holds", mo, hold.dump());
  REQUIRE(made.status == 201);
  CHECK(f.LastAccess().action == "hold_create");
  CHECK(f.LastAccess().camera_id == "door-1");
  auto holds = json::parse(f.Get("/api/v1/holds", mo).body)["holds"];
  REQUIRE(holds.size() == 1);
  const int64_t hold_id = json::parse(made.body)["id"];
  CHECK(f.Call("POST", "/api/v1/holds/" + std::to_string(hold_id) + "/release", mo).status == 204);
  CHECK(f.LastAccess().action == "hold_release");
  CHECK(f.Call("POST", "/api/v1/holds/" + std::to_string(hold_id) + "/release", mo).status == 409);
}

TEST_CASE("api admins manage accounts and every change is logged") {
  ApiServerFixture f;
  f.AddUser("admin", Role::kAdmin);
  SignedIn admin = f.Login("admin");
  auto made = f.Call("POST", "/api/v1/users", admin,
                     json{{"name", "pat"},
                          {"role", "staff"},
                          {"password", "first-password-1"},
                          {"cameras", {"door-1"}}}
                         .dump());
  REQUIRE(made.status == 201);
  const int64_t pat = json::parse(made.body)["id"];
  CHECK(f.LastAccess().action == "user_create");
  CHECK(f.Call("POST", "/api/v1/users", admin,
               json{{"name", "PAT"}, {"role", "staff"}, {"password", "first-password-1"}}.dump())
            .status == 409);
  CHECK(f.Call("POST", "/api/v1/users", admin,
               json{{"name", "x"}, {"role", "root"}, {"password", "first-password-1"}}.dump())
            .status == 400);
  CHECK(f.Call("POST", "/api/v1/users", admin,
               json{{"name", "y"},
                    {"role", "staff"},
                    {"password", "first-password-1"},
                    {"cameras", {"no-such-camera"}}}
                   .dump())
            .status == 400);
  // A privileged role is a pending grant (the four-eyes test below); staff is at once.
  auto promoted = f.Call("PATCH", "/api/v1/users/" + std::to_string(pat), admin,
                         json{{"role", "manager"}}.dump());
  REQUIRE(promoted.status == 202);
  CHECK(f.LastAccess().action == "role_grant_request");
  CHECK((*f.db().GetUserById(pat))->role == Role::kStaff);
  CHECK(f.Call("PATCH", "/api/v1/users/999", admin, json{{"role", "dpo"}}.dump()).status == 404);
  auto users = json::parse(f.Get("/api/v1/users", admin).body)["users"];
  CHECK(users.size() == 2);
  CHECK(users.dump().find("argon2") == std::string::npos);
  // A new account must choose its own password first.
  CHECK((*f.db().GetUserById(pat))->must_change_password);
}

}  // namespace

TEST_CASE("api an admin alone cannot make a manager: another admin or the dpo confirms the grant") {
  ApiServerFixture f;
  f.AddUser("ada", Role::kAdmin);
  f.AddUser("otto", Role::kAdmin);
  f.AddUser("dora", Role::kDpo);
  f.AddUser("mo", Role::kManager, {"door-1"});
  SignedIn ada = f.Login("ada");
  // The attack: ada makes two managers whose first passwords she knows.
  auto made = f.Call("POST", "/api/v1/users", ada,
                     json{{"name", "sock1"}, {"role", "manager"}, {"password", "first-password-1"},
                          {"cameras", {"door-1"}}}.dump());
  REQUIRE(made.status == 201);
  const json body = json::parse(made.body);
  const int64_t sock1 = body["id"];
  CHECK(body["role"] == "staff");
  const int64_t grant1 = body["pending_grant"]["id"];
  CHECK(f.LastAccess().action == "role_grant_request");
  const int64_t sam = f.AddUser("sam", Role::kStaff, {"door-1"});
  auto changed = f.Call("PATCH", "/api/v1/users/" + std::to_string(sam), ada,
                        json{{"role", "manager"}}.dump());
  REQUIRE(changed.status == 202);
  const int64_t grant2 = json::parse(changed.body)["pending_grant"]["id"];
  // Neither is a manager, so neither can decide a request.
  CHECK((*f.db().GetUserById(sock1))->role == Role::kStaff);
  CHECK((*f.db().GetUserById(sam))->role == Role::kStaff);
  // ada cannot confirm her own grants; a manager cannot decide grants at all.
  auto own = f.Call("POST", "/api/v1/role-grants/" + std::to_string(grant1) + "/decision", ada,
                    json{{"confirm", true}}.dump());
  CHECK(own.status == 403);
  CHECK(f.Call("POST", "/api/v1/role-grants/" + std::to_string(grant1) + "/decision",
               f.Login("mo"), json{{"confirm", true}}.dump())
            .status == 403);
  CHECK((*f.db().GetUserById(sock1))->role == Role::kStaff);
  // Nor can the account itself (after its first password change it could sign in).
  // The list shows both grants pending, with names, to an admin and to the dpo.
  SignedIn dora = f.Login("dora");
  auto list = json::parse(f.Get("/api/v1/role-grants", dora).body)["grants"];
  REQUIRE(list.size() == 2);
  CHECK(list[0]["state"] == "pending");
  CHECK(list[0]["requested_by_name"] == "ada");
  CHECK(list[0]["you_may_decide"] == true);
  CHECK(json::parse(f.Get("/api/v1/role-grants", ada).body)["grants"][0]["you_may_decide"] == false);
  // The dpo confirms one; another admin refuses the other.
  auto ok = f.Call("POST", "/api/v1/role-grants/" + std::to_string(grant2) + "/decision", dora,
                   json{{"confirm", true}}.dump());
  REQUIRE(ok.status == 200);
  CHECK(json::parse(ok.body)["state"] == "confirmed");
  CHECK((*f.db().GetUserById(sam))->role == Role::kManager);
  CHECK(f.LastAccess().action == "role_change");
  CHECK(f.LastAccess().detail.find("staff -> manager (grant " + std::to_string(grant2)) !=
        std::string::npos);
  records::AccessFilter confirms;
  confirms.action = "role_grant_confirm";
  auto log = f.db().QueryAccess(confirms);
  REQUIRE(log.ok());
  CHECK(log->size() == 1);
  SignedIn otto = f.Login("otto");
  auto no = f.Call("POST", "/api/v1/role-grants/" + std::to_string(grant1) + "/decision", otto,
                   json{{"confirm", false}}.dump());
  REQUIRE(no.status == 200);
  CHECK(f.LastAccess().action == "role_grant_refuse");
  CHECK((*f.db().GetUserById(sock1))->role == Role::kStaff);
  // A decided grant stays decided.
  CHECK(f.Call("POST", "/api/v1/role-grants/" + std::to_string(grant1) + "/decision", dora,
               json{{"confirm", true}}.dump())
            .status == 409);
  CHECK(f.Call("POST", "/api/v1/role-grants/" + std::to_string(grant1) + "/decision", dora,
               json{{"approve", true}}.dump())
            .status == 400);
  // Taking a role away needs no second person.
  auto down = f.Call("PATCH", "/api/v1/users/" + std::to_string(sam), ada,
                     json{{"role", "staff"}}.dump());
  CHECK(down.status == 200);
  CHECK((*f.db().GetUserById(sam))->role == Role::kStaff);
}

TEST_CASE("api the dpo takes a signed checkpoint of the access log's head off the box") {
  ApiServerFixture f;
  f.AddUser("dora", Role::kDpo);
  SignedIn dora = f.Login("dora");
  auto r = f.Call("POST", "/api/v1/access-log/checkpoint", dora, "");
  REQUIRE(r.status == 200);
  const json c = json::parse(r.body);
  auto head = f.db().AccessLogHead();
  REQUIRE(head.ok());
  REQUIRE(head->has_value());
  // The checkpoint names the head before its own entry, which records it.
  CHECK(c["entry"] == (*head)->id - 1);
  CHECK(f.LastAccess().action == "access_log_checkpoint");
  CHECK(f.LastAccess().detail.find(c["hash"].get<std::string>()) != std::string::npos);
  const std::string text = c["checkpoint"];
  CHECK(text.rfind("custodian access-log checkpoint 1\n", 0) == 0);
  CHECK(text.find("entry: " + std::to_string(c["entry"].get<int64_t>()) + "\n") != std::string::npos);
  CHECK(c["minisig"].get<std::string>().find("trusted comment: custodian access-log checkpoint") !=
        std::string::npos);
}

}  // namespace custodian::api::testing
