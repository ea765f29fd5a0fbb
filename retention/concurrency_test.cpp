// The recorder and retention working at once on one records.db and one footage directory,
// each with its own connection as the two services have: a recorder thread writes segments
// (row, file, fsyncs, finished row) at a fast cadence while the scheduler runs passes with
// a short max age and a quota. Nothing may fail with "database is locked", and no segment
// may be lost: each one is either still indexed or named by a deletion record.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include "base/log.h"
#include "base/sha256.h"
#include "retention/scheduler.h"
#include "retention/test_util.h"

namespace custodian::retention {
namespace {

using namespace testing;

constexpr int kCameras = 4;
constexpr int64_t kSegmentBytes = 2000;

int SoakSeconds() {
  const char* env = std::getenv("CUSTODIAN_RETENTION_SOAK_SECONDS");
  return env ? std::max(1, std::atoi(env)) : 30;
}

class Errors {
 public:
  void Check(const Status& st, const std::string& what) {
    if (st.ok()) return;
    std::lock_guard l(mu_);
    list_.push_back(what + ": " + st.ToString());
  }
  std::vector<std::string> list() {
    std::lock_guard l(mu_);
    return list_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> list_;
};

struct Written {
  int64_t id = 0;
  std::string sha256;
};

// Writes one segment in the recorder's order: row, file, fsyncs, finished row.
void WriteSegment(records::Database& db, Filesystem& fs, const std::string& data_dir,
                  const std::string& camera, UtcMicros start, Errors& errors,
                  std::map<std::string, Written>* written) {
  records::SegmentRow row;
  row.camera_id = camera;
  row.start = start;
  row.path = TestSegmentPath(camera, start);
  row.video_codec = "h264";
  auto id = db.BeginSegment(row);
  errors.Check(id.status(), "begin segment");
  if (!id.ok()) return;
  const std::string abs = JoinPath(data_dir, row.path);
  errors.Check(fs.CreateDirs(DirName(abs)), "create dirs");
  std::string content = camera + " " + std::to_string(start.us) + " ";
  content.resize(kSegmentBytes, 'v');
  auto file = fs.Create(abs);
  errors.Check(file.status(), "create file");
  if (!file.ok()) return;
  errors.Check((*file)->Append(content.data(), content.size()), "append");
  errors.Check((*file)->Sync(), "sync");
  errors.Check((*file)->Close(), "close");
  errors.Check(fs.SyncDir(DirName(abs)), "sync dir");
  records::SegmentFinish fin;
  fin.end = start + kMinute;
  fin.bytes = kSegmentBytes;
  fin.duration_us = kMinute;
  fin.sha256 = Sha256Hex(content);
  fin.video_codec = "h264";
  errors.Check(db.FinishSegment(*id, fin), "finish segment");
  (*written)[row.path] = {*id, fin.sha256};
}

std::unique_ptr<records::Database> OpenDb(const std::string& data_dir, const Clock& clock) {
  auto db = records::Database::Open(data_dir + "/records.db", clock);
  REQUIRE(db.ok());
  return std::move(db).value();
}

TEST_CASE("recorder and retention on one database and one footage directory lose no row") {
  TempDir dir;
  const std::string data_dir = dir.path();
  const Clock& clock = SystemClock::Instance();
  Filesystem& fs = PosixFilesystem::Instance();
  auto recorder_db = OpenDb(data_dir, clock);
  auto retention_db = OpenDb(data_dir, clock);

  RetentionSettings settings;
  settings.data_dir = data_dir;
  settings.retention.max_age_days = 1;
  for (int c = 0; c < kCameras; ++c) {
    const std::string id = "cam-" + std::to_string(c);
    REQUIRE(recorder_db->UpsertCamera({id, id, {}}).ok());
    std::optional<int64_t> quota;
    if (c == 0) quota = 20 * kSegmentBytes;
    settings.cameras.push_back({id, 1, quota});
  }
  SchedulerOptions options;
  options.interval_us = 200'000;
  options.alarm_poll_us = 50'000;
  options.pass.executor.batch_size = 64;

  Errors errors;
  // By path, which is unique, not by id: SQLite reuses the id of the newest row once it
  // is deleted, and retention here often deletes a segment just after it was finished.
  std::map<std::string, Written> written;  // by the recorder thread only
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(SoakSeconds());
  // Footage stamped from 36 hours ago onwards, a minute per segment: with a one-day max
  // age the early part is deleted while later segments are still being written.
  const UtcMicros base = clock.Now() - 36 * kHour;

  std::thread recorder([&] {
    for (int64_t i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
      for (int c = 0; c < kCameras; ++c) {
        WriteSegment(*recorder_db, fs, data_dir, "cam-" + std::to_string(c), base + i * kMinute,
                     errors, &written);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  int64_t passes = 0, deleted = 0;
  std::thread retention([&] {
    RetentionScheduler scheduler(*retention_db, fs, clock, settings, options);
    while (std::chrono::steady_clock::now() < deadline) {
      auto tick = scheduler.Tick();
      errors.Check(tick.status(), "retention pass");
      if (tick.ok() && *tick) {
        ++passes;
        deleted += (*tick)->execution.segments_deleted;
        for (const std::string& f : (*tick)->execution.failures) {
          errors.Check(IoError(f), "retention failure");
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  recorder.join();
  retention.join();

  const std::vector<std::string> problems = errors.list();
  for (const std::string& p : problems) UNSCOPED_INFO(p);
  CHECK(problems.empty());
  LogInfo("test") << written.size() << " segments written, " << deleted << " deleted in " << passes
                  << " passes";
  CHECK(passes > 10);
  CHECK(deleted > 0);

  // Every segment written is either indexed (complete, with its file) or deleted on record.
  std::map<std::string, int> recorded;
  auto deletions = retention_db->ListDeletions(UtcMicros{INT64_MIN}, UtcMicros{INT64_MAX});
  REQUIRE(deletions.ok());
  for (const records::DeletionRow& d : *deletions) {
    for (const std::string& h : d.sha256s) ++recorded[h];
  }
  auto rows = retention_db->ListAllSegments();
  REQUIRE(rows.ok());
  std::map<std::string, records::SegmentRow> indexed;
  for (const records::SegmentRow& r : *rows) indexed[r.path] = r;
  int64_t lost = 0, twice = 0;
  int64_t disagree = 0;
  for (const auto& [path, w] : written) {
    const bool in_index = indexed.count(path) > 0 && indexed[path].id == w.id;
    const int in_records = recorded.count(w.sha256) ? recorded[w.sha256] : 0;
    if (!in_index && in_records == 0) ++lost;
    if (in_records > 1 || (in_index && in_records > 0)) ++twice;
    const bool complete = in_index && indexed[path].state == records::SegmentState::kComplete;
    if (fs.Exists(JoinPath(data_dir, path)) != complete) ++disagree;
  }
  CHECK(disagree == 0);
  CHECK(lost == 0);
  CHECK(twice == 0);
  CHECK(indexed.size() + static_cast<size_t>(deleted) == written.size());
}

}  // namespace
}  // namespace custodian::retention
