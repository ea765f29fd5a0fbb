// Hostile and malformed input: bad JSON, oversized requests, traversal, SQL
// metacharacters, absurd time ranges, malformed HTTP; plus health, headers and shutdown.
#include <chrono>
#include <nlohmann/json.hpp>

#include "api/testing/api_fixture.h"

namespace custodian::api::testing {
namespace {

using records::Role;
using json = nlohmann::json;

void CheckJsonError(const ClientResponse& r, int status) {
  INFO(r.body);
  CHECK(r.status == status);
  auto j = json::parse(r.body, nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["error"]["code"].is_string());
  CHECK(j["error"]["message"].is_string());
  for (const char* leak : {"SELECT", "INSERT", "sqlite", "records:", "terminate", "what()"}) {
    CHECK(r.body.find(leak) == std::string::npos);
  }
}

TEST_CASE("api malformed JSON bodies are refused with a JSON error") {
  ApiServerFixture f;
  f.AddUser("admin", Role::kAdmin);
  SignedIn admin = f.Login("admin");
  for (const std::string& body : std::vector<std::string>{
           "{not json", "[]", "\"text\"", "", "{\"name\": 5, \"password\": []}",
           "{\"name\": \"a\"}", std::string("{\"name\":\"\xff\xfe\"}")}) {
    INFO(body);
    CheckJsonError(f.Call("POST", "/api/v1/auth/login", std::nullopt, body), 400);
  }
  CheckJsonError(f.Call("PATCH", "/api/v1/users/1", admin, "{\"disabled\": \"yes\"}"), 400);
  CheckJsonError(f.Call("PUT", "/api/v1/users/1/cameras", admin, "{\"cameras\": \"door-1\"}"), 400);
  CheckJsonError(f.Call("PUT", "/api/v1/users/1/cameras", admin, "{\"cameras\": [\"../../etc\"]}"),
                 400);
}

TEST_CASE("api oversized headers and bodies are refused at the edge") {
  ApiServerFixture f;
  auto big_header = f.Get("/healthz", std::nullopt, {{"X-Padding", std::string(20000, 'a')}});
  CheckJsonError(big_header, 431);
  auto big_target = f.Get("/api/v1/cameras?" + std::string(20000, 'q'));
  CHECK(big_target.status == 431);
  auto big_body = f.Call("POST", "/api/v1/auth/login", std::nullopt,
                         "{\"name\":\"" + std::string(200000, 'x') + "\"}");
  CheckJsonError(big_body, 413);
  // The server is still serving afterwards.
  CHECK(f.Get("/healthz").status == 200);
}

TEST_CASE("api malformed HTTP is answered with 400 and the connection closed") {
  ApiServerFixture f;
  auto r = f.client().SendRaw("GARBAGE\r\n\r\n");
  CHECK(r.status == 400);
  auto bad_len = f.client().SendRaw(
      "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n");
  CHECK(bad_len.status == 400);
  CHECK(f.Get("/healthz").status == 200);
}

TEST_CASE("api path traversal in ids never reaches a file") {
  ApiServerFixture f;
  f.AddUser("sam", Role::kStaff, {"door-1"});
  f.AddSegment("door-1", kFootageT0);
  SignedIn sam = f.Login("sam");
  for (const std::string& target : std::vector<std::string>{
           "/api/v1/segments/..%2F..%2F..%2Fetc%2Fpasswd/file", "/api/v1/segments/1%00/file",
           "/api/v1/segments/..;/file", "/api/v1/cameras/..%2F..%2Fetc/timeline",
           "/api/v1/cameras/door-1%2F..%2Fyard/timeline", "/../../etc/passwd",
           "/static/%2e%2e/%2e%2e/etc/passwd"}) {
    INFO(target);
    auto r = f.Get(target + "?" + PurposeParams(), sam);
    CHECK((r.status == 400 || r.status == 404));
    CHECK(r.body.find("root:") == std::string::npos);
  }
  CheckJsonError(f.Get("/api/v1/segments/999999/file?" + PurposeParams(), sam), 404);
  CHECK(f.LastAccess().detail == "no segment 999999");
}

TEST_CASE("api SQL metacharacters are data, never code") {
  ApiServerFixture f;
  f.AddUser("dpo", Role::kDpo, {"door-1"});
  SignedIn dpo = f.Login("dpo");
  CheckJsonError(f.Call("POST", "/api/v1/auth/login", std::nullopt,
                        json{{"name", "dpo' OR '1'='1"}, {"password", "' OR '1'='1"}}.dump()),
                 401);
  CHECK(f.LastAccess().user_name == "dpo' OR '1'='1");
  auto q = f.Get("/api/v1/access-log?action=x%27%20OR%20%271%27%3D%271", dpo);
  REQUIRE(q.status == 200);
  CHECK(json::parse(q.body)["entries"].empty());
  auto u = f.Get("/api/v1/access-log?user=%27%3B%20DROP%20TABLE%20users%3B%20--", dpo);
  CHECK(u.status == 200);
  CheckJsonError(f.Get("/api/v1/access-log?camera=door-1%27--", dpo), 400);
  CheckJsonError(f.Get("/api/v1/access-log?limit=1%3BDELETE", dpo), 400);
  CHECK(f.db().ListUsers()->size() == 1);
  auto verified = f.db().VerifyAccessLog();
  CHECK(verified->ok);
}

TEST_CASE("api inverted, enormous and malformed time ranges are refused") {
  ApiServerFixture f;
  f.AddUser("sam", Role::kStaff, {"door-1"});
  f.AddUser("dpo", Role::kDpo);
  SignedIn sam = f.Login("sam");
  const std::string t0 = At(kFootageT0), t1 = At(kFootageT0 + kSecond);
  for (const std::string& q : std::vector<std::string>{
           "from=" + t1 + "&to=" + t0, "from=" + t0 + "&to=" + t0,
           "from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from=yesterday&to=" + t1,
           "from=" + t0, "from=-99999999-01-01T00:00:00Z&to=" + t1,
           "from=" + t0 + "&to=99999-12-31T23:59:59Z"}) {
    INFO(q);
    CheckJsonError(f.Get("/api/v1/cameras/door-1/timeline?" + q, sam), 400);
    CheckJsonError(f.Get("/api/v1/cameras/door-1/playlist.m3u8?" + q + "&" + PurposeParams(), sam),
                   400);
  }
  CHECK(f.LastAccess().action == "play");
  CHECK(f.LastAccess().result == records::AccessResult::kDenied);
  CheckJsonError(f.Get("/api/v1/cameras/door-1/thumbnail.jpg?at=soon&" + PurposeParams(), sam),
                 400);
  CheckJsonError(f.Get("/api/v1/deletions?from=" + t1 + "&to=" + t0, f.Login("dpo")), 400);
}

TEST_CASE("api answers unknown routes and methods with JSON errors and security headers") {
  ApiServerFixture f;
  auto health = f.Get("/healthz");
  REQUIRE(health.status == 200);
  CHECK(json::parse(health.body)["status"] == "ok");
  CHECK(health.Header("content-security-policy").find("default-src 'self'") != std::string::npos);
  CHECK(health.Header("x-content-type-options") == "nosniff");
  CHECK(health.Header("referrer-policy") == "no-referrer");
  CHECK(health.Header("cache-control") == "no-store");
  CHECK(health.Header("strict-transport-security").find("max-age=") != std::string::npos);
  CHECK(health.Header("server").empty());
  CheckJsonError(f.Get("/api/v1/nothing-here"), 404);
  auto wrong = f.Call("DELETE", "/api/v1/cameras");
  CheckJsonError(wrong, 405);
  CHECK(wrong.Header("allow") == "GET, POST");
  CheckJsonError(f.Get("/"), 404);  // the web UI hook, until it is installed
  f.AddUser("admin", records::Role::kAdmin);
  auto metrics = f.Get("/metrics", f.Login("admin"));
  REQUIRE(metrics.status == 200);
  CHECK(metrics.body.find("custodian_http_requests_total{route=\"healthz\",status=\"2xx\"}") !=
        std::string::npos);
}

TEST_CASE("api keeps connections alive and shuts down gracefully with connections open") {
  auto f = std::make_unique<ApiServerFixture>();
  f->AddUser("admin", records::Role::kAdmin);
  const SignedIn admin = f->Login("admin");
  for (int i = 0; i < 20; ++i) REQUIRE(f->Get("/healthz").status == 200);
  auto connections = f->Get("/metrics", admin).body;
  CHECK(connections.find("custodian_http_connections_total 1\n") != std::string::npos);
  const auto start = std::chrono::steady_clock::now();
  f->server().Stop();  // the client's idle keep-alive connection is closed, not waited for
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1500));
  CHECK(f->client().Send("GET", "/healthz").status == 0);
}

}  // namespace
}  // namespace custodian::api::testing
