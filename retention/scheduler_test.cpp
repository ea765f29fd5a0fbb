// When the scheduler runs passes: at once, every interval, and at once on low space
// without spinning when a pass cannot help.
#include "retention/scheduler.h"

#include <catch2/catch.hpp>

#include "retention/test_util.h"

namespace custodian::retention {
namespace {

using namespace testing;

SchedulerOptions Every(int64_t interval_us, int64_t poll_us) {
  SchedulerOptions o;
  o.interval_us = interval_us;
  o.alarm_poll_us = poll_us;
  return o;
}

bool Ran(Result<std::optional<PassReport>> tick) {
  INFO(tick.status().ToString());
  REQUIRE(tick.ok());
  return tick->has_value();
}

TEST_CASE("the scheduler runs a pass at once and then every interval") {
  TestSite site;
  RetentionScheduler scheduler(*site.db, site.fs, site.clock, site.settings,
                               Every(60 * kMicrosPerSecond, 5 * kMicrosPerSecond));
  CHECK(Ran(scheduler.Tick()));
  CHECK_FALSE(Ran(scheduler.Tick()));
  site.clock.Advance(59 * kMicrosPerSecond);
  CHECK_FALSE(Ran(scheduler.Tick()));
  site.clock.Advance(kMicrosPerSecond);
  CHECK(Ran(scheduler.Tick()));
  CHECK(scheduler.passes() == 2);
}

TEST_CASE("low space reported by the recorder starts a pass at once") {
  TestSite site;
  const UtcMicros now = site.clock.Now();
  const std::vector<int64_t> ids = site.AddMinutes("door-1", now - 3 * kDay, 4);
  RetentionScheduler scheduler(*site.db, site.fs, site.clock, site.settings,
                               Every(60 * kMicrosPerSecond, 5 * kMicrosPerSecond));
  CHECK(Ran(scheduler.Tick()));
  CHECK(site.SegmentIds().size() == 4);

  // The disk fills; the recorder raises low_space.
  site.fs.SetSpace({10'000, 500});
  REQUIRE(site.db->RaiseAlarm(kLowSpaceAlarm, "free space 5%").ok());
  site.clock.Advance(4 * kMicrosPerSecond);
  CHECK_FALSE(Ran(scheduler.Tick()));  // alarms are polled every 5 s
  site.clock.Advance(kMicrosPerSecond);
  CHECK(Ran(scheduler.Tick()));
  CHECK(site.SegmentIds().size() < 4);
}

TEST_CASE("low space with nothing left to free waits for the interval instead of spinning") {
  TestSite site;
  const UtcMicros now = site.clock.Now();
  site.AddMinutes("door-1", now - kDay, 2);
  site.Hold({{"door-1", now - 2 * kDay, now}}, now + kDay);
  site.fs.SetSpace({10'000, 100});
  REQUIRE(site.db->RaiseAlarm(kLowSpaceAlarm, "free space 1%").ok());
  RetentionScheduler scheduler(*site.db, site.fs, site.clock, site.settings,
                               Every(60 * kMicrosPerSecond, 5 * kMicrosPerSecond));
  CHECK(Ran(scheduler.Tick()));  // frees nothing: all held
  CHECK(site.AlarmActive(kDiskFullAlarm));
  for (int i = 0; i < 10; ++i) {
    site.clock.Advance(5 * kMicrosPerSecond);
    CHECK_FALSE(Ran(scheduler.Tick()));
  }
  site.clock.Advance(10 * kMicrosPerSecond);
  CHECK(Ran(scheduler.Tick()));  // the interval
}

TEST_CASE("low space below the high watermark does not hold back the next low-space pass") {
  TestSite site;
  const UtcMicros now = site.clock.Now();
  site.AddMinutes("door-1", now - kDay, 4);
  site.fs.SetSpace({10'000, 1'500});  // 85% used: low for the recorder, not yet for retention
  REQUIRE(site.db->RaiseAlarm(kLowSpaceAlarm, "free space 15%").ok());
  RetentionScheduler scheduler(*site.db, site.fs, site.clock, site.settings,
                               Every(60 * kMicrosPerSecond, 5 * kMicrosPerSecond));
  CHECK(Ran(scheduler.Tick()));  // frees nothing: below the high watermark
  CHECK_FALSE(site.AlarmActive(kDiskFullAlarm));
  site.fs.SetSpace({10'000, 500});  // the recorder went on writing: 95% used
  site.clock.Advance(5 * kMicrosPerSecond);
  CHECK(Ran(scheduler.Tick()));  // at the next poll, not at the interval
  CHECK(site.SegmentIds().size() < 4);
}

}  // namespace
}  // namespace custodian::retention
