// Camera clocks: the real recorder measures each camera's clock from its RTCP sender
// reports, and the alarm watcher raises camera_clock:<camera> for one beyond the limit.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "health/alarm_watcher.h"
#include "tests/recorder/recorder_harness.h"
#include "tests/sim/sim_process.h"

using namespace custodian;
using namespace custodian::testing;

namespace {

// The newest clock offset measured for a camera, if any yet.
std::optional<int64_t> ClockOffset(records::Database& db, const std::string& camera) {
  auto latest = db.LatestClockOffset(camera, UtcMicros{0});
  REQUIRE(latest.ok());
  if (!*latest) return std::nullopt;
  return (*latest)->clock_offset_us;
}

std::optional<records::AlarmRow> ActiveAlarm(records::Database& db, const std::string& kind) {
  auto active = db.ListActiveAlarms();
  REQUIRE(active.ok());
  for (const auto& a : *active) {
    if (a.kind == kind) return a;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE(
    "a camera whose clock is 30 s ahead is recorded with that offset and raises a clock "
    "alarm, and a camera on time does not") {
  auto sim =
      sim::SimulatorProcess::Start({"lobby:width=320,height=240,gop=25,clip=4,clock_offset=30",
                                    "yard:width=320,height=240,gop=25,clip=4"});
  REQUIRE(sim.ok());
  TestSite site({{"lobby", (*sim)->Url("lobby")}, {"yard", (*sim)->Url("yard")}},
                /*segment_seconds=*/2);
  RecorderProcess recorder(site);
  auto db = site.OpenRecords();
  // The first sender report comes a few seconds in; segments started after it carry it.
  REQUIRE(WaitFor(
      [&] { return ClockOffset(*db, "lobby").has_value() && ClockOffset(*db, "yard").has_value(); },
      60'000));
  const int64_t lobby = *ClockOffset(*db, "lobby");
  const int64_t yard = *ClockOffset(*db, "yard");
  INFO("lobby offset " << lobby << " us, yard offset " << yard << " us");
  // Loopback and one host clock: only the simulated offset and packet latency remain.
  CHECK(std::llabs(lobby - 30 * kMicrosPerSecond) < kMicrosPerSecond);
  CHECK(std::llabs(yard) < kMicrosPerSecond);

  health::AlarmWatcherOptions options;
  options.site_name = "Test site";
  options.cameras = {{"lobby", "Lobby"}, {"yard", "Yard"}};
  options.interval_us = kMicrosPerSecond / 5;
  auto watcher = health::AlarmWatcher::Start(*db, SystemClock::Instance(), options);
  REQUIRE(watcher.ok());
  REQUIRE(WaitFor([&] { return ActiveAlarm(*db, "camera_clock:lobby").has_value(); }, 10'000));
  (*watcher)->Stop();
  CHECK(ActiveAlarm(*db, "camera_clock:lobby")->detail ==
        "the camera's clock is 30 s ahead of the appliance's clock; the limit is 2 s");
  CHECK_FALSE(ActiveAlarm(*db, "camera_clock:yard").has_value());
  REQUIRE(recorder.Stop() == 0);
}
