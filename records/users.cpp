// Users, camera permissions and login sessions.
#include <string>

#include "records/database.h"
#include "records/enum_names.h"
#include "records/sqlite.h"

namespace custodian::records {

namespace {

const std::string kUserColumns =
    "id, name, role, password_hash, disabled, must_change_password, failed_logins, "
    "locked_until_us, created_us";

UserRow ReadUser(const Statement& st) {
  UserRow u;
  u.id = st.ColInt(0);
  u.name = st.ColText(1);
  u.role = st.ColEnum<Role>(2, ParseRole);
  u.password_hash = st.ColText(3);
  u.disabled = st.ColBool(4);
  u.must_change_password = st.ColBool(5);
  u.failed_logins = static_cast<int>(st.ColInt(6));
  u.locked_until = st.ColOptTime(7);
  u.created = st.ColTime(8);
  return u;
}

SessionRow ReadSession(const Statement& st) {
  SessionRow s;
  s.token_hash = st.ColText(0);
  s.user_id = st.ColInt(1);
  s.created = st.ColTime(2);
  s.last_seen = st.ColTime(3);
  s.csrf_token = st.ColText(4);
  s.client = st.ColText(5);
  return s;
}

template <typename Row>
Result<std::optional<Row>> FirstRow(Result<std::vector<Row>> rows) {
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows->front()));
}

Status ChangedOne(const Statement& st, const std::string& what) {
  if (st.Changes() == 0) return NotFound("records: no " + what);
  return Status::Ok();
}

constexpr const char* kGrantStates[] = {"pending", "confirmed", "refused", "superseded"};

const std::string kGrantColumns =
    "id, user_id, role, requested_by, requested_us, state, decided_by, decided_us";

RoleGrantRow ReadGrant(const Statement& st) {
  RoleGrantRow g;
  g.id = st.ColInt(0);
  g.user_id = st.ColInt(1);
  g.role = st.ColEnum<Role>(2, ParseRole);
  g.requested_by = st.ColInt(3);
  g.requested = st.ColTime(4);
  g.state = st.ColEnum<GrantState>(5, ParseGrantState);
  g.decided_by = st.ColOptInt(6);
  g.decided = st.ColOptTime(7);
  return g;
}

}  // namespace

const char* Name(GrantState v) { return kGrantStates[static_cast<int>(v)]; }
std::optional<GrantState> ParseGrantState(std::string_view s) {
  return internal::ParseName<GrantState>(kGrantStates, s);
}

Result<int64_t> Database::RequestRoleGrant(int64_t user_id, Role role, int64_t requested_by) {
  if (role == Role::kStaff) return InvalidArgument("records: the staff role needs no grant");
  Lock lock(mu_);
  int64_t id = 0;
  CUSTODIAN_RETURN_IF_ERROR(WithTransaction([&]() REQUIRES(mu_) -> Status {
    const UtcMicros now = Now();
    RECORDS_ASSIGN_OR_RETURN(
        Statement old, Prepare("UPDATE role_grants SET state = 'superseded', decided_us = ? "
                               "WHERE user_id = ? AND state = 'pending'"));
    CUSTODIAN_RETURN_IF_ERROR(old.Time(now).Int(user_id).Run());
    RECORDS_ASSIGN_OR_RETURN(
        Statement st, Prepare("INSERT INTO role_grants (user_id, role, requested_by, "
                              "requested_us, state) VALUES (?, ?, ?, ?, 'pending')"));
    CUSTODIAN_RETURN_IF_ERROR(st.Int(user_id).Text(Name(role)).Int(requested_by).Time(now).Run());
    id = static_cast<int64_t>(sqlite3_last_insert_rowid(conn_->db.get()));
    return Status::Ok();
  }));
  return id;
}

Status Database::SupersedeRoleGrants(int64_t user_id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st, Prepare("UPDATE role_grants SET state = 'superseded', decided_us = ? "
                            "WHERE user_id = ? AND state = 'pending'"));
  return st.Time(Now()).Int(user_id).Run();
}

Result<std::optional<RoleGrantRow>> Database::GetRoleGrant(int64_t id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT " + kGrantColumns + " FROM role_grants WHERE id = ?"));
  st.Int(id);
  return FirstRow(CollectRows<RoleGrantRow>(st, ReadGrant));
}

Result<std::vector<RoleGrantRow>> Database::ListRoleGrants(int64_t limit) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st, Prepare("SELECT " + kGrantColumns + " FROM role_grants "
                            "ORDER BY state = 'pending' DESC, id DESC LIMIT ?"));
  st.Int(limit);
  return CollectRows<RoleGrantRow>(st, ReadGrant);
}

Status Database::DecideRoleGrant(int64_t id, int64_t decided_by, bool confirm) {
  Lock lock(mu_);
  return WithTransaction([&]() REQUIRES(mu_) -> Status {
    RECORDS_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("UPDATE role_grants SET state = ?, decided_by = ?, decided_us = ? "
                "WHERE id = ? AND state = 'pending' RETURNING user_id, role"));
    st.Text(confirm ? "confirmed" : "refused").Int(decided_by).Time(Now()).Int(id);
    RECORDS_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row)
      return FailedPrecondition("records: role grant " + std::to_string(id) + " is not pending");
    const int64_t user_id = st.ColInt(0);
    const std::string role = st.ColText(1);
    CUSTODIAN_RETURN_IF_ERROR(st.Run());
    if (!confirm) return Status::Ok();
    RECORDS_ASSIGN_OR_RETURN(Statement set, Prepare("UPDATE users SET role = ? WHERE id = ?"));
    CUSTODIAN_RETURN_IF_ERROR(set.Text(role).Int(user_id).Run());
    return ChangedOne(set, "user " + std::to_string(user_id));
  });
}

Result<int64_t> Database::CreateUser(const NewUser& user) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("INSERT INTO users (name, role, password_hash, "
                                   "must_change_password, created_us) VALUES (?, ?, ?, ?, ?)"));
  CUSTODIAN_RETURN_IF_ERROR(st.Text(user.name)
                                .Text(Name(user.role))
                                .Text(user.password_hash)
                                .Bool(user.must_change_password)
                                .Time(Now())
                                .Run());
  return static_cast<int64_t>(sqlite3_last_insert_rowid(conn_->db.get()));
}

Result<std::optional<UserRow>> Database::GetUserById(int64_t id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT " + kUserColumns + " FROM users WHERE id = ?"));
  st.Int(id);
  return FirstRow(CollectRows<UserRow>(st, ReadUser));
}

Result<std::optional<UserRow>> Database::GetUserByName(const std::string& name) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT " + kUserColumns + " FROM users WHERE name = ?"));
  st.Text(name);
  return FirstRow(CollectRows<UserRow>(st, ReadUser));
}

Result<std::vector<UserRow>> Database::ListUsers() {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT " + kUserColumns + " FROM users ORDER BY name"));
  return CollectRows<UserRow>(st, ReadUser);
}

Status Database::SetUserDisabled(int64_t id, bool disabled) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare("UPDATE users SET disabled = ? WHERE id = ?"));
  CUSTODIAN_RETURN_IF_ERROR(st.Bool(disabled).Int(id).Run());
  return ChangedOne(st, "user " + std::to_string(id));
}

Status Database::SetUserRole(int64_t id, Role role) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare("UPDATE users SET role = ? WHERE id = ?"));
  CUSTODIAN_RETURN_IF_ERROR(st.Text(Name(role)).Int(id).Run());
  return ChangedOne(st, "user " + std::to_string(id));
}

Status Database::SetPasswordHash(int64_t id, const std::string& password_hash,
                                 bool must_change_password) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st,
      Prepare("UPDATE users SET password_hash = ?, must_change_password = ? WHERE id = ?"));
  CUSTODIAN_RETURN_IF_ERROR(st.Text(password_hash).Bool(must_change_password).Int(id).Run());
  return ChangedOne(st, "user " + std::to_string(id));
}

Result<int> Database::RecordFailedLogin(int64_t id, int lock_after, int64_t lock_for_us) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st, Prepare("UPDATE users SET failed_logins = failed_logins + 1, "
                            "locked_until_us = CASE WHEN failed_logins + 1 >= ? THEN ? "
                            "ELSE locked_until_us END WHERE id = ? RETURNING failed_logins"));
  st.Int(lock_after).Int(Now().us + lock_for_us).Int(id);
  RECORDS_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return NotFound("records: no user " + std::to_string(id));
  int count = static_cast<int>(st.ColInt(0));
  CUSTODIAN_RETURN_IF_ERROR(st.Run());
  return count;
}

Result<std::optional<int>> Database::ClaimLoginAttempt(int64_t id, int lock_after,
                                                        int64_t lock_for_us) {
  Lock lock(mu_);
  const int64_t now = Now().us;
  RECORDS_ASSIGN_OR_RETURN(
      Statement st,
      Prepare("UPDATE users SET failed_logins = failed_logins + 1, "
              "locked_until_us = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until_us END "
              "WHERE id = ? AND (locked_until_us IS NULL OR locked_until_us <= ?) "
              "RETURNING failed_logins"));
  st.Int(lock_after).Int(now + lock_for_us).Int(id).Int(now);
  RECORDS_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) {
    RECORDS_ASSIGN_OR_RETURN(Statement exists, Prepare("SELECT 1 FROM users WHERE id = ?"));
    RECORDS_ASSIGN_OR_RETURN(bool found, exists.Int(id).Step());
    if (!found) return NotFound("records: no user " + std::to_string(id));
    return std::optional<int>();
  }
  int count = static_cast<int>(st.ColInt(0));
  CUSTODIAN_RETURN_IF_ERROR(st.Run());
  return std::optional<int>(count);
}

Status Database::ResetFailedLogins(int64_t id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st,
      Prepare("UPDATE users SET failed_logins = 0, locked_until_us = NULL WHERE id = ?"));
  CUSTODIAN_RETURN_IF_ERROR(st.Int(id).Run());
  return ChangedOne(st, "user " + std::to_string(id));
}

Status Database::GrantCamera(int64_t user_id, const std::string& camera_id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("INSERT OR IGNORE INTO camera_permissions "
                                   "(user_id, camera_id, granted_us) VALUES (?, ?, ?)"));
  return st.Int(user_id).Text(camera_id).Time(Now()).Run();
}

Status Database::RevokeCamera(int64_t user_id, const std::string& camera_id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st, Prepare("DELETE FROM camera_permissions WHERE user_id = ? AND camera_id = ?"));
  return st.Int(user_id).Text(camera_id).Run();
}

Result<std::vector<std::string>> Database::ListCameraPermissions(int64_t user_id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT camera_id FROM camera_permissions WHERE user_id = ? "
                                   "ORDER BY camera_id"));
  st.Int(user_id);
  return CollectRows<std::string>(st, [](const Statement& s) { return s.ColText(0); });
}

Status Database::CreateSession(const SessionRow& s) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("INSERT INTO sessions (token_hash, user_id, created_us, "
                                   "last_seen_us, csrf_token, client) VALUES (?, ?, ?, ?, ?, ?)"));
  const UtcMicros now = Now();
  return st.Text(s.token_hash)
      .Int(s.user_id)
      .Time(now)
      .Time(now)
      .Text(s.csrf_token)
      .Text(s.client)
      .Run();
}

Result<std::optional<SessionRow>> Database::GetSession(const std::string& token_hash) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT token_hash, user_id, created_us, last_seen_us, "
                                   "csrf_token, client FROM sessions WHERE token_hash = ?"));
  st.Text(token_hash);
  return FirstRow(CollectRows<SessionRow>(st, ReadSession));
}

Status Database::TouchSession(const std::string& token_hash) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("UPDATE sessions SET last_seen_us = ? WHERE token_hash = ?"));
  CUSTODIAN_RETURN_IF_ERROR(st.Time(Now()).Text(token_hash).Run());
  return ChangedOne(st, "session");
}

Status Database::DeleteSession(const std::string& token_hash) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare("DELETE FROM sessions WHERE token_hash = ?"));
  return st.Text(token_hash).Run();
}

Status Database::DeleteUserSessions(int64_t user_id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare("DELETE FROM sessions WHERE user_id = ?"));
  return st.Int(user_id).Run();
}

Result<int64_t> Database::DeleteExpiredSessions(int64_t idle_timeout_us, int64_t max_age_us) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st, Prepare("DELETE FROM sessions WHERE last_seen_us <= ? OR created_us <= ?"));
  const UtcMicros now = Now();
  CUSTODIAN_RETURN_IF_ERROR(st.Int(now.us - idle_timeout_us).Int(now.us - max_age_us).Run());
  return st.Changes();
}

}  // namespace custodian::records
