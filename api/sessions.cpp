#include "api/sessions.h"

#include <algorithm>

#include "base/log.h"
#include "base/sha256.h"

namespace custodian::api {

namespace {

constexpr size_t kTokenBytes = 32;
constexpr size_t kMaxNameBytes = 64;

int ClampChecks(int n) { return std::clamp(n, 1, 64); }

}  // namespace

bool IsWellFormedToken(const std::string& token) {
  if (token.size() != 2 * kTokenBytes) return false;
  return std::all_of(token.begin(), token.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

SessionService::SessionService(records::Database& db, const Clock& clock, SessionPolicy policy)
    : db_(db),
      clock_(clock),
      policy_(policy),
      password_checks_(ClampChecks(policy.max_concurrent_password_checks)) {
  auto dummy = HashPassword(RandomHex(16), policy_.password_cost);
  if (dummy.ok()) dummy_hash_ = *dummy;
}

bool SessionService::CheckPassword(const std::string& stored_hash, const std::string& password) {
  if (policy_.password_check_hook) policy_.password_check_hook();
  password_checks_.acquire();
  bool ok = VerifyPassword(stored_hash, password);
  password_checks_.release();
  return ok;
}

void SessionService::DummyCheck(const std::string& password) {
  ++dummy_checks_;
  CheckPassword(dummy_hash_, password.substr(0, kMaxPasswordBytes));
}

Result<NewSession> SessionService::StartSession(int64_t user_id, const std::string& client) {
  NewSession s{RandomHex(kTokenBytes), RandomHex(kTokenBytes)};
  records::SessionRow row;
  row.token_hash = Sha256Hex(s.token);
  row.user_id = user_id;
  row.csrf_token = s.csrf_token;
  row.client = client;
  Status st = db_.CreateSession(row);
  if (!st.ok()) return st;
  return s;
}

Result<LoginOutcome> SessionService::Refuse(LoginOutcome outcome, std::string why) {
  outcome.failure = std::move(why);
  return outcome;
}

Result<LoginOutcome> SessionService::Login(const std::string& name, const std::string& password,
                                           const std::string& client) {
  LoginOutcome out;
  if (name.empty() || name.size() > kMaxNameBytes || password.size() > kMaxPasswordBytes) {
    DummyCheck(password);
    return Refuse(std::move(out), "malformed name or password");
  }
  auto user = db_.GetUserByName(name);
  if (!user.ok()) return user.status();
  if (!*user) {
    DummyCheck(password);
    return Refuse(std::move(out), "no such account");
  }
  out.user = **user;
  const records::UserRow& u = *out.user;
  if (u.disabled) {
    DummyCheck(password);
    return Refuse(std::move(out), "account disabled");
  }
  // Count the attempt (and lock at the limit) before checking: parallel guesses each take
  // one of the attempts allowed, never more.
  auto claimed = db_.ClaimLoginAttempt(u.id, policy_.lock_after_failures, policy_.lock_duration_us);
  if (!claimed.ok()) return claimed.status();
  if (!*claimed) {
    DummyCheck(password);
    auto now_locked = db_.GetUserById(u.id);
    std::string why = "account locked";
    if (now_locked.ok() && *now_locked && (*now_locked)->locked_until) {
      why += " until " + FormatUtc(*(*now_locked)->locked_until);
    }
    return Refuse(std::move(out), why);
  }
  ++real_checks_;
  if (!CheckPassword(u.password_hash, password)) {
    std::string why = "wrong password (" + std::to_string(**claimed) + " in a row)";
    if (**claimed >= policy_.lock_after_failures) why += "; account locked";
    return Refuse(std::move(out), why);
  }
  CUSTODIAN_RETURN_IF_ERROR(db_.ResetFailedLogins(u.id));
  auto expired = db_.DeleteExpiredSessions(policy_.idle_timeout_us, policy_.absolute_timeout_us);
  if (!expired.ok())
    LogWarn("api") << "could not purge expired sessions: " << expired.status().ToString();
  auto session = StartSession(u.id, client);
  if (!session.ok()) return session.status();
  out.session = std::move(session).value();
  return out;
}

Result<Principal> SessionService::Authenticate(const std::string& token) {
  if (!IsWellFormedToken(token)) return Unauthenticated("malformed session cookie");
  const std::string token_hash = Sha256Hex(token);
  auto session = db_.GetSession(token_hash);
  if (!session.ok()) return session.status();
  if (!*session) return Unauthenticated("no such session (signed out or expired)");
  const records::SessionRow& s = **session;
  const UtcMicros now = clock_.Now();
  if (now - s.last_seen >= policy_.idle_timeout_us ||
      now - s.created >= policy_.absolute_timeout_us) {
    CUSTODIAN_RETURN_IF_ERROR(db_.DeleteSession(token_hash));
    return Unauthenticated("session expired; sign in again");
  }
  auto user = db_.GetUserById(s.user_id);
  if (!user.ok()) return user.status();
  if (!*user || (*user)->disabled) {
    CUSTODIAN_RETURN_IF_ERROR(db_.DeleteUserSessions(s.user_id));
    return Unauthenticated("account disabled");
  }
  if (now - s.last_seen >= policy_.touch_interval_us) {
    Status touched = db_.TouchSession(token_hash);
    if (!touched.ok() && touched.kind() != ErrorKind::kNotFound) return touched;
  }
  const records::UserRow& u = **user;
  return Principal{u.id, u.name, u.role, u.must_change_password, token_hash, s.csrf_token};
}

Status SessionService::Logout(const Principal& principal) {
  return db_.DeleteSession(principal.token_hash);
}

Result<NewSession> SessionService::ChangePassword(const Principal& principal,
                                                  const std::string& current,
                                                  const std::string& replacement,
                                                  const std::string& client) {
  auto user = db_.GetUserById(principal.user_id);
  if (!user.ok()) return user.status();
  if (!*user) return Unauthenticated("account gone");
  if (current.size() > kMaxPasswordBytes || !CheckPassword((*user)->password_hash, current)) {
    return PermissionDenied("the current password is wrong");
  }
  CUSTODIAN_RETURN_IF_ERROR(CheckNewPassword(replacement));
  if (replacement == current) return InvalidArgument("the new password must differ");
  auto hash = HashPassword(replacement, policy_.password_cost);
  if (!hash.ok()) return hash.status();
  CUSTODIAN_RETURN_IF_ERROR(db_.WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(db_.SetPasswordHash(principal.user_id, *hash, false));
    return db_.DeleteUserSessions(principal.user_id);
  }));
  return StartSession(principal.user_id, client);
}

}  // namespace custodian::api
