// The recorder through camera faults and its own crash.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "tests/recorder/recorder_harness.h"
#include "tests/sim/sim_process.h"

using namespace custodian;
using namespace custodian::testing;

namespace {

void SleepSeconds(double s) {
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(s * 1000)));
}

std::vector<records::GapRow> Gaps(records::Database& db, const std::string& camera) {
  auto gaps = db.ListGaps(camera, UtcMicros{0}, WallNow() + 3600 * kMicrosPerSecond);
  REQUIRE(gaps.ok());
  return *gaps;
}

// The first complete segment that starts after `t`.
std::optional<records::SegmentRow> FirstAfter(records::Database& db, const std::string& cam, UtcMicros t) {
  for (const auto& s : CompleteSegments(db, cam))
    if (s.start > t) return s;
  auto open = db.ListSegmentsInState(records::SegmentState::kRecording);
  if (open.ok())
    for (const auto& s : *open)
      if (s.camera_id == cam && s.start > t) return s;
  return std::nullopt;
}

}  // namespace

TEST_CASE("after the camera refuses for 5 s the recorder is back within 5 s, and one gap covers the outage") {
  auto sim = sim::SimulatorProcess::Start({"lobby:width=320,height=240,gop=25,clip=4"});
  REQUIRE(sim.ok());
  TestSite site({{"lobby", (*sim)->Url("lobby")}}, 60);
  RecorderProcess recorder(site);
  auto db = site.OpenRecords();
  REQUIRE(WaitFor([&] { return FirstAfter(*db, "lobby", UtcMicros{0}).has_value(); }, 30'000));
  SleepSeconds(4);

  const UtcMicros outage = WallNow();
  REQUIRE((*sim)->Command("refuse lobby 5").ok());
  const UtcMicros back = outage + 5 * kMicrosPerSecond;
  REQUIRE(WaitFor([&] { return FirstAfter(*db, "lobby", back).has_value(); }, 15'000));
  auto resumed = FirstAfter(*db, "lobby", outage);
  REQUIRE(resumed.has_value());
  INFO("reconnected " << (resumed->start - back) / 1000 << " ms after the camera returned");
  REQUIRE(resumed->start - back <= 5 * kMicrosPerSecond);
  REQUIRE(resumed->start >= back);

  SleepSeconds(2);
  REQUIRE(recorder.Stop() == 0);
  auto segs = CompleteSegments(*db, "lobby");
  REQUIRE(segs.size() == 2);
  auto gaps = Gaps(*db, "lobby");
  REQUIRE(gaps.size() == 1);
  // Exactly the outage: from the end of the footage before to the start of the footage after.
  REQUIRE(gaps[0].start == *segs[0].end);
  REQUIRE(gaps[0].end == segs[1].start);
  REQUIRE(gaps[0].reason == records::GapReason::kCameraOffline);
  REQUIRE(std::llabs(*segs[0].end - outage) <= 1'500'000);
  RequireSegmentsPlayAndMatch(*db, site.data_dir());
}

TEST_CASE("a stalled stream is noticed and recording resumes with a stall gap") {
  auto sim = sim::SimulatorProcess::Start({"yard:width=320,height=240,gop=25,clip=4"});
  REQUIRE(sim.ok());
  TestSite site({{"yard", (*sim)->Url("yard")}}, 60, /*stall_timeout_seconds=*/2);
  RecorderProcess recorder(site);
  auto db = site.OpenRecords();
  REQUIRE(WaitFor([&] { return FirstAfter(*db, "yard", UtcMicros{0}).has_value(); }, 30'000));
  SleepSeconds(3);
  const UtcMicros stalled = WallNow();
  REQUIRE((*sim)->Command("stall yard 6").ok());
  REQUIRE(WaitFor([&] { return FirstAfter(*db, "yard", stalled + 2 * kMicrosPerSecond).has_value(); }, 20'000));
  SleepSeconds(2);
  REQUIRE(recorder.Stop() == 0);
  auto gaps = Gaps(*db, "yard");
  REQUIRE(gaps.size() == 1);
  REQUIRE(gaps[0].reason == records::GapReason::kStall);
  RequireSegmentsPlayAndMatch(*db, site.data_dir());
}

TEST_CASE("a recorder killed with SIGKILL mid-segment loses at most 2 s and recovers on restart") {
  auto sim = sim::SimulatorProcess::Start({"lobby:width=640,height=360,gop=25,clip=6"});
  REQUIRE(sim.ok());
  TestSite site({{"lobby", (*sim)->Url("lobby")}}, 60);
  auto db = site.OpenRecords();
  UtcMicros killed;
  {
    RecorderProcess recorder(site);
    REQUIRE(WaitFor([&] { return FirstAfter(*db, "lobby", UtcMicros{0}).has_value(); }, 30'000));
    SleepSeconds(7.3);  // mid-segment and mid-GOP
    killed = WallNow();
    recorder.Kill();
  }
  auto open = db->ListSegmentsInState(records::SegmentState::kRecording);
  REQUIRE(open.ok());
  REQUIRE(open->size() == 1);  // the crash left the segment open
  const int64_t open_id = open->front().id;

  {
    RecorderProcess recorder(site);
    REQUIRE(WaitFor([&] { return FirstAfter(*db, "lobby", killed).has_value(); }, 20'000));
    SleepSeconds(2);
    REQUIRE(recorder.Stop() == 0);
  }
  auto recovered = db->GetSegment(open_id);
  REQUIRE(recovered.ok());
  REQUIRE(recovered->has_value());
  REQUIRE((*recovered)->state == records::SegmentState::kComplete);
  INFO("lost " << (killed - *(*recovered)->end) / 1000 << " ms");
  REQUIRE(killed - *(*recovered)->end <= 2 * kMicrosPerSecond);
  REQUIRE((*recovered)->duration_us >= 6 * kMicrosPerSecond);

  auto gaps = Gaps(*db, "lobby");
  REQUIRE(gaps.size() == 1);
  REQUIRE(gaps[0].reason == records::GapReason::kCrash);
  REQUIRE(gaps[0].start == *(*recovered)->end);
  RequireSegmentsPlayAndMatch(*db, site.data_dir());
  std::string out;
  REQUIRE(RunCustodian({"--config", site.config(), "check", "--hashes"}, &out) == 0);
}
