// Fixtures for the retention tests: a data directory with a records.db, a manual clock, a
// fault-injecting filesystem over the real one, and helpers that index footage with real
// (small) files so that records and disk can be compared.
#pragma once

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/testing/temp_dir.h"
#include "base/filesystem.h"
#include "base/sha256.h"
#include "records/database.h"
#include "retention/pass.h"

namespace custodian::retention::testing {

inline constexpr UtcMicros kT0{1767225600LL * kMicrosPerSecond};  // 2026-01-01T00:00:00Z
inline constexpr int64_t kMinute = 60 * kMicrosPerSecond;
inline constexpr int64_t kHour = 60 * kMinute;
inline constexpr int64_t kDay = kMicrosPerDay;

// A temporary directory, removed afterwards.
class TempDir : public ::custodian::testing::TempDir {
 public:
  TempDir() : ::custodian::testing::TempDir("retention-test") {}
};

// Where a test segment lives, relative to data_dir (unique per camera and start).
inline std::string TestSegmentPath(const std::string& camera, UtcMicros start) {
  return "footage/" + camera + "/" + FormatUtcDate(start) + "/" + std::to_string(start.us) + ".mp4";
}

// A site with cameras "door-1" and "yard-2" (site default max age 31 days) and a manager.
struct TestSite {
  TempDir dir;
  std::string data_dir = dir.path();
  ManualClock clock{kT0 + 60 * kDay};
  FaultInjectingFilesystem fs{PosixFilesystem::Instance()};
  std::unique_ptr<records::Database> db;
  int64_t manager_id = 0;
  RetentionSettings settings;

  TestSite() {
    Open();
    REQUIRE(db->UpsertCamera({"door-1", "Front door", {}}).ok());
    REQUIRE(db->UpsertCamera({"yard-2", "Yard", {}}).ok());
    auto user = db->CreateUser({"manager-1", records::Role::kManager, "hash:x", false});
    REQUIRE(user.ok());
    manager_id = *user;
    settings.data_dir = data_dir;
    settings.cameras = {{"door-1", 31, std::nullopt}, {"yard-2", 31, std::nullopt}};
  }

  // Opens (or, after a simulated crash, reopens) records.db.
  void Open() {
    db.reset();
    auto opened = records::Database::Open(data_dir + "/records.db", clock);
    REQUIRE(opened.ok());
    db = std::move(opened).value();
  }

  CameraRetention& Camera(const std::string& id) {
    for (CameraRetention& c : settings.cameras) {
      if (c.camera_id == id) return c;
    }
    FAIL("no camera " << id);
    return settings.cameras.front();
  }

  // Indexes a complete segment [start, start + duration) with a real file of `bytes`
  // bytes whose content is unique to it; returns its id.
  int64_t AddSegment(const std::string& camera, UtcMicros start, int64_t duration = kMinute,
                     int64_t bytes = 1000) {
    const std::string rel = TestSegmentPath(camera, start);
    const std::string abs = JoinPath(data_dir, rel);
    REQUIRE(fs.CreateDirs(DirName(abs)).ok());
    std::string content = camera + " " + std::to_string(start.us) + " ";
    content.resize(static_cast<size_t>(bytes), 'x');
    auto file = fs.Create(abs);
    REQUIRE(file.ok());
    REQUIRE((*file)->Append(content.data(), content.size()).ok());
    REQUIRE((*file)->Close().ok());
    records::SegmentRow row;
    row.camera_id = camera;
    row.start = start;
    row.path = rel;
    row.video_codec = "h264";
    auto id = db->BeginSegment(row);
    REQUIRE(id.ok());
    records::SegmentFinish fin;
    fin.end = start + duration;
    fin.bytes = bytes;
    fin.duration_us = duration;
    fin.sha256 = Sha256Hex(content);
    fin.video_codec = "h264";
    REQUIRE(db->FinishSegment(*id, fin).ok());
    return *id;
  }

  // A one-minute segment every minute from `from` for `count` minutes; returns the ids.
  std::vector<int64_t> AddMinutes(const std::string& camera, UtcMicros from, int count,
                                  int64_t bytes = 1000) {
    std::vector<int64_t> ids;
    for (int i = 0; i < count; ++i)
      ids.push_back(AddSegment(camera, from + i * kMinute, kMinute, bytes));
    return ids;
  }

  int64_t Hold(const std::vector<records::HoldRange>& ranges, UtcMicros review,
               std::optional<int64_t> request_id = std::nullopt) {
    records::HoldRow h;
    h.reason = "incident 42";
    h.owner_user_id = manager_id;
    h.request_id = request_id;
    h.review = review;
    h.ranges = ranges;
    auto id = db->CreateHold(h);
    REQUIRE(id.ok());
    return *id;
  }

  PassReport Pass(const PassOptions& options = {}) {
    auto report = RunRetentionPass(*db, fs, clock, settings, options);
    INFO(report.status().ToString());
    REQUIRE(report.ok());
    return std::move(report).value();
  }

  std::set<int64_t> SegmentIds() {
    auto rows = db->ListAllSegments();
    REQUIRE(rows.ok());
    std::set<int64_t> ids;
    for (const records::SegmentRow& r : *rows) ids.insert(r.id);
    return ids;
  }

  bool Exists(int64_t id) { return SegmentIds().count(id) > 0; }

  std::vector<records::DeletionRow> Deletions() {
    auto rows = db->ListDeletions(UtcMicros{INT64_MIN}, UtcMicros{INT64_MAX});
    REQUIRE(rows.ok());
    return *rows;
  }

  std::vector<std::string> ActiveAlarmKinds() {
    auto alarms = db->ListActiveAlarms();
    REQUIRE(alarms.ok());
    std::vector<std::string> kinds;
    for (const records::AlarmRow& a : *alarms) kinds.push_back(a.kind);
    return kinds;
  }

  bool AlarmActive(const std::string& kind) {
    for (const std::string& k : ActiveAlarmKinds()) {
      if (k == kind) return true;
    }
    return false;
  }

  // Footage files on disk, relative to data_dir.
  std::set<std::string> FootageFiles() {
    std::set<std::string> files;
    const std::filesystem::path root = std::filesystem::path(data_dir) / "footage";
    if (!std::filesystem::exists(root)) return files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
      if (e.is_regular_file()) {
        files.insert(std::filesystem::relative(e.path(), data_dir).string());
      }
    }
    return files;
  }

  // Records and disk agree: no row left deleting, every row's file present, every file
  // indexed, and every deleted segment's hash in exactly one deletion record.
  void RequireRecordsAgreeWithDisk(const std::set<std::string>& deleted_hashes) {
    auto rows = db->ListAllSegments();
    REQUIRE(rows.ok());
    std::set<std::string> indexed;
    for (const records::SegmentRow& r : *rows) {
      CHECK(r.state == records::SegmentState::kComplete);
      indexed.insert(r.path);
    }
    CHECK(indexed == FootageFiles());
    std::multiset<std::string> recorded;
    for (const records::DeletionRow& d : Deletions()) {
      recorded.insert(d.sha256s.begin(), d.sha256s.end());
    }
    CHECK(std::set<std::string>(recorded.begin(), recorded.end()) == deleted_hashes);
    CHECK(recorded.size() == deleted_hashes.size());
  }

  std::string HashOf(int64_t id) {
    auto row = db->GetSegment(id);
    REQUIRE(row.ok());
    REQUIRE(row->has_value());
    return (*row)->sha256.value_or("");
  }
};

}  // namespace custodian::retention::testing
