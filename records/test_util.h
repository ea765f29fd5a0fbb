// Shared fixtures for the records tests: a temporary records.db with a manual clock, and
// ways to reach the file behind the library's back (a raw connection, the sqlite3 CLI).
#pragma once

#include <sqlite3.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/testing/temp_dir.h"
#include "records/database.h"

namespace custodian::records::testing {

inline constexpr UtcMicros kT0{1767225600LL * kMicrosPerSecond};  // 2026-01-01T00:00:00Z
inline constexpr int64_t kMinute = 60 * kMicrosPerSecond;

// A temporary directory, removed afterwards.
class TempDir : public ::custodian::testing::TempDir {
 public:
  TempDir() : ::custodian::testing::TempDir("records-test") {}
};

// A fresh records.db with one camera ("door-1") and one manager ("manager-1").
struct TestDb {
  TempDir dir;
  std::string path = dir.File("records.db");
  ManualClock clock{kT0};
  std::unique_ptr<Database> db;
  int64_t manager_id = 0;

  TestDb() {
    auto opened = Database::Open(path, clock);
    INFO(opened.status().ToString());
    REQUIRE(opened.ok());
    db = std::move(opened).value();
    REQUIRE(db->UpsertCamera({"door-1", "Front door", {}}).ok());
    auto user = db->CreateUser({"manager-1", Role::kManager, "hash:x", false});
    REQUIRE(user.ok());
    manager_id = *user;
  }
};

// Runs sql on a separate connection with foreign keys on; returns the SQLite result code.
inline int RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open(path.c_str(), &db);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    rc = sqlite3_exec(db, ("PRAGMA foreign_keys=ON; " + sql).c_str(), nullptr, nullptr, nullptr);
  }
  sqlite3_close(db);
  return rc;
}

// Runs sql with the sqlite3 command-line tool, as an attacker with a shell would; returns
// the tool's exit status (0 on success).
inline int RunSqliteCli(const std::string& path, const std::string& sql) {
  std::string cmd = std::string(CUSTODIAN_SQLITE3_CLI) + " -bail -cmd '.timeout 5000' '" + path +
                    "' \"" + sql + "\" >/dev/null 2>&1";
  return std::system(cmd.c_str());
}

inline SegmentRow NewSegment(const std::string& camera, UtcMicros start, const std::string& path) {
  SegmentRow s;
  s.camera_id = camera;
  s.start = start;
  s.path = path;
  s.video_codec = "h264";
  s.width = 1920;
  s.height = 1080;
  s.clock_synced = true;
  return s;
}

inline SegmentFinish FinishAt(UtcMicros end, int64_t bytes = 1000) {
  SegmentFinish f;
  f.end = end;
  f.bytes = bytes;
  f.duration_us = kMinute;
  f.sha256 = std::string(64, 'a');
  f.video_codec = "h264";
  f.width = 1920;
  f.height = 1080;
  f.audio_note = "camera has no audio track";
  return f;
}

// Inserts and finishes a one-minute segment starting at start; returns its id.
inline int64_t AddCompleteSegment(Database& db, const std::string& camera, UtcMicros start) {
  std::string path = "footage/" + camera + "/" + std::to_string(start.us) + ".mp4";
  auto id = db.BeginSegment(NewSegment(camera, start, path));
  REQUIRE(id.ok());
  REQUIRE(db.FinishSegment(*id, FinishAt(start + kMinute)).ok());
  return *id;
}

}  // namespace custodian::records::testing
