#include <atomic>
#include <thread>

#include "records/test_util.h"

using namespace custodian;
using namespace custodian::records;
using namespace custodian::records::testing;

namespace {

constexpr int kPerThread = 25;

// Each thread appends access entries and records whole segments on its own camera, as
// recorder camera threads and API handlers do.
void Work(Database& db, int thread, std::atomic<int>* errors) {
  const std::string camera = "cam-" + std::to_string(thread);
  for (int i = 0; i < kPerThread; ++i) {
    AccessEntry e;
    e.user_name = "user-" + std::to_string(thread);
    e.action = "view";
    e.camera_id = camera;
    if (!db.AppendAccess(e).ok()) ++*errors;
    const UtcMicros start = kT0 + i * kMinute;
    auto id = db.BeginSegment(
        NewSegment(camera, start, "footage/" + camera + "/" + std::to_string(i) + ".mp4"));
    if (!id.ok() || !db.FinishSegment(*id, FinishAt(start + kMinute)).ok()) ++*errors;
  }
}

void RequireNothingLost(Database& db, int threads) {
  auto v = db.VerifyAccessLog();
  REQUIRE(v.ok());
  REQUIRE(v->ok);
  REQUIRE(v->entries_checked == threads * kPerThread);
  REQUIRE(db.ListSegmentsInState(SegmentState::kComplete)->size() ==
          static_cast<size_t>(threads * kPerThread));
  for (int i = 0; i < threads; ++i) {
    const std::string camera = "cam-" + std::to_string(i);
    REQUIRE(db.ListSegments(camera, kT0, kT0 + kPerThread * kMinute)->size() == kPerThread);
  }
}

}  // namespace

TEST_CASE("eight threads sharing one database append entries and segments without loss") {
  TestDb t;
  constexpr int kThreads = 8;
  for (int i = 0; i < kThreads; ++i) {
    REQUIRE(t.db->UpsertCamera({"cam-" + std::to_string(i), "", {}}).ok());
  }
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) threads.emplace_back(Work, std::ref(*t.db), i, &errors);
  for (auto& th : threads) th.join();
  REQUIRE(errors == 0);
  RequireNothingLost(*t.db, kThreads);
}

TEST_CASE("two connections, as two processes would have, keep one unbroken chain") {
  TestDb t;
  auto second = Database::Open(t.path, t.clock);
  REQUIRE(second.ok());
  constexpr int kThreads = 8;
  for (int i = 0; i < kThreads; ++i) {
    REQUIRE(t.db->UpsertCamera({"cam-" + std::to_string(i), "", {}}).ok());
  }
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    Database& db = i % 2 ? **second : *t.db;
    threads.emplace_back(Work, std::ref(db), i, &errors);
  }
  for (auto& th : threads) th.join();
  REQUIRE(errors == 0);
  RequireNothingLost(*t.db, kThreads);
}
