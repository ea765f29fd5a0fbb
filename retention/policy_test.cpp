// The policy as a pure function: boundaries, holds, leases, quotas, disk pressure, export
// expiry and a clock that goes backwards, with no database and no disk.
#include "retention/policy.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

namespace custodian::retention {
namespace {

using records::DeletionRule;

constexpr UtcMicros kNow{1767225600LL * kMicrosPerSecond};  // 2026-01-01T00:00:00Z
constexpr int64_t kMinute = 60 * kMicrosPerSecond;
constexpr int64_t kDay = kMicrosPerDay;

struct Builder {
  PolicyInput in;
  int64_t next_id = 1;

  Builder() {
    in.now = kNow;
    in.cameras = {{"door-1", 31 * kDay, std::nullopt}, {"yard-2", 31 * kDay, std::nullopt}};
  }
  uint32_t Cam(const std::string& id) const {
    for (uint32_t i = 0; i < in.cameras.size(); ++i) {
      if (in.cameras[i].camera_id == id) return i;
    }
    FAIL("no camera " << id);
    return 0;
  }
  int64_t Seg(const std::string& camera, UtcMicros start, int64_t duration = kMinute,
              int64_t bytes = 100) {
    in.segments.push_back({next_id, Cam(camera), start, start + duration, bytes});
    return next_id++;
  }
  // A segment whose end is exactly `age` before now.
  int64_t EndingAgo(const std::string& camera, int64_t age) {
    return Seg(camera, kNow - age - kMinute);
  }
  void Hold(int64_t id, const std::string& camera, UtcMicros from, UtcMicros to,
            UtcMicros review = kNow + 30 * kDay) {
    records::HoldRow h;
    h.id = id;
    h.reason = "incident";
    h.review = review;
    h.ranges = {{camera, from, to}};
    in.holds.push_back(h);
  }
  DeletionPlan Plan() const { return ComputePlan(in); }
};

std::set<int64_t> Ids(const DeletionPlan& p) {
  std::set<int64_t> ids;
  for (const PlannedDeletion& d : p.segments) ids.insert(d.segment_id);
  return ids;
}

std::optional<DeletionRule> RuleOf(const DeletionPlan& p, int64_t id) {
  for (const PlannedDeletion& d : p.segments) {
    if (d.segment_id == id) return d.rule;
  }
  return std::nullopt;
}

TEST_CASE("footage whose end is exactly the maximum age old is deleted") {
  Builder b;
  const int64_t at = b.EndingAgo("door-1", 31 * kDay);
  DeletionPlan p = b.Plan();
  CHECK(RuleOf(p, at) == DeletionRule::kMaxAge);
}

TEST_CASE("footage one microsecond over the maximum age is deleted, one under is kept") {
  Builder b;
  const int64_t over = b.EndingAgo("door-1", 31 * kDay + 1);
  const int64_t under = b.EndingAgo("door-1", 31 * kDay - 1);
  DeletionPlan p = b.Plan();
  CHECK(RuleOf(p, over) == DeletionRule::kMaxAge);
  CHECK_FALSE(RuleOf(p, under));
}

TEST_CASE("age is measured on a segment's end, not its start") {
  Builder b;
  // Started 31 days and 30 s ago but ends 30 s later: part of it is younger than 31 days.
  const int64_t straddling = b.Seg("door-1", kNow - 31 * kDay - 30 * kMicrosPerSecond);
  CHECK(b.Plan().segments.empty());
  (void)straddling;
}

TEST_CASE("a camera's own maximum age overrides the site's in both directions") {
  Builder b;
  b.in.cameras[b.Cam("door-1")].max_age_us = 7 * kDay;
  b.in.cameras[b.Cam("yard-2")].max_age_us = 60 * kDay;
  const int64_t door_10d = b.EndingAgo("door-1", 10 * kDay);
  const int64_t door_7d = b.EndingAgo("door-1", 7 * kDay);
  const int64_t door_6d = b.EndingAgo("door-1", 7 * kDay - 1);
  const int64_t yard_40d = b.EndingAgo("yard-2", 40 * kDay);
  const int64_t yard_60d = b.EndingAgo("yard-2", 60 * kDay);
  DeletionPlan p = b.Plan();
  CHECK(Ids(p) == std::set<int64_t>{door_10d, door_7d, yard_60d});
  CHECK_FALSE(RuleOf(p, door_6d));
  CHECK_FALSE(RuleOf(p, yard_40d));
}

TEST_CASE("retention keeps held footage past its maximum age, on any overlap") {
  Builder b;
  const UtcMicros t = kNow - 40 * kDay;
  const int64_t before = b.Seg("door-1", t - kMinute);        // ends where the hold starts
  const int64_t first = b.Seg("door-1", t);                   // overlaps the hold's start
  const int64_t inside = b.Seg("door-1", t + kMinute);        // wholly inside
  const int64_t last = b.Seg("door-1", t + 2 * kMinute);      // overlaps the hold's end
  const int64_t after = b.Seg("door-1", t + 3 * kMinute);     // starts where the hold ends
  const int64_t other_camera = b.Seg("yard-2", t + kMinute);  // same time, not held
  b.Hold(1, "door-1", t + 30 * kMicrosPerSecond, t + 3 * kMinute);
  // A second hold partly overlapping the first merges with it.
  b.Hold(2, "door-1", t + 2 * kMinute, t + 2 * kMinute + 30 * kMicrosPerSecond);
  DeletionPlan p = b.Plan();
  CHECK(Ids(p) == std::set<int64_t>{before, after, other_camera});
  CHECK(p.held_segments == 3);
  CHECK(p.expired_but_held == 3);
  (void)first, (void)inside, (void)last;
}

TEST_CASE("several holds on different cameras each keep only their own footage") {
  Builder b;
  const UtcMicros t = kNow - 40 * kDay;
  const int64_t door_a = b.Seg("door-1", t);
  const int64_t door_b = b.Seg("door-1", t + 10 * kMinute);
  const int64_t yard_a = b.Seg("yard-2", t);
  const int64_t yard_b = b.Seg("yard-2", t + 10 * kMinute);
  b.Hold(1, "door-1", t, t + kMinute);
  b.Hold(2, "yard-2", t + 10 * kMinute, t + 11 * kMinute);
  CHECK(Ids(b.Plan()) == std::set<int64_t>{door_b, yard_a});
  (void)door_a, (void)yard_b;
}

TEST_CASE("a released hold keeps nothing") {
  Builder b;
  const UtcMicros t = kNow - 40 * kDay;
  const int64_t seg = b.Seg("door-1", t);
  b.Hold(1, "door-1", t, t + kMinute);
  b.in.holds[0].released = kNow - kDay;
  b.in.holds[0].released_by = 7;
  CHECK(Ids(b.Plan()) == std::set<int64_t>{seg});
}

TEST_CASE("holds past their review date are flagged for review, not released") {
  Builder b;
  const UtcMicros t = kNow - 40 * kDay;
  const int64_t seg = b.Seg("door-1", t);
  b.Hold(1, "door-1", t, t + kMinute, kNow);         // due exactly now
  b.Hold(2, "yard-2", t, t + kMinute, kNow + 1);     // due in a microsecond
  b.Hold(3, "yard-2", t, t + kMinute, kNow - kDay);  // released, not flagged
  b.in.holds[2].released = kNow - 2 * kDay;
  DeletionPlan p = b.Plan();
  CHECK(p.holds_due_for_review == std::vector<int64_t>{1});
  CHECK_FALSE(RuleOf(p, seg));  // the overdue hold still holds
}

TEST_CASE("a quota deletes a camera's oldest unheld footage and never its held footage") {
  Builder b;
  b.in.cameras[b.Cam("door-1")].quota_bytes = 300;
  const UtcMicros t = kNow - 2 * kDay;
  std::vector<int64_t> door;
  for (int i = 0; i < 6; ++i) door.push_back(b.Seg("door-1", t + i * kMinute));
  const int64_t yard = b.Seg("yard-2", t - kMinute);  // older, but another camera
  b.Hold(1, "door-1", t, t + 2 * kMinute);            // holds door[0] and door[1]
  DeletionPlan p = b.Plan();
  // Unheld: door[2..5] = 400 bytes, quota 300: the oldest unheld one goes. Held bytes do
  // not count, so the hold does not push out newer footage.
  CHECK(Ids(p) == std::set<int64_t>{door[2]});
  CHECK(RuleOf(p, door[2]) == DeletionRule::kQuota);
  CHECK_FALSE(RuleOf(p, yard));
}

TEST_CASE(
    "disk pressure deletes the oldest unheld footage across cameras down to the low watermark") {
  Builder b;
  const UtcMicros t = kNow - 3 * kDay;
  // Interleaved across cameras, 100 bytes each: door t+0, yard t+1, door t+2, ...
  std::vector<int64_t> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(b.Seg(i % 2 ? "yard-2" : "door-1", t + i * kMinute));
  b.Hold(1, "door-1", t, t + kMinute);  // the very oldest is held
  b.in.disk = {10'000, 700};            // 93% used
  b.in.high_watermark_percent = 92;
  b.in.low_watermark_percent = 91;  // target used <= 9,100: free at least 200 bytes
  DeletionPlan p = b.Plan();
  CHECK(p.above_high_watermark);
  CHECK(p.bytes_to_free == 200);
  CHECK(Ids(p) == std::set<int64_t>{ids[1], ids[2]});
  for (const PlannedDeletion& d : p.segments) CHECK(d.rule == DeletionRule::kDiskPressure);
  CHECK_FALSE(p.disk_full);
}

TEST_CASE("disk pressure starts only above the high watermark") {
  Builder b;
  b.Seg("door-1", kNow - kDay);
  b.in.disk = {1000, 100};  // exactly 90% used
  DeletionPlan p = b.Plan();
  CHECK_FALSE(p.above_high_watermark);
  CHECK(p.segments.empty());
  b.in.disk = {1000, 99};  // 90.1%
  CHECK(b.Plan().segments.size() == 1);
}

TEST_CASE("deletions by age count towards disk pressure's target") {
  Builder b;
  const int64_t old = b.EndingAgo("door-1", 40 * kDay);
  const int64_t young = b.Seg("door-1", kNow - kDay);
  b.in.disk = {1000, 50};  // 95% used, target 85%: 100 bytes, which the aged segment frees
  DeletionPlan p = b.Plan();
  CHECK(Ids(p) == std::set<int64_t>{old});
  (void)young;
}

TEST_CASE("a full disk with only held footage raises the alarm and deletes nothing held") {
  Builder b;
  const UtcMicros t = kNow - kDay;
  b.Seg("door-1", t);
  b.Seg("yard-2", t);
  b.Hold(1, "door-1", t - kDay, kNow);
  b.Hold(2, "yard-2", t - kDay, kNow);
  b.in.disk = {1000, 10};  // 99% used
  DeletionPlan p = b.Plan();
  CHECK(p.segments.empty());
  REQUIRE(p.disk_full);
  CHECK_THAT(*p.disk_full, Catch::Contains("2 held segment(s)"));
  CHECK_THAT(*p.disk_full, Catch::Contains("nothing held is deleted"));
}

TEST_CASE("disk pressure deletes the newest unheld footage too rather than stop recording") {
  Builder b;
  const UtcMicros t = kNow - kDay;
  const int64_t held = b.Seg("door-1", t);
  const int64_t newest = b.Seg("door-1", kNow - kMinute);
  b.Hold(1, "door-1", t, t + kMinute);
  b.in.disk = {10'000, 100};
  DeletionPlan p = b.Plan();
  CHECK(Ids(p) == std::set<int64_t>{newest});
  CHECK(p.disk_full);  // still above the high watermark afterwards
  (void)held;
}

TEST_CASE("segments a reader has leased are not deleted; disk pressure takes the next oldest") {
  Builder b;
  const int64_t old_leased = b.EndingAgo("door-1", 40 * kDay);
  const int64_t first = b.Seg("door-1", kNow - 2 * kDay);
  const int64_t second = b.Seg("door-1", kNow - kDay);
  b.in.leased = {old_leased, first};
  b.in.disk = {1000, 90};  // 91%: free 60 bytes to reach 85%
  DeletionPlan p = b.Plan();
  CHECK(Ids(p) == std::set<int64_t>{second});
  CHECK(p.deferred_by_lease == 2);
}

TEST_CASE("the clock going backwards deletes nothing the later pass would not") {
  Builder b;
  std::vector<int64_t> ids;
  for (int d = 0; d < 60; ++d) ids.push_back(b.Seg(d % 2 ? "door-1" : "yard-2", kNow - d * kDay));
  // Footage stamped after "now", as after a clock step backwards.
  const int64_t future = b.Seg("door-1", kNow + 5 * kDay);
  const DeletionPlan at_now = b.Plan();
  for (int64_t back : {kMicrosPerSecond, kDay, 365 * kDay, 30 * 365 * kDay}) {
    b.in.now = kNow - back;
    const DeletionPlan earlier = b.Plan();
    const std::set<int64_t> later_ids = Ids(at_now), earlier_ids = Ids(earlier);
    CHECK(
        std::includes(later_ids.begin(), later_ids.end(), earlier_ids.begin(), earlier_ids.end()));
    CHECK_FALSE(RuleOf(earlier, future));
  }
  CHECK_FALSE(RuleOf(at_now, future));
}

TEST_CASE("odd maximum ages and extreme times never delete") {
  Builder b;
  const int64_t seg = b.Seg("door-1", UtcMicros{INT64_MIN / 2});
  for (int64_t max_age : {int64_t{0}, int64_t{-1}, -31 * kDay, INT64_MIN}) {
    b.in.cameras[0].max_age_us = max_age;
    CHECK_FALSE(RuleOf(b.Plan(), seg));
  }
  b.in.cameras[0].max_age_us = INT64_MAX;
  CHECK_FALSE(RuleOf(b.Plan(), seg));
  CHECK_FALSE(ReachedMaxAge(UtcMicros{0}, UtcMicros{INT64_MIN}, kDay));
  CHECK(ReachedMaxAge(UtcMicros{INT64_MIN}, UtcMicros{0}, kDay));
}

TEST_CASE("segments of a camera with no limits are never planned") {
  Builder b;
  b.in.segments.push_back({99, 7, kNow - 90 * kDay, kNow - 90 * kDay + kMinute, 100});
  CHECK(b.Plan().segments.empty());
}

TEST_CASE("unsorted input is planned oldest first") {
  Builder b;
  const int64_t young = b.EndingAgo("door-1", 40 * kDay);
  const int64_t old = b.EndingAgo("door-1", 50 * kDay);
  DeletionPlan p = b.Plan();
  REQUIRE(p.segments.size() == 2);
  CHECK(p.segments[0].segment_id == old);
  CHECK(p.segments[1].segment_id == young);
  REQUIRE(p.groups.size() == 1);
  CHECK(p.groups[0].segments == 2);
  CHECK(p.groups[0].from == kNow - 50 * kDay - kMinute);
  CHECK(p.groups[0].to == kNow - 40 * kDay);
}

records::ExportExpiryRow Export(int64_t id, UtcMicros created) {
  records::ExportExpiryRow e;
  e.id = id;
  e.request_id = 100 + id;
  e.path = "exports/" + std::to_string(id);
  e.created = created;
  e.bytes = 50;
  e.ranges = {{"door-1", created - kDay, created - kDay + kMinute}};
  return e;
}

TEST_CASE("exports expire after handover, or after creation when never handed over") {
  Builder b;
  b.in.export_expiry_us = 30 * kDay;
  auto never = Export(1, kNow - 30 * kDay);  // exactly 30 days after creation
  auto handed = Export(2, kNow - 40 * kDay);
  handed.last_handover = kNow - 10 * kDay;
  auto young = Export(3, kNow - 30 * kDay + 1);
  auto explicit_expiry = Export(4, kNow - kDay);
  explicit_expiry.expires = kNow;
  auto expiring = Export(5, kNow - 90 * kDay);
  expiring.expiring = true;  // the executor finishes it; not planned again
  b.in.exports = {never, handed, young, explicit_expiry, expiring};
  DeletionPlan p = b.Plan();
  CHECK(p.exports == std::vector<int64_t>{1, 4});
  CHECK(p.export_bytes == 100);
}

TEST_CASE("a hold keeps an expired export, by its request or by its footage") {
  Builder b;
  auto by_request = Export(1, kNow - 60 * kDay);
  by_request.ranges = {{"door-1", kNow - 100 * kDay, kNow - 100 * kDay + kMinute}};
  auto by_range = Export(2, kNow - 60 * kDay);
  auto free_one = Export(3, kNow - 60 * kDay);
  free_one.ranges = {{"yard-2", kNow - 61 * kDay, kNow - 61 * kDay + kMinute}};
  b.in.exports = {by_request, by_range, free_one};
  b.Hold(1, "yard-2", kNow - 200 * kDay, kNow - 199 * kDay);
  b.in.holds[0].request_id = by_request.request_id;
  const records::HoldRange r = by_range.ranges[0];
  b.Hold(2, "door-1", r.from + kMinute / 2, r.to + kMinute);
  DeletionPlan p = b.Plan();
  CHECK(p.exports == std::vector<int64_t>{3});
  CHECK(p.exports_held == 2);
}

}  // namespace
}  // namespace custodian::retention
