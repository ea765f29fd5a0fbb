#include <fstream>

#include "records/migrations.h"
#include "records/sqlite.h"
#include "records/test_util.h"

using namespace custodian;
using namespace custodian::records;
using namespace custodian::records::testing;

namespace {

// Runs a single-value query on a separate connection.
std::string RawQuery(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  std::string out;
  if (sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(st, 0);
    out = t ? reinterpret_cast<const char*>(t) : "";
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

}  // namespace

TEST_CASE("migrations are numbered from 1 without gaps") {
  int expected = 1;
  for (const Migration& m : Migrations()) {
    REQUIRE(m.version == expected++);
    REQUIRE(m.sql != nullptr);
  }
  REQUIRE(LatestSchemaVersion() == expected - 1);
}

TEST_CASE("an empty file is migrated to the latest schema in WAL mode") {
  TempDir dir;
  ManualClock clock(kT0);
  std::string path = dir.File("records.db");
  auto db = Database::Open(path, clock);
  REQUIRE(db.ok());
  REQUIRE((*db)->SchemaVersion() == LatestSchemaVersion());
  REQUIRE(RawQuery(path, "PRAGMA journal_mode") == "wal");
  REQUIRE(RawQuery(path, "SELECT count(*) FROM schema_version") ==
          std::to_string(Migrations().size()));
  REQUIRE(RawQuery(path, "SELECT applied_us FROM schema_version WHERE version = 1") ==
          std::to_string(kT0.us));
  REQUIRE(RawQuery(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'access_log'") == "1");
}

TEST_CASE("reopening a records database keeps its data and applies no migration twice") {
  TempDir dir;
  ManualClock clock(kT0);
  std::string path = dir.File("records.db");
  {
    auto db = Database::Open(path, clock);
    REQUIRE(db.ok());
    REQUIRE((*db)->UpsertCamera({"yard", "Yard", {}}).ok());
  }
  clock.Advance(kMinute);
  for (int i = 0; i < 2; ++i) {
    auto db = Database::Open(path, clock);
    REQUIRE(db.ok());
    auto cams = (*db)->ListCameras();
    REQUIRE(cams.ok());
    REQUIRE(cams->size() == 1);
    REQUIRE(cams->front().created == kT0);
  }
  REQUIRE(RawQuery(path, "SELECT count(*) FROM schema_version") ==
          std::to_string(Migrations().size()));
}

TEST_CASE("a records database newer than this build is refused with an upgrade message") {
  TempDir dir;
  ManualClock clock(kT0);
  std::string path = dir.File("records.db");
  REQUIRE(Database::Open(path, clock).ok());
  const int newer = LatestSchemaVersion() + 1;
  REQUIRE(RawExec(path, "INSERT INTO schema_version VALUES (" + std::to_string(newer) +
                            ", 0, 'from the future')") == SQLITE_OK);
  auto db = Database::Open(path, clock);
  REQUIRE_FALSE(db.ok());
  REQUIRE(db.status().kind() == ErrorKind::kFailedPrecondition);
  REQUIRE(db.status().message() == "records.db is schema version " + std::to_string(newer) +
                                       " but this custodian knows up to " +
                                       std::to_string(LatestSchemaVersion()) +
                                       "; upgrade custodian");
}

TEST_CASE("an SQLite file of another program is refused and left unchanged") {
  TempDir dir;
  ManualClock clock(kT0);
  std::string path = dir.File("other.db");
  REQUIRE(RawExec(path, "CREATE TABLE notes (x TEXT)") == SQLITE_OK);
  auto db = Database::Open(path, clock);
  REQUIRE(db.status().kind() == ErrorKind::kFailedPrecondition);
  REQUIRE(db.status().message().find("not a custodian records database") != std::string::npos);
  REQUIRE(RawQuery(path, "SELECT count(*) FROM sqlite_schema") == "1");
}

TEST_CASE("a file that is not SQLite at all is reported as data loss") {
  TempDir dir;
  ManualClock clock(kT0);
  std::string path = dir.File("records.db");
  std::ofstream(path) << std::string(8192, 'x');
  auto db = Database::Open(path, clock);
  REQUIRE(db.status().kind() == ErrorKind::kDataLoss);
}

TEST_CASE("SQLite result codes map to error kinds in one place") {
  REQUIRE(SqliteErrorKind(SQLITE_BUSY) == ErrorKind::kUnavailable);
  REQUIRE(SqliteErrorKind(SQLITE_BUSY_SNAPSHOT) == ErrorKind::kUnavailable);
  REQUIRE(SqliteErrorKind(SQLITE_LOCKED) == ErrorKind::kUnavailable);
  REQUIRE(SqliteErrorKind(SQLITE_CONSTRAINT_UNIQUE) == ErrorKind::kAlreadyExists);
  REQUIRE(SqliteErrorKind(SQLITE_CONSTRAINT_PRIMARYKEY) == ErrorKind::kAlreadyExists);
  REQUIRE(SqliteErrorKind(SQLITE_CONSTRAINT_CHECK) == ErrorKind::kFailedPrecondition);
  REQUIRE(SqliteErrorKind(SQLITE_CONSTRAINT_FOREIGNKEY) == ErrorKind::kFailedPrecondition);
  REQUIRE(SqliteErrorKind(SQLITE_CONSTRAINT_TRIGGER) == ErrorKind::kFailedPrecondition);
  REQUIRE(SqliteErrorKind(SQLITE_CORRUPT) == ErrorKind::kDataLoss);
  REQUIRE(SqliteErrorKind(SQLITE_NOTADB) == ErrorKind::kDataLoss);
  REQUIRE(SqliteErrorKind(SQLITE_FULL) == ErrorKind::kResourceExhausted);
  REQUIRE(SqliteErrorKind(SQLITE_IOERR_FSYNC) == ErrorKind::kIo);
  REQUIRE(SqliteErrorKind(SQLITE_MISUSE) == ErrorKind::kInternal);
}

TEST_CASE("the schema rejects rows that break its CHECK and foreign-key constraints") {
  TestDb t;
  Database& db = *t.db;
  SECTION("camera ids are lowercase letters, digits and hyphens") {
    REQUIRE(db.UpsertCamera({"Front Door", "x", {}}).kind() == ErrorKind::kFailedPrecondition);
    REQUIRE(db.UpsertCamera({"", "x", {}}).kind() == ErrorKind::kFailedPrecondition);
    REQUIRE(db.UpsertCamera({"back-2", "x", {}}).ok());
  }
  SECTION("a segment needs a known camera and a relative path") {
    auto unknown = db.BeginSegment(NewSegment("no-such-camera", kT0, "footage/a.mp4"));
    REQUIRE(unknown.status().kind() == ErrorKind::kFailedPrecondition);
    auto absolute = db.BeginSegment(NewSegment("door-1", kT0, "/etc/passwd"));
    REQUIRE(absolute.status().kind() == ErrorKind::kFailedPrecondition);
    auto escape = db.BeginSegment(NewSegment("door-1", kT0, "footage/../../x.mp4"));
    REQUIRE(escape.status().kind() == ErrorKind::kFailedPrecondition);
  }
  SECTION("a segment path is unique") {
    REQUIRE(db.BeginSegment(NewSegment("door-1", kT0, "footage/a.mp4")).ok());
    auto again = db.BeginSegment(NewSegment("door-1", kT0, "footage/a.mp4"));
    REQUIRE(again.status().kind() == ErrorKind::kAlreadyExists);
  }
  SECTION("a complete segment has a well-formed SHA-256 and a bounded duration") {
    auto id = db.BeginSegment(NewSegment("door-1", kT0, "footage/a.mp4"));
    REQUIRE(id.ok());
    SegmentFinish bad_hash = FinishAt(kT0 + kMinute);
    bad_hash.sha256 = "not-a-hash";
    REQUIRE(db.FinishSegment(*id, bad_hash).kind() == ErrorKind::kFailedPrecondition);
    SegmentFinish too_long = FinishAt(kT0 + kMaxSegmentDurationUs + 1);
    REQUIRE(db.FinishSegment(*id, too_long).kind() == ErrorKind::kFailedPrecondition);
    SegmentFinish backwards = FinishAt(kT0 - 1);
    REQUIRE(db.FinishSegment(*id, backwards).kind() == ErrorKind::kFailedPrecondition);
    REQUIRE(db.FinishSegment(*id, FinishAt(kT0 + kMaxSegmentDurationUs)).ok());
  }
  SECTION("raw rows with unknown states, reasons or roles are refused") {
    REQUIRE(RawExec(t.path,
                    "INSERT INTO gaps (camera_id, start_us, end_us, reason) "
                    "VALUES ('door-1', 0, 1, 'bored')") == SQLITE_CONSTRAINT);
    REQUIRE(RawExec(t.path,
                    "INSERT INTO segments (camera_id, start_us, path, video_codec, "
                    "width, height, state, clock_synced) VALUES ('door-1', 0, "
                    "'a.mp4', 'h264', 1, 1, 'lost', 0)") == SQLITE_CONSTRAINT);
    REQUIRE(RawExec(t.path,
                    "INSERT INTO users (name, role, password_hash, created_us) "
                    "VALUES ('x', 'root', 'h', 0)") == SQLITE_CONSTRAINT);
    REQUIRE(RawExec(t.path,
                    "INSERT INTO segments (camera_id, start_us, path, video_codec, "
                    "width, height, state, clock_synced) VALUES ('door-1', 'noon', "
                    "'a.mp4', 'h264', 1, 1, 'recording', 0)") == SQLITE_CONSTRAINT);
  }
  SECTION("a decision on a footage request names who decided and why") {
    REQUIRE(RawExec(t.path,
                    "INSERT INTO footage_requests (type, requester_name, "
                    "received_us, state, logged_by, created_us, updated_us) VALUES "
                    "('police', 'PC Smith', 0, 'approved', 1, 0, 0)") == SQLITE_CONSTRAINT);
    // Since schema version 2 the person who logged a request never decides it.
    REQUIRE(RawExec(t.path,
                    "INSERT INTO footage_requests (type, requester_name, "
                    "received_us, state, logged_by, decided_by, decided_us, "
                    "decision_reason, created_us, updated_us) VALUES ('police', "
                    "'PC Smith', 0, 'approved', 1, 1, 5, 'crime 123', 0, 0)") == SQLITE_CONSTRAINT);
    REQUIRE(t.db->CreateUser({"manager-2", Role::kManager, "hash:y", false}).ok());
    REQUIRE(RawExec(t.path,
                    "INSERT INTO footage_requests (type, requester_name, "
                    "received_us, state, logged_by, decided_by, decided_us, "
                    "decision_reason, created_us, updated_us) VALUES ('police', "
                    "'PC Smith', 0, 'approved', 1, 2, 5, 'crime 123', 0, 0)") == SQLITE_OK);
  }
}

TEST_CASE("a write blocked by another process past the busy timeout is unavailable") {
  TempDir dir;
  ManualClock clock(kT0);
  std::string path = dir.File("records.db");
  auto db = Database::Open(path, clock, OpenOptions{.busy_timeout_ms = 50});
  REQUIRE(db.ok());
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  Status st = (*db)->UpsertCamera({"yard", "Yard", {}});
  REQUIRE(st.kind() == ErrorKind::kUnavailable);
  REQUIRE(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  REQUIRE((*db)->UpsertCamera({"yard", "Yard", {}}).ok());
}

TEST_CASE("a failed transaction body rolls back its changes and only its own") {
  TestDb t;
  Database& db = *t.db;
  Status failed = db.WithTransaction([&]() -> Status {
    REQUIRE(db.UpsertCamera({"yard", "Yard", {}}).ok());
    return Unavailable("camera went away");
  });
  REQUIRE(failed.kind() == ErrorKind::kUnavailable);
  REQUIRE(db.ListCameras()->size() == 1);

  Status outer = db.WithTransaction([&]() -> Status {
    REQUIRE(db.UpsertCamera({"yard", "Yard", {}}).ok());
    Status inner = db.WithTransaction([&]() -> Status {
      REQUIRE(db.UpsertCamera({"gate", "Gate", {}}).ok());
      return Internal("inner step failed");
    });
    REQUIRE_FALSE(inner.ok());
    return Status::Ok();
  });
  REQUIRE(outer.ok());
  auto cams = db.ListCameras();
  REQUIRE(cams->size() == 2);
  REQUIRE((*cams)[0].id == "door-1");
  REQUIRE((*cams)[1].id == "yard");
}

TEST_CASE("a version 3 database keeps its segments when migrated to never reuse their ids") {
  TempDir dir;
  ManualClock clock(kT0);
  std::string path = dir.File("records.db");
  {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
    std::string sql =
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_us INTEGER NOT "
        "NULL, summary TEXT NOT NULL) STRICT;";
    sql += kSchemaV1;
    sql += kSchemaV2;
    sql += kSchemaV3;
    sql +=
        "INSERT INTO schema_version VALUES (1, 1, 'v1'), (2, 1, 'v2'), (3, 1, 'v3');"
        "INSERT INTO cameras (id, name, created_us) VALUES ('door-1', 'Door', 1);"
        "INSERT INTO segments (id, camera_id, start_us, path, video_codec, width, height, "
        "state, clock_synced) VALUES (7, 'door-1', 1, 'footage/door-1/a.mp4', 'h264', 2, 2, "
        "'recording', 1), (9, 'door-1', 2, 'footage/door-1/b.mp4', 'h264', 2, 2, 'recording', "
        "1);"
        "INSERT INTO reader_leases VALUES (9, 'api', 100);";
    char* err = nullptr;
    int rc = sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &err);
    INFO((err ? err : ""));
    REQUIRE(rc == SQLITE_OK);
    sqlite3_close(raw);
  }
  auto db = Database::Open(path, clock);
  REQUIRE(db.ok());
  REQUIRE((*db)->SchemaVersion() == LatestSchemaVersion());
  REQUIRE(RawQuery(path, "SELECT group_concat(id) FROM segments") == "7,9");
  REQUIRE(RawQuery(path, "SELECT count(*) FROM reader_leases WHERE segment_id = 9") == "1");
  REQUIRE((*db)->RemoveSegment(9).ok());
  REQUIRE(RawQuery(path, "SELECT count(*) FROM reader_leases") == "0");  // cascade still works
  REQUIRE(RawQuery(path, "SELECT seq FROM sqlite_sequence WHERE name = 'segments'") == "9");
}
