#include "records/test_util.h"

using namespace custodian;
using namespace custodian::records;
using namespace custodian::records::testing;

TEST_CASE("users are created with a role and found by name regardless of case") {
  TestDb t;
  Database& db = *t.db;
  auto id = db.CreateUser({"Alice", Role::kStaff, "argon2id$abc", true});
  REQUIRE(id.ok());
  auto alice = db.GetUserByName("alice");
  REQUIRE(alice.ok());
  REQUIRE(alice->has_value());
  REQUIRE((*alice)->id == *id);
  REQUIRE((*alice)->role == Role::kStaff);
  REQUIRE((*alice)->must_change_password);
  REQUIRE((*alice)->created == kT0);
  REQUIRE(db.CreateUser({"ALICE", Role::kDpo, "h", true}).status().kind() ==
          ErrorKind::kAlreadyExists);
  REQUIRE_FALSE(db.GetUserById(999)->has_value());

  REQUIRE(db.SetUserRole(*id, Role::kDpo).ok());
  REQUIRE(db.SetUserDisabled(*id, true).ok());
  REQUIRE(db.SetPasswordHash(*id, "argon2id$new", false).ok());
  auto changed = *db.GetUserById(*id);
  REQUIRE(changed->role == Role::kDpo);
  REQUIRE(changed->disabled);
  REQUIRE(changed->password_hash == "argon2id$new");
  REQUIRE_FALSE(changed->must_change_password);
  REQUIRE(db.SetUserDisabled(999, true).kind() == ErrorKind::kNotFound);
  REQUIRE(db.ListUsers()->size() == 2);
}

TEST_CASE("failed logins lock an account at the threshold and a success clears them") {
  TestDb t;
  Database& db = *t.db;
  const int64_t id = t.manager_id;
  REQUIRE(*db.RecordFailedLogin(id, 3, 15 * kMinute) == 1);
  REQUIRE(*db.RecordFailedLogin(id, 3, 15 * kMinute) == 2);
  REQUIRE_FALSE((*db.GetUserById(id))->locked_until.has_value());
  REQUIRE(*db.RecordFailedLogin(id, 3, 15 * kMinute) == 3);
  REQUIRE((*db.GetUserById(id))->locked_until == kT0 + 15 * kMinute);
  REQUIRE(db.ResetFailedLogins(id).ok());
  auto user = *db.GetUserById(id);
  REQUIRE(user->failed_logins == 0);
  REQUIRE_FALSE(user->locked_until.has_value());
  REQUIRE(db.RecordFailedLogin(999, 3, 1).status().kind() == ErrorKind::kNotFound);
}

TEST_CASE("camera permissions are granted once, listed and revoked") {
  TestDb t;
  Database& db = *t.db;
  REQUIRE(db.UpsertCamera({"yard", "Yard", {}}).ok());
  REQUIRE(db.GrantCamera(t.manager_id, "yard").ok());
  REQUIRE(db.GrantCamera(t.manager_id, "yard").ok());
  REQUIRE(db.GrantCamera(t.manager_id, "door-1").ok());
  REQUIRE(*db.ListCameraPermissions(t.manager_id) == std::vector<std::string>{"door-1", "yard"});
  REQUIRE(db.RevokeCamera(t.manager_id, "yard").ok());
  REQUIRE(*db.ListCameraPermissions(t.manager_id) == std::vector<std::string>{"door-1"});
  REQUIRE(db.GrantCamera(t.manager_id, "ghost").kind() == ErrorKind::kFailedPrecondition);
}

TEST_CASE("sessions are created, touched, and expire when idle or too old") {
  TestDb t;
  Database& db = *t.db;
  const std::string a(64, 'a'), b(64, 'b');
  REQUIRE(db.CreateSession({a, t.manager_id, {}, {}, "csrf-0123456789abcdef", "10.0.0.5"}).ok());
  REQUIRE(db.CreateSession({a, t.manager_id, {}, {}, "csrf-0123456789abcdef", "x"}).kind() ==
          ErrorKind::kAlreadyExists);
  t.clock.Advance(10 * kMinute);
  REQUIRE(db.CreateSession({b, t.manager_id, {}, {}, "csrf-fedcba9876543210", "10.0.0.6"}).ok());
  auto got = db.GetSession(a);
  REQUIRE(got->has_value());
  REQUIRE((*got)->client == "10.0.0.5");
  REQUIRE((*got)->last_seen == kT0);

  t.clock.Advance(10 * kMinute);
  REQUIRE(db.TouchSession(b).ok());
  REQUIRE(*db.DeleteExpiredSessions(15 * kMinute, kMicrosPerDay) == 1);  // a was idle
  REQUIRE_FALSE(db.GetSession(a)->has_value());
  REQUIRE(db.TouchSession(a).kind() == ErrorKind::kNotFound);

  t.clock.Advance(kMicrosPerDay);
  REQUIRE(db.TouchSession(b).ok());
  REQUIRE(*db.DeleteExpiredSessions(15 * kMinute, kMicrosPerDay) == 1);  // b was too old

  REQUIRE(db.CreateSession({a, t.manager_id, {}, {}, "csrf-0123456789abcdef", ""}).ok());
  REQUIRE(db.DeleteUserSessions(t.manager_id).ok());
  REQUIRE_FALSE(db.GetSession(a)->has_value());
}

TEST_CASE("a login attempt is counted and the account locked in one step, before the password check") {
  TestDb t;
  Database& db = *t.db;
  const int64_t id = t.manager_id;
  REQUIRE(**db.ClaimLoginAttempt(id, 3, 15 * kMinute) == 1);
  REQUIRE(**db.ClaimLoginAttempt(id, 3, 15 * kMinute) == 2);
  REQUIRE_FALSE((*db.GetUserById(id))->locked_until.has_value());
  REQUIRE(**db.ClaimLoginAttempt(id, 3, 15 * kMinute) == 3);  // the third attempt locks
  REQUIRE((*db.GetUserById(id))->locked_until == kT0 + 15 * kMinute);
  auto locked = db.ClaimLoginAttempt(id, 3, 15 * kMinute);
  REQUIRE(locked.ok());
  CHECK_FALSE(locked->has_value());  // locked: nothing counted, no check allowed
  CHECK((*db.GetUserById(id))->failed_logins == 3);
  REQUIRE(db.ClaimLoginAttempt(999, 3, 1).status().kind() == ErrorKind::kNotFound);
}

TEST_CASE("a role grant changes the role only when a second person confirms it") {
  TestDb t;
  Database& db = *t.db;
  const int64_t admin = *db.CreateUser({"ada", Role::kAdmin, "h", false});
  const int64_t other = *db.CreateUser({"otto", Role::kAdmin, "h", false});
  const int64_t pat = *db.CreateUser({"pat", Role::kStaff, "h", true});
  REQUIRE(db.RequestRoleGrant(pat, Role::kStaff, admin).status().kind() ==
          ErrorKind::kInvalidArgument);
  auto first = db.RequestRoleGrant(pat, Role::kDpo, admin);
  REQUIRE(first.ok());
  auto grant = db.RequestRoleGrant(pat, Role::kManager, admin);
  REQUIRE(grant.ok());
  // The newer grant supersedes the older; neither changed the role.
  CHECK((*db.GetRoleGrant(*first))->state == GrantState::kSuperseded);
  CHECK((*db.GetUserById(pat))->role == Role::kStaff);
  // The schema itself refuses the requester and the account concerned as deciders.
  CHECK_FALSE(db.DecideRoleGrant(*grant, admin, true).ok());
  CHECK_FALSE(db.DecideRoleGrant(*grant, pat, true).ok());
  CHECK((*db.GetUserById(pat))->role == Role::kStaff);
  REQUIRE(db.DecideRoleGrant(*grant, other, true).ok());
  CHECK((*db.GetUserById(pat))->role == Role::kManager);
  auto row = *db.GetRoleGrant(*grant);
  CHECK(row->state == GrantState::kConfirmed);
  CHECK(row->decided_by == other);
  // A decided grant cannot be decided again.
  CHECK(db.DecideRoleGrant(*grant, other, false).kind() == ErrorKind::kFailedPrecondition);
  // A refused grant changes nothing.
  auto dpo = db.RequestRoleGrant(pat, Role::kDpo, admin);
  REQUIRE(db.DecideRoleGrant(*dpo, other, false).ok());
  CHECK((*db.GetUserById(pat))->role == Role::kManager);
  // Setting a role directly supersedes a pending grant.
  auto again = db.RequestRoleGrant(pat, Role::kAdmin, admin);
  REQUIRE(db.SupersedeRoleGrants(pat).ok());
  CHECK((*db.GetRoleGrant(*again))->state == GrantState::kSuperseded);
  auto list = db.ListRoleGrants(10);
  REQUIRE(list.ok());
  CHECK(list->size() == 4);
}
