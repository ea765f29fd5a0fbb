#include <functional>

#include "records/test_util.h"

using namespace custodian;
using namespace custodian::records;
using namespace custodian::records::testing;

namespace {

AccessEntry Viewing(int64_t user_id, const std::string& camera, const std::string& purpose) {
  AccessEntry e;
  e.user_id = user_id;
  e.user_name = "manager-1";
  e.action = "play";
  e.camera_id = camera;
  e.from = kT0 - 10 * kMinute;
  e.to = kT0 - 5 * kMinute;
  e.purpose_category = "incident";
  e.purpose_text = purpose;
  e.client = "10.0.0.5";
  return e;
}

// A log of five entries, one minute apart.
void AppendFive(TestDb& t) {
  for (int i = 1; i <= 5; ++i) {
    auto id = t.db->AppendAccess(Viewing(t.manager_id, "door-1", "incident " + std::to_string(i)));
    REQUIRE(id.ok());
    REQUIRE(*id == i);
    t.clock.Advance(kMinute);
  }
}

AuditVerification Verify(Database& db, std::optional<AccessLogAnchor> anchor = std::nullopt) {
  auto v = db.VerifyAccessLog(anchor);
  REQUIRE(v.ok());
  return *v;
}

}  // namespace

TEST_CASE("access entries append to a hash chain that verifies") {
  TestDb t;
  REQUIRE(Verify(*t.db).ok);
  REQUIRE(Verify(*t.db).entries_checked == 0);
  AppendFive(t);
  AuditVerification v = Verify(*t.db);
  REQUIRE(v.ok);
  REQUIRE(v.entries_checked == 5);
  REQUIRE_FALSE(v.first_bad_id.has_value());

  auto entries = t.db->QueryAccess({.newest_first = false});
  REQUIRE(entries->size() == 5);
  REQUIRE((*entries)[0].prev_hash == kGenesisHash);
  REQUIRE((*entries)[1].prev_hash == (*entries)[0].hash);
  REQUIRE((*entries)[1].at == kT0 + kMinute);
  REQUIRE((*entries)[4].hash == ComputeAccessHash((*entries)[3].hash, (*entries)[4]));
  REQUIRE(t.db->AccessLogHead()->value().id == 5);
}

TEST_CASE("an entry altered with the sqlite3 tool after dropping its trigger is named") {
  TestDb t;
  AppendFive(t);
  REQUIRE(RunSqliteCli(t.path,
                       "PRAGMA foreign_keys=OFF; DROP TRIGGER access_log_no_update; "
                       "UPDATE access_log SET purpose_text='x' WHERE id=2") == 0);
  AuditVerification v = Verify(*t.db);
  REQUIRE_FALSE(v.ok);
  REQUIRE(v.first_bad_id == 2);
  REQUIRE(v.entries_checked == 1);
  REQUIRE(v.reason.find("entry 2 was altered") != std::string::npos);
}

TEST_CASE("an entry whose hash was recomputed after altering it breaks the next link") {
  TestDb t;
  AppendFive(t);
  auto entries = *t.db->QueryAccess({.newest_first = false});
  AccessEntry forged = entries[1];
  forged.purpose_text = "routine check";
  const std::string hash = ComputeAccessHash(forged.prev_hash, forged);
  REQUIRE(RunSqliteCli(t.path,
                       "DROP TRIGGER access_log_no_update; UPDATE access_log SET "
                       "purpose_text='routine check', hash='" +
                           hash + "' WHERE id=2") == 0);
  AuditVerification v = Verify(*t.db);
  REQUIRE(v.first_bad_id == 3);
  REQUIRE(v.reason.find("does not link to entry 2") != std::string::npos);
}

TEST_CASE("a deleted entry is detected at the entry that followed it") {
  TestDb t;
  AppendFive(t);
  REQUIRE(RunSqliteCli(t.path,
                       "DROP TRIGGER access_log_no_delete; "
                       "DELETE FROM access_log WHERE id=3") == 0);
  AuditVerification v = Verify(*t.db);
  REQUIRE_FALSE(v.ok);
  REQUIRE(v.first_bad_id == 4);
  REQUIRE(v.reason.find("entries 3 to 3 are missing") != std::string::npos);
}

TEST_CASE("a deleted first entry is detected") {
  TestDb t;
  AppendFive(t);
  REQUIRE(RunSqliteCli(t.path,
                       "DROP TRIGGER access_log_no_delete; "
                       "DELETE FROM access_log WHERE id=1") == 0);
  AuditVerification v = Verify(*t.db);
  REQUIRE(v.first_bad_id == 2);
  REQUIRE(v.reason.find("starts at entry 2") != std::string::npos);
}

TEST_CASE("an inserted entry is detected whether it is slipped in between or appended") {
  TestDb t;
  AppendFive(t);
  auto entries = *t.db->QueryAccess({.newest_first = false});
  SECTION("between two entries, renumbering the rest") {
    REQUIRE(
        RunSqliteCli(t.path,
                     "DROP TRIGGER access_log_no_update; "
                     "UPDATE access_log SET id = id + 100 WHERE id >= 3; "
                     "UPDATE access_log SET id = id - 99 WHERE id >= 103; "
                     "INSERT INTO access_log SELECT 3, at_us, user_id, 'someone-else', action, "
                     "camera_id, from_us, to_us, purpose_category, 'cover story', client, result, "
                     "detail, '" +
                         entries[1].hash + "', '" + std::string(64, 'c') +
                         "' FROM access_log WHERE id = 2") == 0);
    AuditVerification v = Verify(*t.db);
    REQUIRE(v.first_bad_id == 3);
  }
  SECTION("after the last entry, with a forged hash") {
    REQUIRE(RunSqliteCli(t.path,
                         "INSERT INTO access_log SELECT 6, at_us, user_id, user_name, action, "
                         "camera_id, from_us, to_us, purpose_category, purpose_text, client, "
                         "result, detail, hash, '" +
                             std::string(64, 'd') + "' FROM access_log WHERE id = 5") == 0);
    AuditVerification v = Verify(*t.db);
    REQUIRE(v.first_bad_id == 6);
    REQUIRE(v.entries_checked == 5);
  }
  SECTION("after a gap in the ids") {
    REQUIRE(RunSqliteCli(t.path,
                         "INSERT INTO access_log SELECT 9, at_us, user_id, user_name, action, "
                         "camera_id, from_us, to_us, purpose_category, purpose_text, client, "
                         "result, detail, hash, '" +
                             std::string(64, 'e') + "' FROM access_log WHERE id = 5") == 0);
    REQUIRE(Verify(*t.db).first_bad_id == 9);
  }
}

TEST_CASE("the access log refuses UPDATE and DELETE while its triggers stand") {
  TestDb t;
  AppendFive(t);
  REQUIRE(RawExec(t.path, "UPDATE access_log SET purpose_text = 'x' WHERE id = 2") ==
          SQLITE_CONSTRAINT);
  REQUIRE(RawExec(t.path, "DELETE FROM access_log WHERE id = 5") == SQLITE_CONSTRAINT);
  REQUIRE(RunSqliteCli(t.path, "UPDATE access_log SET purpose_text='x' WHERE id=2") != 0);
  REQUIRE(Verify(*t.db).ok);
}

TEST_CASE("an anchor taken earlier detects entries cut from the end") {
  TestDb t;
  AppendFive(t);
  auto head = t.db->AccessLogHead();
  REQUIRE(head.ok());
  REQUIRE(Verify(*t.db, **head).ok);
  REQUIRE(RunSqliteCli(t.path,
                       "DROP TRIGGER access_log_no_delete; "
                       "DELETE FROM access_log WHERE id >= 4") == 0);
  REQUIRE(Verify(*t.db).ok);  // the chain alone cannot tell
  AuditVerification v = Verify(*t.db, **head);
  REQUIRE_FALSE(v.ok);
  REQUIRE(v.first_bad_id == 5);
  REQUIRE(v.reason.find("removed from the end") != std::string::npos);
}

TEST_CASE("access queries filter by user, camera, action and time") {
  TestDb t;
  Database& db = *t.db;
  AppendFive(t);
  AccessEntry login;
  login.user_name = "intruder";
  login.action = "login_failed";
  login.client = "203.0.113.9";
  login.result = AccessResult::kDenied;
  REQUIRE(db.AppendAccess(login).ok());

  REQUIRE(db.QueryAccess({.user_id = t.manager_id})->size() == 5);
  REQUIRE(db.QueryAccess({.camera_id = "door-1"})->size() == 5);
  auto failed = db.QueryAccess({.action = "login_failed"});
  REQUIRE(failed->size() == 1);
  REQUIRE(failed->front().result == AccessResult::kDenied);
  REQUIRE_FALSE(failed->front().user_id.has_value());
  auto window = db.QueryAccess({.from = kT0 + kMinute, .to = kT0 + 3 * kMinute});
  REQUIRE(window->size() == 2);
  REQUIRE(window->front().id == 3);  // newest first
  REQUIRE(db.QueryAccess({.limit = 2})->size() == 2);
  REQUIRE(Verify(db).entries_checked == 6);
}

TEST_CASE("the canonical encoding keeps apart entries that plain concatenation would confuse") {
  AccessEntry a;
  a.user_name = "ab";
  a.action = "c";
  AccessEntry b = a;
  b.user_name = "a";
  b.action = "bc";
  REQUIRE(CanonicalAccessBytes(a) != CanonicalAccessBytes(b));
  AccessEntry no_camera = a;
  AccessEntry empty_camera = a;
  empty_camera.camera_id = "";
  REQUIRE(CanonicalAccessBytes(no_camera) != CanonicalAccessBytes(empty_camera));
  AccessEntry with_newline = a;
  with_newline.user_name = "ab\naction=s1:c";
  REQUIRE(CanonicalAccessBytes(with_newline) != CanonicalAccessBytes(a));
  REQUIRE(ComputeAccessHash(kGenesisHash, a).size() == 64);
}

TEST_CASE("a viewing's start and end entries open and close it, once, in the chain") {
  TestDb t;
  AccessEntry start = Viewing(t.manager_id, "door-1", "looking at the door");
  auto started = t.db->AppendViewingStart(start);
  REQUIRE(started.ok());
  auto open = t.db->ListOpenViewings();
  REQUIRE(open.ok());
  REQUIRE(open->size() == 1);
  CHECK(open->front().id == *started);
  CHECK(open->front().purpose_text == "looking at the door");

  AccessEntry end = start;
  end.action = "play_end";
  end.detail = "ended: idle";
  REQUIRE(t.db->AppendViewingEnd(end, *started).ok());
  open = t.db->ListOpenViewings();
  REQUIRE(open.ok());
  CHECK(open->empty());
  // A second end of the same viewing is refused and writes nothing.
  auto again = t.db->AppendViewingEnd(end, *started);
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().kind() == ErrorKind::kFailedPrecondition);
  AccessFilter all;
  all.limit = 100;
  auto entries = t.db->QueryAccess(all);
  REQUIRE(entries.ok());
  CHECK(entries->size() == 2);
  CHECK(Verify(*t.db).ok);
}

TEST_CASE("access queries filter by purpose, several actions and the footage's own time") {
  TestDb t;
  AccessEntry a = Viewing(t.manager_id, "door-1", "one");
  a.from = kT0 - 10 * kMinute;
  a.to = kT0 - 5 * kMinute;
  AccessEntry b = Viewing(t.manager_id, "door-1", "two");
  b.action = "live_view";
  b.purpose_category = "safeguarding";
  b.from = kT0 - 2 * kMinute;
  b.to = std::nullopt;  // live: open-ended
  AccessEntry c = Viewing(t.manager_id, "door-1", "three");
  c.action = "login";
  c.from = c.to = std::nullopt;
  for (const AccessEntry& e : {a, b, c}) REQUIRE(t.db->AppendAccess(e).ok());
  auto count = [&](const std::function<void(AccessFilter&)>& set) {
    AccessFilter f;
    set(f);
    auto rows = t.db->QueryAccess(f);
    REQUIRE(rows.ok());
    return rows->size();
  };
  CHECK(count([](AccessFilter& f) { f.purpose_category = "safeguarding"; }) == 1);
  CHECK(count([](AccessFilter& f) { f.any_action = {"play", "live_view"}; }) == 2);
  CHECK(count([](AccessFilter& f) {
          f.action = "login";
          f.any_action = {"play"};
        }) == 2);
  // Footage overlapping [kT0 - 6 min, kT0 - 1 min): a (ends at -5) and b (live from -2).
  CHECK(count([](AccessFilter& f) {
          f.footage_from = kT0 - 6 * kMinute;
          f.footage_to = kT0 - kMinute;
        }) == 2);
  // [kT0 - 4 min, kT0 - 3 min): neither a (ended) nor b (not begun); c has no footage.
  CHECK(count([](AccessFilter& f) {
          f.footage_from = kT0 - 4 * kMinute;
          f.footage_to = kT0 - 3 * kMinute;
        }) == 0);
  CHECK(count([](AccessFilter& f) { f.footage_from = kT0 + kMinute; }) == 1);  // live goes on
}
