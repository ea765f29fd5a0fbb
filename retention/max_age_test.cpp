// The shortening delay: a shorter max age in the config waits shorten_delay_hours and is
// written to the access log; a longer one applies at once.
#include "retention/max_age.h"

#include <catch2/catch.hpp>

#include "retention/test_util.h"

namespace custodian::retention {
namespace {

using namespace testing;
using Kind = MaxAgeAction::Kind;

constexpr int64_t kDelay = 24 * kHour;

CameraMaxAge Cam(int configured, std::optional<int> effective) {
  return {"door-1", configured, effective, {}};
}

records::PolicyChangeRow Change(int64_t id, int days, UtcMicros effective) {
  records::PolicyChangeRow c;
  c.id = id;
  c.camera_id = "door-1";
  c.key = kMaxAgeChangeKey;
  c.new_value = std::to_string(days);
  c.effective = effective;
  return c;
}

std::vector<Kind> Kinds(const MaxAgeDecision& d) {
  std::vector<Kind> kinds;
  for (const MaxAgeAction& a : d.actions) kinds.push_back(a.kind);
  return kinds;
}

TEST_CASE("the first pass takes the configured max age as it is") {
  MaxAgeDecision d = DecideMaxAges({Cam(14, std::nullopt)}, kT0, kDelay);
  CHECK(Kinds(d) == std::vector<Kind>{Kind::kInitial});
  CHECK(d.effective_days["door-1"] == 14);
}

TEST_CASE("a shortened max age is scheduled and the longer one kept until it is due") {
  MaxAgeDecision d = DecideMaxAges({Cam(14, 31)}, kT0, kDelay);
  REQUIRE(Kinds(d) == std::vector<Kind>{Kind::kSchedule});
  CHECK(d.actions[0].effective == kT0 + kDelay);
  CHECK(d.actions[0].old_days == 31);
  CHECK(d.actions[0].new_days == 14);
  CHECK(d.effective_days["door-1"] == 31);

  CameraMaxAge pending = Cam(14, 31);
  pending.open_changes = {Change(5, 14, kT0 + kDelay)};
  d = DecideMaxAges({pending}, kT0 + kDelay - 1, kDelay);
  CHECK(d.actions.empty());
  CHECK(d.effective_days["door-1"] == 31);

  d = DecideMaxAges({pending}, kT0 + kDelay, kDelay);
  REQUIRE(Kinds(d) == std::vector<Kind>{Kind::kApply});
  CHECK(d.actions[0].change_id == 5);
  CHECK(d.effective_days["door-1"] == 14);
}

TEST_CASE("a clock that goes backwards postpones a pending shortening") {
  CameraMaxAge pending = Cam(14, 31);
  pending.open_changes = {Change(5, 14, kT0 + kDelay)};
  MaxAgeDecision d = DecideMaxAges({pending}, kT0 - 10 * kDay, kDelay);
  CHECK(d.actions.empty());
  CHECK(d.effective_days["door-1"] == 31);
}

TEST_CASE("a lengthened max age applies at once and cancels a pending shortening") {
  CameraMaxAge cam = Cam(60, 31);
  cam.open_changes = {Change(5, 14, kT0 + kDelay)};
  MaxAgeDecision d = DecideMaxAges({cam}, kT0, kDelay);
  CHECK(Kinds(d) == std::vector<Kind>{Kind::kLengthen, Kind::kCancel});
  CHECK(d.effective_days["door-1"] == 60);
}

TEST_CASE("reverting the config cancels the pending shortening") {
  CameraMaxAge cam = Cam(31, 31);
  cam.open_changes = {Change(5, 14, kT0 + kDelay)};
  MaxAgeDecision d = DecideMaxAges({cam}, kT0, kDelay);
  CHECK(Kinds(d) == std::vector<Kind>{Kind::kCancel});
  CHECK(d.effective_days["door-1"] == 31);
}

TEST_CASE("shortening further keeps the announced step and schedules another") {
  CameraMaxAge cam = Cam(7, 31);
  cam.open_changes = {Change(5, 14, kT0 + kDelay)};
  MaxAgeDecision d = DecideMaxAges({cam}, kT0 + kHour, kDelay);
  REQUIRE(Kinds(d) == std::vector<Kind>{Kind::kSchedule});
  CHECK(d.actions[0].new_days == 7);
  CHECK(d.actions[0].effective == kT0 + kHour + kDelay);
}

TEST_CASE("a zero delay shortens at once, still on record") {
  MaxAgeDecision d = DecideMaxAges({Cam(14, 31)}, kT0, 0);
  CHECK(Kinds(d) == std::vector<Kind>{Kind::kSchedule, Kind::kApply});
  CHECK(d.effective_days["door-1"] == 14);
}

TEST_CASE("a shortened max age deletes nothing until the delay has passed") {
  TestSite site;
  const UtcMicros now = site.clock.Now();
  const std::vector<int64_t> ids = site.AddMinutes("door-1", now - 20 * kDay, 3);
  site.Pass();  // 31 days on record
  CHECK(site.SegmentIds().size() == 3);

  site.Camera("door-1").max_age_days = 14;  // a slip: meant 41, say
  PassReport scheduled = site.Pass();
  CHECK(scheduled.effective_max_age_days["door-1"] == 31);
  CHECK(site.SegmentIds().size() == 3);
  records::AccessFilter filter;
  filter.action = "retention_policy_change";
  auto entries = site.db->QueryAccess(filter);
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 3);  // two initial values, then the scheduled shortening
  const records::AccessEntry& e = entries->front();  // newest first
  CHECK(e.user_name == "system");
  CHECK(e.camera_id == "door-1");
  CHECK_THAT(e.detail, Catch::Contains("shortening from 31 to 14 days scheduled"));
  auto verified = site.db->VerifyAccessLog();
  REQUIRE(verified.ok());
  CHECK(verified->ok);

  site.clock.Advance(kDelay - 1);
  site.Pass();
  CHECK(site.SegmentIds().size() == 3);
  site.clock.Advance(1);
  PassReport applied = site.Pass();
  CHECK(applied.effective_max_age_days["door-1"] == 14);
  CHECK(site.SegmentIds().empty());
  entries = site.db->QueryAccess(filter);
  REQUIRE(entries.ok());
  CHECK_THAT(entries->front().detail, Catch::Contains("shortened from 31 to 14 days"));
  auto setting = site.db->GetSetting(MaxAgeSettingKey("door-1"));
  REQUIRE(setting.ok());
  CHECK(setting->value_or("") == "14");
  (void)ids;
}

TEST_CASE("a lengthened max age keeps footage from the next pass on") {
  TestSite site;
  site.Camera("door-1").max_age_days = 14;
  site.Pass();
  const UtcMicros now = site.clock.Now();
  const int64_t id = site.AddSegment("door-1", now - 20 * kDay);
  site.Camera("door-1").max_age_days = 31;
  PassReport report = site.Pass();
  CHECK(report.effective_max_age_days["door-1"] == 31);
  CHECK(site.Exists(id));
}

TEST_CASE("a dry run shows the shortening it would schedule and writes nothing") {
  TestSite site;
  site.Pass();
  site.Camera("door-1").max_age_days = 14;
  PassOptions dry;
  dry.dry_run = true;
  PassReport report = site.Pass(dry);
  REQUIRE(report.max_age_actions.size() == 1);
  CHECK(report.max_age_actions[0].kind == Kind::kSchedule);
  auto open = site.db->ListOpenPolicyChanges();
  REQUIRE(open.ok());
  CHECK(open->empty());
}

}  // namespace
}  // namespace custodian::retention
