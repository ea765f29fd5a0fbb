// The health page's figures, alarms acknowledged by a person, the viewing counts in
// /metrics, and account recovery: unlocking and one-time passwords (four-eyes for
// privileged accounts).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "api/testing/api_fixture.h"

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
