// Activity routes: the heat strip, active stretches and search by region, read from the
// index files beside the segments, each call admitted and logged as footage access.
#include <nlohmann/json.hpp>

#include "activity/activity_file.h"
#include "api/testing/api_fixture.h"

namespace custodian::api::testing {
namespace {

using records::AccessResult;
using records::Role;
using json = nlohmann::json;

// door-1: two 4 s segments from T0 with indexes; in the first someone moves in the top-left
// cell during seconds 1-2, in the second in the bottom-right cell during second 3. A third
// segment at T0 + 8 s has no index.
struct IndexedFootage {
  IndexedFootage() {
    f.AddUser("sam", Role::kStaff, {"door-1"});
    f.AddUser("kim", Role::kStaff, {"yard"});
    a = f.AddSegment("door-1", kFootageT0);
    b = f.AddSegment("door-1", kFootageT0 + 4 * kSecond);
    f.AddSegment("door-1", kFootageT0 + 8 * kSecond);
    activity::SegmentActivity first;
    first.scores = {0, 120, 200, 0};
    activity::GridSpan top_left{1, 3, {}};
    top_left.cells.Set(0, 0);
    first.grids.push_back(top_left);
    activity::SegmentActivity second;
    second.scores = {0, 0, 0, 90};
    activity::GridSpan bottom_right{3, 4, {}};
    bottom_right.cells.Set(15, 8);
    second.grids.push_back(bottom_right);
    PosixFilesystem fs;
    REQUIRE(activity::WriteActivityFile(fs, IndexPath(a), first).ok());
    REQUIRE(activity::WriteActivityFile(fs, IndexPath(b), second).ok());
    sam = f.Login("sam");
  }
  std::string IndexPath(int64_t id) { return activity::ActivityPathFor(f.SegmentFilePath(id)); }

  ApiServerFixture f;
  int64_t a = 0, b = 0;
  SignedIn sam;
  const std::string range = "from=" + At(kFootageT0) + "&to=" + At(kFootageT0 + 12 * kSecond);
};

TEST_CASE("api activity gives the heat strip and the active stretches, logged with its purpose") {
  IndexedFootage t;
  auto r = t.f.Get("/api/v1/cameras/door-1/activity?" + t.range + "&buckets=3&" + PurposeParams(),
                   t.sam);
  REQUIRE(r.status == 200);
  const json body = json::parse(r.body);
  CHECK(body["buckets"] == json::array({200, 90, -1}));
  // Seconds 1-2 and 7 are less than 10 s apart: one stretch, busiest at second 2.
  REQUIRE(body["active"].size() == 1);
  CHECK(body["active"][0]["start"] == At(kFootageT0 + kSecond));
  CHECK(body["active"][0]["end"] == At(kFootageT0 + 8 * kSecond));
  CHECK(body["active"][0]["peak"] == At(kFootageT0 + 2 * kSecond));
  CHECK(body["active"][0]["score"] == 200);
  CHECK(body["segments"] == 3);
  CHECK(body["segments_without_index"] == 1);
  const records::AccessEntry e = t.f.LastAccess();
  CHECK(e.action == "activity");
  CHECK(e.user_name == "sam");
  CHECK(e.camera_id == "door-1");
  CHECK(e.purpose_category == "incident_review");
  CHECK(e.result == AccessResult::kOk);
}

TEST_CASE("api search by region finds movement in the boxes only, newest first") {
  IndexedFootage t;
  const std::string search = "/api/v1/cameras/door-1/activity/search?" + t.range + "&";
  auto top_left = t.f.Get(search + "regions=0,0,0.1,0.1&" + PurposeParams(), t.sam);
  REQUIRE(top_left.status == 200);
  json moments = json::parse(top_left.body)["moments"];
  REQUIRE(moments.size() == 1);
  CHECK(moments[0]["peak"] == At(kFootageT0 + 2 * kSecond));
  CHECK(moments[0]["segment"] == t.a);
  CHECK(t.f.LastAccess().action == "activity_search");
  CHECK(t.f.LastAccess().result == AccessResult::kOk);

  auto both = t.f.Get(search + "regions=0,0,0.1,0.1;0.9,0.9,1,1&" + PurposeParams(), t.sam);
  REQUIRE(both.status == 200);
  moments = json::parse(both.body)["moments"];
  REQUIRE(moments.size() == 1);  // 4 s apart: one moment from the first to the last
  CHECK(moments[0]["start"] == At(kFootageT0 + kSecond));
  CHECK(moments[0]["end"] == At(kFootageT0 + 8 * kSecond));

  auto middle = t.f.Get(search + "regions=0.4,0.4,0.6,0.6&" + PurposeParams(), t.sam);
  REQUIRE(middle.status == 200);
  CHECK(json::parse(middle.body)["moments"].empty());
}

TEST_CASE("api activity is refused without a purpose, a permission or good boxes, and logged") {
  IndexedFootage t;
  const std::string search = "/api/v1/cameras/door-1/activity/search?" + t.range;
  auto no_purpose = t.f.Get(search + "&regions=0,0,1,1", t.sam);
  CHECK(no_purpose.status == 400);
  CHECK(t.f.LastAccess().result == AccessResult::kDenied);

  auto bad_box = t.f.Get(search + "&regions=0,0,2,1&" + PurposeParams(), t.sam);
  CHECK(bad_box.status == 400);
  CHECK(json::parse(bad_box.body)["error"]["message"].get<std::string>().find("regions") !=
        std::string::npos);
  CHECK(t.f.LastAccess().action == "activity_search");
  CHECK(t.f.LastAccess().result != AccessResult::kOk);

  auto too_long = t.f.Get("/api/v1/cameras/door-1/activity?from=" + At(kFootageT0) +
                              "&to=" + At(kFootageT0 + 32 * kMicrosPerDay) + "&" + PurposeParams(),
                          t.sam);
  CHECK(too_long.status == 400);

  SignedIn kim = t.f.Login("kim");
  auto other = t.f.Get("/api/v1/cameras/door-1/activity?" + t.range + "&" + PurposeParams(), kim);
  CHECK(other.status == 403);
  CHECK(t.f.LastAccess().user_name == "kim");
  CHECK(t.f.LastAccess().result == AccessResult::kDenied);
  CHECK(other.body.find("buckets") == std::string::npos);
}

}  // namespace
}  // namespace custodian::api::testing
