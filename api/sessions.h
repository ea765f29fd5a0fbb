// SessionService: sign-in, session lookup, sign-out and password change, over the users
// and sessions in the records.
//
// A session is a random 256-bit token held by the browser in the session cookie; the
// records keep only its SHA-256, so a copy of records.db does not let anyone sign in.
// A session ends when idle for policy.idle_timeout_us, when older than
// policy.absolute_timeout_us, on sign-out, when its account is disabled, and (all of the
// account's sessions) when the password changes.
//
// Failed sign-ins are counted per account; policy.lock_after_failures in a row lock the
// account for policy.lock_duration_us. The attempt is counted (and the lock set) in one
// statement before the password is checked, so parallel guesses cannot exceed the limit
// (records::Database::ClaimLoginAttempt); a success clears the count. A wrong password,
// an unknown name, a disabled or a locked account all fail alike to the caller (the reason
// goes to the access log only), and each costs exactly one Argon2id verification (of a
// dummy hash when there is no real one to check), so that timing does not tell them
// apart either. The API also delays every failure (HttpResponse::delay_ms).
//
// Thread-safe. Password checks are bounded by policy.max_concurrent_password_checks,
// because each takes tens of MiB.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <semaphore>
#include <string>

#include "api/passwords.h"
#include "base/clock.h"
#include "records/database.h"

namespace custodian::api {

struct SessionPolicy {
  int64_t idle_timeout_us = 15 * 60 * kMicrosPerSecond;
  int64_t absolute_timeout_us = 12 * 3600 * kMicrosPerSecond;
  int lock_after_failures = 5;
  int64_t lock_duration_us = 15 * 60 * kMicrosPerSecond;
  // last_seen is written at most this often per session, so that a busy session does not
  // cost a database write per request; idle expiry is accurate to this much.
  int64_t touch_interval_us = 30 * kMicrosPerSecond;
  int failed_login_delay_ms = 1000;
  PasswordCost password_cost = PasswordCost::kInteractive;
  int max_concurrent_password_checks = 2;
  // Tests only: called on the thread of every password check, before it.
  std::function<void()> password_check_hook;
};

// How many Argon2id verifications Login has run (for tests: every failure costs one).
struct PasswordCheckCounts {
  int64_t real = 0;   // against an account's own hash
  int64_t dummy = 0;  // against the dummy hash (unknown, disabled or locked account)
};

// The signed-in user behind a request.
struct Principal {
  int64_t user_id = 0;
  std::string name;
  records::Role role = records::Role::kStaff;
  bool must_change_password = false;
  std::string token_hash;
  std::string csrf_token;
};

struct NewSession {
  std::string token;  // for the cookie; never stored
  std::string csrf_token;
};

struct LoginOutcome {
  std::optional<records::UserRow> user;  // the account named, when it exists
  std::optional<NewSession> session;     // set on success
  std::string failure;                   // on failure, why: for the access log only
};

class SessionService {
 public:
  SessionService(records::Database& db, const Clock& clock, SessionPolicy policy);

  const SessionPolicy& policy() const { return policy_; }
  PasswordCheckCounts password_check_counts() const {
    return {real_checks_.load(), dummy_checks_.load()};
  }

  // A non-ok Result only when the records fail; a refused sign-in is an ok outcome
  // without a session.
  Result<LoginOutcome> Login(const std::string& name, const std::string& password,
                             const std::string& client);
  // The principal for a session token, or kUnauthenticated saying why not.
  Result<Principal> Authenticate(const std::string& token);
  Status Logout(const Principal& principal);
  // Checks the current password (kPermissionDenied if wrong), sets the new one, ends every
  // session of the account and returns a new one for the caller.
  Result<NewSession> ChangePassword(const Principal& principal, const std::string& current,
                                    const std::string& replacement, const std::string& client);

 private:
  bool CheckPassword(const std::string& stored_hash, const std::string& password);
  // The same work as a real check, for a failure that has no hash to check.
  void DummyCheck(const std::string& password);
  Result<NewSession> StartSession(int64_t user_id, const std::string& client);
  Result<LoginOutcome> Refuse(LoginOutcome outcome, std::string why);

  records::Database& db_;
  const Clock& clock_;
  const SessionPolicy policy_;
  std::counting_semaphore<64> password_checks_;
  std::string dummy_hash_;  // verified when there is no real check; set in the constructor
  std::atomic<int64_t> real_checks_{0};
  std::atomic<int64_t> dummy_checks_{0};
};

// Whether a string is a well-formed session token (64 lowercase hex digits).
bool IsWellFormedToken(const std::string& token);

}  // namespace custodian::api
