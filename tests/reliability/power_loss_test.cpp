// Fault suite 5: power loss. A recorder is killed mid-segment; its data directory is the
// image a power cut would leave. Then, at many arbitrary byte offsets, either the open
// segment's file or the records' write-ahead log is cut short (what an unfinished write
// leaves), and recovery (what `custodian record` runs first) must bring records and disk
// back into agreement: the database passes SQLite's integrity check, every indexed segment
// plays and matches its row, and `custodian check --hashes` passes.
#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <sstream>

#include "base/filesystem.h"
#include "recorder/recovery.h"
#include "tests/reliability/reliability_util.h"
#include "tests/sim/sim_process.h"

using namespace custodian;
using namespace custodian::testing;
namespace stdfs = std::filesystem;

namespace {

bool IntegrityOk(const std::string& db_path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return false;
  }
  sqlite3_stmt* st = nullptr;
  bool ok = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW &&
            std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "ok";
  sqlite3_finalize(st);
  sqlite3_close(db);
  return ok;
}

// Copies the crash image into a fresh site directory with the same site.yaml.
std::string CopyImage(const TestSite& image, int n) {
  const std::string dir = image.dir() + "-cut-" + std::to_string(n);
  stdfs::remove_all(dir);
  stdfs::copy(image.dir(), dir, stdfs::copy_options::recursive);
  // A reboot loses the shared-memory index; SQLite rebuilds it from the log.
  stdfs::remove(dir + "/data/records.db-shm");
  return dir;
}

void RecoverAndCheck(const std::string& dir) {
  const std::string data_dir = dir + "/data";
  auto db = records::Database::Open(data_dir + "/records.db", SystemClock::Instance());
  REQUIRE(db.ok());
  auto report = recorder::RecoverFootage(**db, PosixFilesystem::Instance(), data_dir);
  INFO((report.ok() ? "" : report.status().ToString()));
  REQUIRE(report.ok());
  auto open = (*db)->ListSegmentsInState(records::SegmentState::kRecording);
  REQUIRE(open.ok());
  REQUIRE(open->empty());
  RequireSegmentsPlayAndMatch(**db, data_dir);
  db->reset();
  REQUIRE(IntegrityOk(data_dir + "/records.db"));
  std::string out;
  int rc = RunCustodian({"--config", dir + "/site.yaml", "check", "--hashes"}, &out);
  INFO(out);
  REQUIRE(rc == 0);
}

}  // namespace

TEST_CASE("a segment or the records' log cut at arbitrary byte offsets recovers to a consistent state") {
  auto sim = sim::SimulatorProcess::Start({"lobby:width=320,height=240,gop=25,clip=4,bitrate=500",
                                           "yard:width=320,height=240,gop=25,clip=4,bitrate=500"});
  REQUIRE(sim.ok());
  std::vector<TestCamera> cameras = {{"lobby", (*sim)->Url("lobby")}, {"yard", (*sim)->Url("yard")}};
  TestSite site(cameras, 60);
  WriteReliabilitySite(site, cameras, /*segment_seconds=*/2);
  TestSite image(cameras, 60);  // the power cut's image: a copy taken at once
  std::string open_file;
  {
    auto db = site.OpenRecords();
    CustodianProcess recorder(site.config(), {"record"}, site.log());
    REQUIRE(WaitFor([&] { return CompleteSegments(*db, "lobby").size() >= 3; }, 60'000));
    SleepMs(1300);  // mid-segment
    recorder.Kill();
    // Copied while this connection is still open: closing the last connection would
    // checkpoint the write-ahead log into the database, which a power cut does not.
    stdfs::remove_all(image.dir());
    stdfs::copy(site.dir(), image.dir(), stdfs::copy_options::recursive);
    auto open = db->ListSegmentsInState(records::SegmentState::kRecording);
    REQUIRE(open.ok());
    REQUIRE(!open->empty());
    open_file = open->front().path;
  }
  const auto seg_size = static_cast<int64_t>(stdfs::file_size(image.data_dir() + "/" + open_file));
  const std::string wal = image.data_dir() + "/records.db-wal";
  const auto wal_size = stdfs::exists(wal) ? static_cast<int64_t>(stdfs::file_size(wal)) : 0;
  INFO("open segment " << open_file << " " << seg_size << " bytes; log " << wal_size << " bytes");
  REQUIRE(seg_size > 0);

  std::mt19937 rng(Catch::rngSeed());
  const int cuts = Rounds(20);
  int n = 0;
  std::string what;
  SECTION("the open segment cut short") {
    what = "open segment of " + std::to_string(seg_size) + " bytes";
    std::uniform_int_distribution<int64_t> offset(0, seg_size);
    for (int i = 0; i < cuts; ++i) {
      const int64_t at = i == 0 ? 0 : i == 1 ? 1 : offset(rng);
      INFO("segment cut at " << at);
      const std::string dir = CopyImage(image, n++);
      REQUIRE(truncate((dir + "/data/" + open_file).c_str(), at) == 0);
      RecoverAndCheck(dir);
      stdfs::remove_all(dir);
    }
  }
  SECTION("the records' write-ahead log cut short") {
    REQUIRE(wal_size > 0);
    what = "write-ahead log of " + std::to_string(wal_size) + " bytes";
    std::uniform_int_distribution<int64_t> offset(0, wal_size);
    for (int i = 0; i < cuts; ++i) {
      const int64_t at = i == 0 ? 0 : i == 1 ? 32 : offset(rng);
      INFO("log cut at " << at);
      const std::string dir = CopyImage(image, n++);
      REQUIRE(truncate((dir + "/data/records.db-wal").c_str(), at) == 0);
      RecoverAndCheck(dir);
      stdfs::remove_all(dir);
    }
  }
  Figure("power loss", what + " cut at " + std::to_string(cuts) +
                           " offsets: every cut recovered to a consistent state");
}
