// The health page's figures, alarms acknowledged by a person, the viewing counts in
// /metrics, and account recovery: unlocking and one-time passwords (four-eyes for
// privileged accounts).
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "api/testing/api_fixture.h"
#include "base/testing/temp_dir.h"

namespace custodian::api::testing {
namespace {

using json = nlohmann::json;
using records::Role;

json Body(const ClientResponse& r) { return json::parse(r.body); }

TEST_CASE("api the health page shows each alarm in words, and an acknowledgement is logged "
          "with who made it") {
  ApiServerFixture f;
  f.AddUser("ann", Role::kManager, {"door-1"});
  SignedIn ann = f.Login("ann");
  auto raised = f.db().RaiseAlarm("camera_offline:door-1", "no pictures received");
  REQUIRE(raised.ok());

  auto health = f.Get("/api/v1/health", ann);
  REQUIRE(health.status == 200);
  json h = Body(health);
  REQUIRE(h["alarms"].size() == 1);
  CHECK(h["alarms"][0]["title"].get<std::string>().find("is offline") != std::string::npos);
  CHECK(h["alarms"][0]["what_to_do"].get<std::string>().find("RTSP") != std::string::npos);
  CHECK(h["alarms"][0]["acknowledged"].is_null());
  CHECK(h["cameras"].is_array());
  CHECK(h["disk"]["total_bytes"].get<uint64_t>() > 0);
  CHECK(h["clock"].contains("synchronized"));

  auto ack = f.Call("POST", "/api/v1/alarms/" + std::to_string(*raised) + "/acknowledge", ann);
  REQUIRE(ack.status == 200);
  CHECK(Body(ack)["acknowledged_by"] == "ann (manager)");
  records::AccessEntry entry = f.LastAccess();
  CHECK(entry.action == "alarm_acknowledge");
  CHECK(entry.detail.find("camera_offline:door-1") != std::string::npos);
  // Once is enough: the first person's name stays.
  auto again = f.Call("POST", "/api/v1/alarms/" + std::to_string(*raised) + "/acknowledge", ann);
  CHECK(again.status == 409);

  auto banner = f.Get("/api/v1/alarms", ann);
  REQUIRE(banner.status == 200);
  REQUIRE(Body(banner)["alarms"].size() == 1);
  CHECK(Body(banner)["alarms"][0]["acknowledged_by"] == "ann (manager)");

  // Cleared: no longer open, still on the page with its times.
  f.clock.Advance(60 * kSecond);
  REQUIRE(f.db().ClearAlarm("camera_offline:door-1").ok());
  CHECK(Body(f.Get("/api/v1/alarms", ann))["alarms"].empty());
  json cleared = Body(f.Get("/api/v1/health", ann))["alarms"][0];
  CHECK(cleared["cleared"] == "2026-01-01T01:01:00.000000Z");
}

TEST_CASE("api /metrics counts viewing entries and open alarms") {
  ApiServerFixture f;
  f.AddUser("root", Role::kAdmin);
  SignedIn root = f.Login("root");
  REQUIRE(f.db().RaiseAlarm("disk_full", "only held footage").ok());
  auto metrics = f.Get("/metrics", root);
  REQUIRE(metrics.status == 200);
  CHECK(metrics.body.find("custodian_viewing_entries_total{entry=\"start\"} 0") != std::string::npos);
  CHECK(metrics.body.find("custodian_alarms_open{kind=\"disk_full\"} 1") != std::string::npos);
  CHECK(metrics.body.find("custodian_disk_free_bytes ") != std::string::npos);
}

// A recorded segment with what the health figures read: its bytes and camera clock offset.
void RecordSegment(ApiServerFixture& f, const std::string& camera, UtcMicros start, int64_t bytes,
                   std::optional<int64_t> clock_offset_us) {
  records::SegmentRow row;
  row.camera_id = camera;
  row.start = start;
  row.path = "footage/" + camera + "/" + std::to_string(start.us) + ".mp4";
  row.video_codec = "h264";
  row.clock_offset_us = clock_offset_us;
  auto id = f.db().BeginSegment(row);
  REQUIRE(id.ok());
  records::SegmentFinish fin;
  fin.end = start + 60 * kSecond;
  fin.bytes = bytes;
  fin.duration_us = 60 * kSecond;
  fin.sha256 = std::string(64, 'a');
  fin.video_codec = "h264";
  REQUIRE(f.db().FinishSegment(*id, fin).ok());
}

TEST_CASE("api the health page says when the site does not watch the appliance's clock") {
  // A real install watches it (no site file here: the defaults).
  {
    ApiServerFixture f;
    f.AddUser("ann", Role::kManager, {"door-1"});
    json h = Body(f.Get("/api/v1/health", f.Login("ann")));
    CHECK(h["clock"]["watched"] == true);
  }
  // The demo's site file says its clock cannot be synchronised (a container without NTP):
  // the page shows the clock as not watched, and still whether it is synchronised.
  custodian::testing::TempDir dir("custodian-health");
  std::ofstream(dir.File("site.yaml"))
      << "site: { name: \"Clock test\" }\n"
      << "data_dir: data\n"
      << "alarms: { clock_sync_watched: false }\n"
      << "cameras:\n  - id: door-1\n    url: rtsp://127.0.0.1:9/d\n";
  FixtureOptions o;
  o.site_config_path = dir.File("site.yaml");
  ApiServerFixture f(o);
  f.AddUser("ann", Role::kManager, {"door-1"});
  json h = Body(f.Get("/api/v1/health", f.Login("ann")));
  CHECK(h["clock"]["watched"] == false);
  CHECK(h["clock"].contains("synchronized"));
}

TEST_CASE(
    "api the health page gives each camera's clock, its days of footage against its "
    "retention, and whether the reader may fetch its live still") {
  ApiServerFixture f;
  f.AddUser("ann", Role::kManager, {"door-1"});
  f.AddUser("root", Role::kAdmin);
  SignedIn ann = f.Login("ann");
  const UtcMicros now = f.clock.Now();
  // Four hours of recording: enough to measure a daily rate over.
  RecordSegment(f, "door-1", {now.us - 4 * 3600 * kSecond}, 1'000'000'000, 30'400'000);
  RecordSegment(f, "yard", {now.us - 4 * 3600 * kSecond}, 1'000'000, std::nullopt);  // no reports
  // A retention no disk here can hold at a gigabyte a day.
  REQUIRE(f.db().SetSetting("retention.max_age_days.door-1", "1000000", std::nullopt).ok());

  json h = Body(f.Get("/api/v1/health", ann));
  REQUIRE(h["cameras"].size() == 2);
  json door = h["cameras"][0]["id"] == "door-1" ? h["cameras"][0] : h["cameras"][1];
  json yard = h["cameras"][0]["id"] == "yard" ? h["cameras"][0] : h["cameras"][1];
  CHECK(door["clock"]["state"] == "adrift");
  CHECK(door["clock"]["offset_us"] == 30'400'000);
  CHECK(door["clock"]["limit_us"] == 2'000'000);
  CHECK(door["clock"]["text"] == "camera clock 30 s ahead of the appliance's clock");
  CHECK(yard["clock"]["state"] == "unknown");
  CHECK(yard["clock"]["text"] == "camera clock unknown");
  CHECK(door["stored_bytes"] == 1'000'000'000);
  REQUIRE(door["footage_days"].is_number());
  CHECK(door["footage_days"].get<double>() > 0);
  CHECK(door["short_of_retention"] == true);
  CHECK(yard["short_of_retention"] == false);  // its retention is not known yet
  CHECK(h["disk"]["footage_room_bytes"].is_number());
  // A still is footage: ann may fetch door-1's, not the yard's; an admin none.
  CHECK(door["may_view"] == true);
  CHECK(yard["may_view"] == false);
  SignedIn root = f.Login("root");
  json admin_view = Body(f.Get("/api/v1/health", root));
  for (const auto& c : admin_view["cameras"]) CHECK(c["may_view"] == false);

  // The camera page shows the same clock.
  json cameras = Body(f.Get("/api/v1/cameras", ann))["cameras"];
  REQUIRE(cameras.size() == 1);
  CHECK(cameras[0]["clock"]["state"] == "adrift");

  // And /metrics the same figures.
  auto metrics = f.Get("/metrics", root);
  REQUIRE(metrics.status == 200);
  CHECK(metrics.body.find("custodian_camera_clock_offset_seconds{camera=\"door-1\"} 30.400") !=
        std::string::npos);
  CHECK(metrics.body.find("custodian_camera_clock_offset_seconds{camera=\"yard\"}") ==
        std::string::npos);
  CHECK(metrics.body.find("custodian_camera_retention_days{camera=\"door-1\"} 1000000\n") !=
        std::string::npos);
  CHECK(metrics.body.find("custodian_camera_footage_days{camera=\"door-1\"} ") !=
        std::string::npos);
  CHECK(metrics.body.find("custodian_disk_days_left ") != std::string::npos);
  // A gigabyte in four hours is six a day, not one.
  CHECK(door["bytes_per_day"].get<double>() == Approx(6e9));
  CHECK(h["disk"]["footage_bytes_per_day"].get<double>() == Approx(6e9 + 6e6));
  CHECK(h["disk"]["days_left"].is_number());
  CHECK(door["footage_days_from"].is_null());

  // A camera recording for ten minutes: its days, and the disk's, wait for three hours of
  // recording, and the page is told when that will be.
  REQUIRE(f.db().UpsertCamera({"porch", "Porch", {}}).ok());
  RecordSegment(f, "porch", {now.us - 600 * kSecond}, 50'000'000, std::nullopt);
  h = Body(f.Get("/api/v1/health", ann));
  json porch;
  for (const auto& c : h["cameras"]) {
    if (c["id"] == "porch") porch = c;
  }
  REQUIRE(porch.is_object());
  CHECK(porch["footage_days"].is_null());
  CHECK(porch["bytes_per_day"].is_null());
  CHECK(porch["footage_days_from"] == At(UtcMicros{now.us - 600 * kSecond + 3 * 3600 * kSecond}));
  CHECK(h["disk"]["days_left"].is_null());
  CHECK(h["disk"]["days_left_from"] == porch["footage_days_from"]);
  CHECK(h["disk"]["rate_min_hours"] == 3);
  metrics = f.Get("/metrics", root);
  CHECK(metrics.body.find("custodian_disk_days_left ") == std::string::npos);
}

TEST_CASE("api an admin unlocks an account locked by failed sign-ins, and it is logged") {
  ApiServerFixture f;
  f.AddUser("root", Role::kAdmin);
  const int64_t lee = f.AddUser("lee", Role::kStaff);
  for (int i = 0; i < 5; ++i) {
    f.Call("POST", "/api/v1/auth/login", std::nullopt,
           json{{"name", "lee"}, {"password", "wrong password!"}}.dump());
  }
  REQUIRE((*f.db().GetUserByName("lee"))->locked_until.has_value());
  SignedIn root = f.Login("root");
  auto unlocked = f.Call("POST", "/api/v1/users/" + std::to_string(lee) + "/unlock", root);
  REQUIRE(unlocked.status == 200);
  CHECK(Body(unlocked)["was_locked"] == true);
  CHECK(f.LastAccess().action == "account_unlock");
  auto login = f.Call("POST", "/api/v1/auth/login", std::nullopt,
                      json{{"name", "lee"}, {"password", ApiServerFixture::PasswordOf("lee")}}.dump());
  CHECK(login.status == 200);
}

TEST_CASE("api a password reset gives a one-time password that must be changed at next sign-in") {
  ApiServerFixture f;
  f.AddUser("root", Role::kAdmin);
  const int64_t sam = f.AddUser("sam", Role::kStaff, {"door-1"});
  SignedIn sam_session = f.Login("sam");
  SignedIn root = f.Login("root");
  auto reset = f.Call("POST", "/api/v1/users/" + std::to_string(sam) + "/password-reset", root);
  REQUIRE(reset.status == 200);
  const std::string one_time = Body(reset)["one_time_password"];
  CHECK(one_time.size() >= 20);
  CHECK(Body(reset)["must_change_password"] == true);
  CHECK(f.LastAccess().action == "password_reset");
  for (const auto& e : f.AccessLog()) CHECK(e.detail.find(one_time) == std::string::npos);
  // The old session is gone, the old password no longer works.
  CHECK(f.Get("/api/v1/auth/session", sam_session).status == 401);
  auto old = f.Call("POST", "/api/v1/auth/login", std::nullopt,
                    json{{"name", "sam"}, {"password", ApiServerFixture::PasswordOf("sam")}}.dump());
  CHECK(old.status == 401);
  auto fresh = f.Call("POST", "/api/v1/auth/login", std::nullopt,
                      json{{"name", "sam"}, {"password", one_time}}.dump());
  REQUIRE(fresh.status == 200);
  CHECK(Body(fresh)["user"]["must_change_password"] == true);
  // Not one's own: that is a password change.
  auto self = f.Call("POST", "/api/v1/users/" + std::to_string((*f.db().GetUserByName("root"))->id) +
                                 "/password-reset", root);
  CHECK(self.status == 409);
}

TEST_CASE("api an admin alone who resets a manager's password gets a staff account: another "
          "admin or the dpo confirms the role again") {
  ApiServerFixture f;
  f.AddUser("root", Role::kAdmin);
  f.AddUser("dee", Role::kDpo);
  const int64_t max = f.AddUser("max", Role::kManager, {"door-1"});
  SignedIn root = f.Login("root");
  auto reset = f.Call("POST", "/api/v1/users/" + std::to_string(max) + "/password-reset", root);
  REQUIRE(reset.status == 200);
  json r = Body(reset);
  CHECK(r["role"] == "staff");
  REQUIRE(r.contains("pending_grant"));
  CHECK(r["pending_grant"]["role"] == "manager");
  const int64_t grant = r["pending_grant"]["id"];
  // The admin who reset it cannot confirm the role; the dpo can.
  auto own = f.Call("POST", "/api/v1/role-grants/" + std::to_string(grant) + "/decision", root,
                    json{{"confirm", true}}.dump());
  CHECK(own.status == 403);
  SignedIn dee = f.Login("dee");
  auto confirmed = f.Call("POST", "/api/v1/role-grants/" + std::to_string(grant) + "/decision",
                          dee, json{{"confirm", true}}.dump());
  CHECK(confirmed.status == 200);
  CHECK((*f.db().GetUserById(max))->role == Role::kManager);
}

}  // namespace
}  // namespace custodian::api::testing
