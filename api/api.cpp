// The dispatcher: route, authenticate, check CSRF and role, run the handler, and log
// every refusal. Handlers are in handlers_*.cpp.
#include "api/api.h"

#include <chrono>
#include <exception>
#include <iterator>

#include "api/handlers.h"
#include "api/web_security.h"
#include "base/log.h"

namespace custodian::api {

namespace {

using records::AccessResult;

struct HandlerEntry {
  RouteId route;
  Handler handler;
};

// One row per route, in RouteId order (checked below, so a row out of place fails to build).
constexpr HandlerEntry kHandlers[] = {
    {RouteId::kHealthz, HandleHealthz},
    {RouteId::kMetrics, HandleMetrics},
    {RouteId::kLogin, HandleLogin},
    {RouteId::kLogout, HandleLogout},
    {RouteId::kSession, HandleSession},
    {RouteId::kChangePassword, HandleChangePassword},
    {RouteId::kListCameras, HandleListCameras},
    {RouteId::kTimeline, HandleTimeline},
    {RouteId::kPlaylist, HandlePlaylist},
    {RouteId::kThumbnail, HandleThumbnail},
    {RouteId::kSaveStill, HandleSaveStill},
    {RouteId::kActivity, HandleActivity},
    {RouteId::kActivitySearch, HandleActivitySearch},
    {RouteId::kSegmentFile, HandleSegmentFile},
    {RouteId::kLivePlaylist, HandleLivePlaylist},
    {RouteId::kLivePicture, HandleLivePicture},
    {RouteId::kLiveSegmentFile, HandleLiveSegmentFile},
    {RouteId::kAccessLog, HandleAccessLog},
    {RouteId::kAccessLogCsv, HandleAccessLogCsv},
    {RouteId::kListUsers, HandleListUsers},
    {RouteId::kCreateUser, HandleCreateUser},
    {RouteId::kUpdateUser, HandleUpdateUser},
    {RouteId::kSetUserCameras, HandleSetUserCameras},
    {RouteId::kListRoleGrants, HandleListRoleGrants},
    {RouteId::kDecideRoleGrant, HandleDecideRoleGrant},
    {RouteId::kListHolds, HandleListHolds},
    {RouteId::kCreateHold, HandleCreateHold},
    {RouteId::kReleaseHold, HandleReleaseHold},
    {RouteId::kListDeletions, HandleListDeletions},
    {RouteId::kLogRequest, HandleLogRequest},
    {RouteId::kListRequests, HandleListRequests},
    {RouteId::kRequestRules, HandleRequestRules},
    {RouteId::kGetRequest, HandleGetRequest},
    {RouteId::kAddVerification, HandleAddVerification},
    {RouteId::kSubmitRequest, HandleSubmitRequest},
    {RouteId::kDecideRequest, HandleDecideRequest},
    {RouteId::kExtendDeadline, HandleExtendDeadline},
    {RouteId::kStopClock, HandleStopClock},
    {RouteId::kRestartClock, HandleRestartClock},
    {RouteId::kSubjectNotification, HandleSubjectNotification},
    {RouteId::kWithdrawRequest, HandleWithdrawRequest},
    {RouteId::kCloseRequest, HandleCloseRequest},
    {RouteId::kStartExport, HandleStartExport},
    {RouteId::kGetExport, HandleGetExport},
    {RouteId::kCancelExport, HandleCancelExport},
    {RouteId::kJustifyUnredacted, HandleJustifyUnredacted},
    {RouteId::kEncryptedZip, HandleEncryptedZip},
    {RouteId::kDownloadExport, HandleDownloadExport},
    {RouteId::kStartRedaction, HandleStartRedaction},
    {RouteId::kGetRedaction, HandleGetRedaction},
    {RouteId::kRedactionContactSheet, HandleRedactionContactSheet},
    {RouteId::kRedactedVideo, HandleRedactedVideo},
    {RouteId::kRedactionOriginal, HandleRedactionOriginal},
    {RouteId::kSignOffRedaction, HandleSignOffRedaction},
    {RouteId::kRecordDisclosure, HandleRecordDisclosure},
    {RouteId::kListDisclosures, HandleListDisclosures},
    {RouteId::kStatistics, HandleStatistics},
    {RouteId::kSigningKey, HandleSigningKey},
    {RouteId::kVerifyAccessLog, HandleVerifyAccessLog},
    {RouteId::kAccessCheckpoint, HandleAccessCheckpoint},
    {RouteId::kCreateCamera, HandleCreateCamera},
    {RouteId::kUpdateCamera, HandleUpdateCamera},
    {RouteId::kTestCamera, HandleTestCamera},
    {RouteId::kAcceptCameraCertificate, HandleAcceptCameraCertificate},
    {RouteId::kDiscoverCameras, HandleDiscoverCameras},
    {RouteId::kCameraStreams, HandleCameraStreams},
    {RouteId::kHealthStatus, HandleHealthStatus},
    {RouteId::kListAlarms, HandleListAlarms},
    {RouteId::kAcknowledgeAlarm, HandleAcknowledgeAlarm},
    {RouteId::kUnlockUser, HandleUnlockUser},
    {RouteId::kResetPassword, HandleResetPassword},
    {RouteId::kWebAsset, HandleWebAsset},
};

constexpr bool InRouteOrder() {
  for (size_t i = 0; i < std::size(kHandlers); ++i) {
    if (static_cast<size_t>(kHandlers[i].route) != i) return false;
  }
  return std::size(kHandlers) == static_cast<size_t>(RouteId::kCount);
}
static_assert(InRouteOrder(), "kHandlers needs one row per route, in RouteId order");

const char* RoleRuleText(Access access) {
  switch (access) {
    case Access::kFootage:
      return "footage is for staff, manager and dpo accounts";
    case Access::kManager:
      return "this needs a manager or dpo account";
    case Access::kDpo:
      return "this needs a dpo account";
    case Access::kAdmin:
      return "this needs an admin account";
    case Access::kGrants:
      return "this needs an admin or dpo account";
    case Access::kHealth:
      return "this needs a manager, dpo or admin account";
    default:
      return "not allowed";
  }
}

// Sets call->principal and checks everything the route table says about the caller.
Status Admit(ApiContext& ctx, Call* call) {
  const HttpRequest& req = call->request;
  const Access access = call->route.access;
  CUSTODIAN_RETURN_IF_ERROR(CheckOrigin(req));
  if (access == Access::kPublic) return Status::Ok();
  const std::string* cookies = req.Header("cookie");
  std::optional<std::string> token =
      cookies ? FindCookie(*cookies, kSessionCookieName) : std::nullopt;
  if (!token) return Unauthenticated("sign in first");
  auto principal = ctx.sessions.Authenticate(*token);
  if (!principal.ok()) {
    if (principal.status().kind() == ErrorKind::kUnauthenticated) return principal.status();
    return FromRecords(principal.status(), "check the session");
  }
  call->principal = std::move(principal).value();
  if (IsStateChanging(req.method)) {
    CUSTODIAN_RETURN_IF_ERROR(CheckCsrfToken(req, call->principal->csrf_token));
  }
  if (!RoleAllowed(access, call->principal->role)) {
    return PermissionDenied(RoleRuleText(access));
  }
  if (call->principal->must_change_password && !call->route.before_password_change) {
    return PermissionDenied("change your password first (POST /api/v1/auth/password)");
  }
  return Status::Ok();
}

// The rows for addresses whose refusals without a session were counted, not written, in
// a window that has ended (all of them at shutdown).
void WriteRefusalSummaries(ApiContext& ctx, bool all) {
  for (const RefusalTally::Summary& s : ctx.no_session_refusals.TakeStale(ctx.clock.Now(), all)) {
    records::AccessEntry e;
    e.user_name = "(no session)";
    e.action = "no_session_refusals";
    e.client = s.address;
    e.result = AccessResult::kDenied;
    e.detail = std::to_string(s.count) + " more requests refused without a session from " +
               FormatUtc(s.from) + " to " + FormatUtc(s.to) +
               " (counted, not logged one by one)";
    Status st = RecordAccess(ctx, e);
    if (!st.ok()) LogWarn("api") << "a refusal count could not be logged: " << st.ToString();
  }
}

// Writes the access-log entry for a refused request. Refusals of footage requests, and
// requests refused by a per-address limit, are logged even without a session; other
// unauthenticated requests are not. Without a session, at most one row per address per
// window (RateLimits::refusal_log_window_us) is written: the first refusal, then a count
// of the rest, so that anonymous traffic cannot flood the log with fsynced rows.
void LogRefusal(ApiContext& ctx, const Call& call, const Status& why, bool limited = false) {
  if (!call.principal && !call.route.reveals_footage && !limited) return;
  std::string detail = why.message();
  if (!call.principal) {
    WriteRefusalSummaries(ctx, false);
    const RefusalTally::Decision d = ctx.no_session_refusals.Note(call.request.client,
                                                                  ctx.clock.Now());
    if (!d.write) return;
    if (d.earlier > 0) {
      detail += "; and " + std::to_string(d.earlier) +
                " more requests refused without a session from " + FormatUtc(d.earlier_from) +
                " to " + FormatUtc(d.earlier_to) + " (counted, not logged one by one)";
    }
    detail += "; further refusals from this address in the next minute are counted in one entry";
  }
  if (call.params.id) detail += " (id " + std::to_string(*call.params.id) + ")";
  records::AccessEntry e = EntryFor(call, AccessResult::kDenied, detail);
  if (!call.principal) e.user_name = "(no session)";
  if (!call.params.camera.empty()) e.camera_id = call.params.camera;
  if (call.route.reveals_footage) {
    Purpose offered = OfferedPurpose(call.request);
    e.purpose_category = offered.category;
    e.purpose_text = offered.text;
  }
  Status st = RecordAccess(ctx, e);
  if (!st.ok()) LogWarn("api") << "a refusal could not be logged: " << st.ToString();
}

HttpResponse Refuse(ApiContext& ctx, const Call& call, const Status& why) {
  const ErrorKind kind = why.kind();
  if (kind != ErrorKind::kUnauthenticated && kind != ErrorKind::kPermissionDenied) {
    return ErrorResponse(why);
  }
  LogRefusal(ctx, call, why);
  HttpResponse r = ErrorResponse(why);
  if (kind == ErrorKind::kUnauthenticated && call.request.Header("cookie")) {
    r.SetHeader("Set-Cookie", ClearedSessionCookie());
  }
  return r;
}

HttpResponse TooManyRequests(int64_t retry_after_seconds, const std::string& what) {
  HttpResponse r = ErrorResponse(429, "too_many_requests",
                                 what + "; try again in " + std::to_string(retry_after_seconds) +
                                     " s");
  r.SetHeader("Retry-After", std::to_string(retry_after_seconds));
  return r;
}

Result<HttpResponse> RunHandler(ApiContext& ctx, const Call& call) {
  try {
    return kHandlers[static_cast<size_t>(call.route.id)].handler(ctx, call);
  } catch (const std::exception& e) {
    return Internal(std::string("unexpected exception: ") + e.what());
  }
}

HttpResponse Dispatch(ApiContext& ctx, const HttpRequest& req, const RouteSpec** matched) {
  std::string allowed;
  auto match = MatchRoute(req.method, req.path, &allowed);
  if (!match.ok()) {
    if (match.status().kind() != ErrorKind::kFailedPrecondition) {
      return ErrorResponse(match.status());
    }
    HttpResponse r = ErrorResponse(405, "method_not_allowed",
                                   std::string(MethodName(req.method)) + " is not allowed here");
    r.SetHeader("Allow", allowed);
    return r;
  }
  *matched = match->route;
  Call call{req, *match->route, std::move(match->params), std::nullopt};
  if (call.route.id == RouteId::kLogin) {
    if (auto wait = ctx.sign_in_limiter.Take(req.client, ctx.clock.Monotonic())) {
      const std::string what = "too many sign-ins from this address";
      LogRefusal(ctx, call, Status(ErrorKind::kResourceExhausted, what), /*limited=*/true);
      return TooManyRequests(*wait, what);
    }
  }
  Status admitted = Admit(ctx, &call);
  if (!admitted.ok()) {
    // Requests without a valid session are limited per address; with one, never.
    if (!call.principal && admitted.kind() == ErrorKind::kUnauthenticated) {
      if (auto wait = ctx.no_session_limiter.Take(req.client, ctx.clock.Monotonic())) {
        const std::string what = "too many requests without a session from this address";
        LogRefusal(ctx, call, Status(ErrorKind::kResourceExhausted, what), /*limited=*/true);
        HttpResponse r = TooManyRequests(*wait, what);
        if (req.Header("cookie")) r.SetHeader("Set-Cookie", ClearedSessionCookie());
        return r;
      }
    }
    return Refuse(ctx, call, admitted);
  }
  Result<HttpResponse> r = RunHandler(ctx, call);
  if (r.ok()) return std::move(r).value();
  // Footage handlers log their own refusals, with the purpose.
  if (r.status().kind() == ErrorKind::kPermissionDenied && !call.route.reveals_footage) {
    LogRefusal(ctx, call, r.status());
  }
  return ErrorResponse(r.status());
}

}  // namespace

Api::Api(records::Database& db, records::Database& access_log_db, const Clock& clock,
         ApiOptions options)
    : ctx_(std::make_unique<ApiContext>(db, access_log_db, clock, std::move(options))) {
  // Viewings a crash left open end before anything new starts (viewings.h).
  Status ended = ctx_->viewings.EndLeftOpen(db);
  if (!ended.ok()) {
    LogWarn("api") << "viewings left open by the previous run could not be ended; the next "
                      "start tries again: "
                   << ended.ToString();
  }
  if (ctx_->options.viewing_sweep_interval_us > 0) {
    sweeper_ = std::jthread([this](std::stop_token stop) { Sweep(std::move(stop)); });
  }
}

Api::~Api() {
  if (sweeper_.joinable()) {
    sweeper_.request_stop();
    sweep_wake_.notify_all();
    sweeper_.join();
  }
  // Handlers have finished (the server stops first): what is open now ends here.
  ctx_->viewings.EndAll("ended: the server stopped");
  // Refusals counted but not yet on record.
  WriteRefusalSummaries(*ctx_, /*all=*/true);
}

void Api::Sweep(std::stop_token stop) {
  const auto every = std::chrono::microseconds(ctx_->options.viewing_sweep_interval_us);
  std::unique_lock lock(sweep_mu_);
  for (;;) {
    sweep_wake_.wait_for(lock, stop, every, [] { return false; });
    if (stop.stop_requested()) return;
    lock.unlock();
    ctx_->viewings.EndIdle();
    lock.lock();
  }
}

ViewingLog& Api::viewings() { return ctx_->viewings; }
int Api::EndIdleViewings() { return ctx_->viewings.EndIdle(); }

Metrics& Api::metrics() { return ctx_->metrics; }
AccessLogWriter& Api::access_log() { return ctx_->access_log; }
SessionService& Api::sessions() { return ctx_->sessions; }

HttpResponse Api::Handle(const HttpRequest& request) {
  // Latency is measured on the host's steady clock: it is a metric, never a record.
  const auto start = std::chrono::steady_clock::now();
  const RouteSpec* route = nullptr;
  HttpResponse r = Dispatch(*ctx_, request, &route);
  ApplySecurityHeaders(&r);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  ctx_->metrics.CountRequest(route, r.status, us);
  return r;
}

}  // namespace custodian::api
