// Sign-in, sign-out, the session, password change.
#include "api/handlers.h"
#include "api/web_security.h"

namespace custodian::api {

namespace {

using records::AccessResult;

constexpr size_t kMaxLoggedNameBytes = 64;

// "ip; user agent", for the session row.
std::string SessionClient(const HttpRequest& r) {
  const std::string* agent = r.Header("user-agent");
  return r.client + (agent ? "; " + agent->substr(0, 200) : "");
}

nlohmann::json SessionJson(ApiContext& ctx, const records::UserRow& user,
                           const std::string& csrf_token) {
  return {{"user", UserJson(user)},
          {"csrf_token", csrf_token},
          {"idle_timeout_seconds", ctx.options.sessions.idle_timeout_us / kMicrosPerSecond},
          {"purposes", PurposeCategories()}};
}

Result<HttpResponse> RefuseLogin(ApiContext& ctx, const Call& call, const std::string& name,
                                 const LoginOutcome& outcome) {
  records::AccessEntry e = EntryFor(call, AccessResult::kDenied, outcome.failure);
  e.action = "login_failed";
  if (outcome.user) e.user_id = outcome.user->id;
  e.user_name = name.substr(0, kMaxLoggedNameBytes);
  if (!IsPrintableUtf8(e.user_name)) e.user_name = "(unprintable)";
  CUSTODIAN_RETURN_IF_ERROR(RecordAccess(ctx, e));
  ctx.metrics.CountLoginFailure();
  // One answer for every failure, so that it tells nobody which names exist or whether the
  // password was right; it tells the owner of a locked account what to do.
  const SessionPolicy& policy = ctx.options.sessions;
  HttpResponse r = ErrorResponse(Unauthenticated(
      "sign-in failed: wrong name or password, or the account is disabled, or locked after " +
      std::to_string(policy.lock_after_failures) + " failed sign-ins (it unlocks after " +
      std::to_string(policy.lock_duration_us / (60 * kMicrosPerSecond)) +
      " minutes, or an admin can unlock it now)"));
  r.delay_ms = ctx.options.sessions.failed_login_delay_ms;
  return r;
}

}  // namespace

Result<HttpResponse> HandleLogin(ApiContext& ctx, const Call& call) {
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  auto name = StringMember(*body, "name", 256, true);
  if (!name.ok()) return name.status();
  auto it = body->find("password");
  if (it == body->end() || !it->is_string()) return InvalidArgument("missing \"password\"");
  auto outcome = ctx.sessions.Login(**name, it->get<std::string>(), SessionClient(call.request));
  if (!outcome.ok()) return FromRecords(outcome.status(), "sign in");
  if (!outcome->session) return RefuseLogin(ctx, call, **name, *outcome);

  records::AccessEntry e = EntryFor(call, AccessResult::kOk, "");
  e.user_id = outcome->user->id;
  e.user_name = outcome->user->name;
  CUSTODIAN_RETURN_IF_ERROR(RecordAccess(ctx, e));
  HttpResponse r = Json(SessionJson(ctx, *outcome->user, outcome->session->csrf_token));
  r.SetHeader("Set-Cookie", SessionCookie(outcome->session->token));
  return r;
}

Result<HttpResponse> HandleLogout(ApiContext& ctx, const Call& call) {
  Status st = ctx.sessions.Logout(call.user());
  if (!st.ok()) return FromRecords(st, "sign out");
  ctx.viewings.EndSession(call.user().token_hash, "ended: signed out");
  CUSTODIAN_RETURN_IF_ERROR(RecordAccess(ctx, EntryFor(call, AccessResult::kOk, "")));
  HttpResponse r = NoContent();
  r.SetHeader("Set-Cookie", ClearedSessionCookie());
  return r;
}

Result<HttpResponse> HandleSession(ApiContext& ctx, const Call& call) {
  auto user = ctx.db.GetUserById(call.user().user_id);
  if (!user.ok()) return FromRecords(user.status(), "read the account");
  if (!*user) return Unauthenticated("account gone");
  auto cameras = PermittedCameras(ctx, call.user());
  if (!cameras.ok()) return cameras.status();
  nlohmann::json j = SessionJson(ctx, **user, call.user().csrf_token);
  j["cameras"] = *cameras;
  return Json(j);
}

Result<HttpResponse> HandleChangePassword(ApiContext& ctx, const Call& call) {
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  auto current = StringMember(*body, "current_password", kMaxPasswordBytes, true);
  if (!current.ok()) return current.status();
  auto replacement = StringMember(*body, "new_password", kMaxPasswordBytes, true);
  if (!replacement.ok()) return replacement.status();
  auto session = ctx.sessions.ChangePassword(call.user(), **current, **replacement,
                                             SessionClient(call.request));
  if (!session.ok()) {
    const Status& st = session.status();
    if (st.kind() != ErrorKind::kPermissionDenied && st.kind() != ErrorKind::kInvalidArgument) {
      return FromRecords(st, "change the password");
    }
    CUSTODIAN_RETURN_IF_ERROR(
        RecordAccess(ctx, EntryFor(call, AccessResult::kDenied, st.message())));
    HttpResponse r = ErrorResponse(st);
    if (st.kind() == ErrorKind::kPermissionDenied) {
      r.delay_ms = ctx.options.sessions.failed_login_delay_ms;
    }
    return r;
  }
  ctx.viewings.EndUser(call.user().user_id, "ended: the password was changed, ending its sessions");
  CUSTODIAN_RETURN_IF_ERROR(
      RecordAccess(ctx, EntryFor(call, AccessResult::kOk, "all other sessions ended")));
  HttpResponse r = Json({{"csrf_token", session->csrf_token}});
  r.SetHeader("Set-Cookie", SessionCookie(session->token));
  return r;
}

}  // namespace custodian::api
