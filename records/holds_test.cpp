#include "records/test_util.h"

using namespace custodian;
using namespace custodian::records;
using namespace custodian::records::testing;

namespace {

HoldRow Hold(int64_t owner, UtcMicros review, std::vector<HoldRange> ranges) {
  HoldRow h;
  h.reason = "insurance claim 42";
  h.owner_user_id = owner;
  h.review = review;
  h.ranges = std::move(ranges);
  return h;
}

}  // namespace

TEST_CASE("a hold keeps its ranges and covers overlapping footage only while active") {
  TestDb t;
  Database& db = *t.db;
  REQUIRE(db.UpsertCamera({"yard", "Yard", {}}).ok());
  auto id = db.CreateHold(
      Hold(t.manager_id, kT0 + kMicrosPerDay,
           {{"door-1", kT0, kT0 + 10 * kMinute}, {"yard", kT0 + 5 * kMinute, kT0 + 6 * kMinute}}));
  REQUIRE(id.ok());
  auto got = db.GetHold(*id);
  REQUIRE(got.ok());
  REQUIRE((*got)->ranges.size() == 2);
  REQUIRE((*got)->created == kT0);
  REQUIRE(db.ActiveHoldRanges()->size() == 2);

  REQUIRE(*db.IsSegmentHeld("door-1", kT0 - kMinute, kT0 + 1));
  REQUIRE_FALSE(*db.IsSegmentHeld("door-1", kT0 - kMinute, kT0));
  REQUIRE_FALSE(*db.IsSegmentHeld("door-1", kT0 + 10 * kMinute, kT0 + 11 * kMinute));
  REQUIRE(*db.IsSegmentHeld("yard", kT0 + 5 * kMinute + 30, kT0 + 5 * kMinute + 40));
  REQUIRE_FALSE(*db.IsSegmentHeld("yard", kT0, kT0 + kMinute));

  t.clock.Advance(kMinute);
  REQUIRE(db.ReleaseHold(*id, t.manager_id).ok());
  REQUIRE(db.ReleaseHold(*id, t.manager_id).kind() == ErrorKind::kFailedPrecondition);
  REQUIRE_FALSE(*db.IsSegmentHeld("door-1", kT0, kT0 + kMinute));
  REQUIRE(db.ActiveHoldRanges()->empty());
  REQUIRE(db.ListActiveHolds()->empty());
  auto released = *db.GetHold(*id);
  REQUIRE(released->released == kT0 + kMinute);
  REQUIRE(released->released_by == t.manager_id);
}

TEST_CASE("holds due for review are the active ones whose review time has come") {
  TestDb t;
  Database& db = *t.db;
  auto soon = db.CreateHold(Hold(t.manager_id, kT0 + kMicrosPerDay, {{"door-1", kT0, kT0 + 1}}));
  auto later =
      db.CreateHold(Hold(t.manager_id, kT0 + 30 * kMicrosPerDay, {{"door-1", kT0, kT0 + 1}}));
  REQUIRE(db.HoldsDueForReview()->empty());
  t.clock.Advance(2 * kMicrosPerDay);
  auto due = db.HoldsDueForReview();
  REQUIRE(due->size() == 1);
  REQUIRE(due->front().id == *soon);
  REQUIRE(due->front().ranges.size() == 1);
  REQUIRE(db.SetHoldReview(*soon, kT0 + 60 * kMicrosPerDay).ok());
  REQUIRE(db.HoldsDueForReview()->empty());
  REQUIRE(db.ListActiveHolds()->size() == 2);
  REQUIRE(later.ok());
}

TEST_CASE("a hold without a reason, owner or range is refused and leaves nothing behind") {
  TestDb t;
  Database& db = *t.db;
  REQUIRE(db.CreateHold(Hold(t.manager_id, kT0, {})).status().kind() ==
          ErrorKind::kInvalidArgument);
  REQUIRE(db.CreateHold(Hold(999, kT0, {{"door-1", kT0, kT0 + 1}})).status().kind() ==
          ErrorKind::kFailedPrecondition);
  HoldRow no_reason = Hold(t.manager_id, kT0, {{"door-1", kT0, kT0 + 1}});
  no_reason.reason = "";
  REQUIRE_FALSE(db.CreateHold(no_reason).ok());
  // The second range is empty: the whole hold, first range included, is rolled back.
  REQUIRE(db.CreateHold(Hold(t.manager_id, kT0, {{"door-1", kT0, kT0 + 1}, {"door-1", kT0, kT0}}))
              .status()
              .kind() == ErrorKind::kFailedPrecondition);
  REQUIRE(db.ListActiveHolds()->empty());
  REQUIRE(db.ActiveHoldRanges()->empty());
}
