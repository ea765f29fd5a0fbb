// Account recovery (admin only): ending a lockout, and a one-time password for someone who
// forgot theirs (docs/design/api.md, "Accounts and sessions").
//
// A reset password is made by the server, shown once to the admin who asked, and must be
// changed at the next sign-in; every session of the account ends. Four-eyes: the admin
// then knows a password of the account, so a reset must not hand one person a privileged
// account. A manager, DPO or admin account that is reset becomes staff, with a pending
// grant of its role that another admin or the DPO confirms (the same rule as making such
// an account, handlers_users.cpp). Staff accounts are reset by one admin, who could make
// such an account alone anyway.
#include <sodium.h>

#include "api/handlers.h"
#include "api/passwords.h"

namespace custodian::api {

namespace {

using records::AccessResult;
using records::Role;

// 20 characters from 32 that are not easily confused (no 0/O, 1/l/I): 100 bits.
std::string OneTimePassword() {
  static constexpr char kAlphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";
  static_assert(sizeof kAlphabet - 1 == 31);
  std::string out;
  for (int i = 0; i < 20; ++i) {
    if (i > 0 && i % 5 == 0) out += '-';
    out += kAlphabet[randombytes_uniform(sizeof kAlphabet - 1)];
  }
  return out;
}

Status Log(ApiContext& ctx, const Call& call, const std::string& action,
           const std::string& detail) {
  records::AccessEntry e = EntryFor(call, AccessResult::kOk, detail);
  e.action = action;
  return RecordChange(ctx, e);
}

Result<records::UserRow> Target(ApiContext& ctx, const Call& call) {
  auto user = ctx.db.GetUserById(*call.params.id);
  if (!user.ok()) return FromRecords(user.status(), "read the account");
  if (!*user) return NotFound("no account " + std::to_string(*call.params.id));
  return std::move(**user);
}

}  // namespace

Result<HttpResponse> HandleUnlockUser(ApiContext& ctx, const Call& call) {
  auto target = Target(ctx, call);
  if (!target.ok()) return target.status();
  const bool locked = target->locked_until && target->locked_until->us > ctx.clock.Now().us;
  Status st = ctx.db.WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(ctx.db.ResetFailedLogins(target->id));
    return Log(ctx, call, "account_unlock",
               "account " + std::to_string(target->id) + " " + target->name +
                   (locked ? " unlocked" : " (was not locked)") + " after " +
                   std::to_string(target->failed_logins) + " failed sign-in(s)");
  });
  if (!st.ok()) return FromRecords(st, "unlock the account");
  auto updated = Target(ctx, call);
  if (!updated.ok()) return updated.status();
  nlohmann::json out = UserJson(*updated);
  out["was_locked"] = locked;
  return Json(out);
}

Result<HttpResponse> HandleResetPassword(ApiContext& ctx, const Call& call) {
  auto target = Target(ctx, call);
  if (!target.ok()) return target.status();
  if (target->id == call.user().user_id) {
    return FailedPrecondition("change your own password with your current one instead");
  }
  const std::string password = OneTimePassword();
  auto hash = HashPassword(password, ctx.options.sessions.password_cost);
  if (!hash.ok()) return hash.status();
  const bool privileged = target->role != Role::kStaff;
  const std::string who = "account " + std::to_string(target->id) + " " + target->name;
  std::optional<int64_t> grant;
  Status st = ctx.db.WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(ctx.db.SetPasswordHash(target->id, *hash, true));
    CUSTODIAN_RETURN_IF_ERROR(ctx.db.ResetFailedLogins(target->id));
    CUSTODIAN_RETURN_IF_ERROR(ctx.db.DeleteUserSessions(target->id));
    CUSTODIAN_RETURN_IF_ERROR(Log(ctx, call, "password_reset",
                                  who + ": one-time password set, to change at next sign-in"));
    if (!privileged) return Status::Ok();
    CUSTODIAN_RETURN_IF_ERROR(ctx.db.SetUserRole(target->id, Role::kStaff));
    CUSTODIAN_RETURN_IF_ERROR(Log(ctx, call, "role_change",
                                  who + ": " + records::Name(target->role) +
                                      " -> staff until a second person confirms (password reset)"));
    auto g = ctx.db.RequestRoleGrant(target->id, target->role, call.user().user_id);
    if (!g.ok()) return g.status();
    grant = *g;
    return Log(ctx, call, "role_grant_request",
               "grant " + std::to_string(*g) + ": " + who + " role " +
                   records::Name(target->role) +
                   " again after a password reset (takes effect when another admin or the dpo "
                   "confirms)");
  });
  if (!st.ok()) return FromRecords(st, "reset the password");
  ctx.viewings.EndUser(target->id, "ended: the account's password was reset");
  auto updated = Target(ctx, call);
  if (!updated.ok()) return updated.status();
  nlohmann::json out = UserJson(*updated);
  out["one_time_password"] = password;  // shown once; never logged or stored in clear
  if (grant) out["pending_grant"] = {{"id", *grant}, {"role", records::Name(target->role)}};
  return Json(out);
}

}  // namespace custodian::api
