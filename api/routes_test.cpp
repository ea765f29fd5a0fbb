#include "api/routes.h"

#include <catch2/catch.hpp>

namespace custodian::api {
namespace {

using records::Role;

Result<RouteMatch> Match(Method m, const std::string& path) {
  std::string allowed;
  return MatchRoute(m, path, &allowed);
}

TEST_CASE("api route table lists every route once, in enum order") {
  const auto& table = RouteTable();
  for (size_t i = 0; i < table.size(); ++i) {
    CHECK(static_cast<size_t>(table[i].id) == i);
    CHECK(std::string(table[i].action) != "");
  }
}

TEST_CASE("api router matches every route's own pattern with sample parameters") {
  for (const RouteSpec& r : RouteTable()) {
    std::string path = r.pattern;
    auto replace = [&](const std::string& from, const std::string& to) {
      auto at = path.find(from);
      if (at != std::string::npos) path.replace(at, from.size(), to);
    };
    replace("{camera}", "door-1");
    replace("{segment}", "12");
    replace("{user}", "7");
    replace("{hold}", "3");
    replace("{request}", "5");
    replace("{export}", "9");
    replace("{redaction}", "4");
    replace("{grant}", "5");
    replace("{alarm}", "6");
    replace("{asset...}", "app/main.js");
    auto m = Match(r.method, path);
    INFO(path);
    REQUIRE(m.ok());
    CHECK(m->route->id == r.id);
  }
}

TEST_CASE("api router types path parameters") {
  auto m = Match(Method::kGet, "/api/v1/cameras/door-1/timeline");
  REQUIRE(m.ok());
  CHECK(m->params.camera == "door-1");
  auto s = Match(Method::kGet, "/api/v1/segments/42/file");
  REQUIRE(s.ok());
  CHECK(*s->params.id == 42);
}

TEST_CASE("api router refuses traversal, metacharacters and odd numbers in ids") {
  for (const char* path :
       {"/api/v1/segments/../file", "/api/v1/segments/..%2F..%2Fetc/file",
        "/api/v1/segments/-1/file", "/api/v1/segments/0/file", "/api/v1/segments/007/file",
        "/api/v1/segments/1e3/file", "/api/v1/segments/9999999999999999999/file",
        "/api/v1/cameras/door';DROP TABLE users;--/timeline", "/api/v1/cameras/Door-1/timeline",
        "/api/v1/cameras/%2e%2e/timeline", "/api/v1/users/1%20OR%201=1/cameras"}) {
    INFO(path);
    auto m = Match(Method::kGet, path);
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().kind() != ErrorKind::kOk);
  }
  CHECK(Match(Method::kGet, "/api/v1/segments/../file").status().kind() ==
        ErrorKind::kInvalidArgument);
}

TEST_CASE(
    "api router answers unknown paths with not found and wrong methods with the allowed ones") {
  CHECK(Match(Method::kGet, "/api/v1/nothing").status().kind() == ErrorKind::kNotFound);
  CHECK(Match(Method::kGet, "/api/v1/cameras/door-1/nothing").status().kind() ==
        ErrorKind::kNotFound);
  // An empty id where /api/v1/cameras/{camera} expects one is malformed, as for users.
  CHECK(Match(Method::kGet, "/api/v1/cameras/").status().kind() == ErrorKind::kInvalidArgument);
  std::string allowed;
  auto m = MatchRoute(Method::kDelete, "/api/v1/users", &allowed);
  CHECK(m.status().kind() == ErrorKind::kFailedPrecondition);
  CHECK(allowed == "GET, POST");
}

TEST_CASE("api router sends other paths to the web UI hook, checked") {
  auto root = Match(Method::kGet, "/");
  REQUIRE(root.ok());
  CHECK(root->route->id == RouteId::kWebAsset);
  CHECK(root->params.asset == "index.html");
  CHECK(Match(Method::kGet, "/app/../../etc/passwd").status().kind() ==
        ErrorKind::kInvalidArgument);
  CHECK(Match(Method::kGet, "/app//x.js").status().kind() == ErrorKind::kInvalidArgument);
  CHECK(Match(Method::kGet, "/api/v2/x").status().kind() == ErrorKind::kNotFound);
}

TEST_CASE("api role rules give footage to staff, manager and dpo only") {
  CHECK(RoleAllowed(Access::kFootage, Role::kStaff));
  CHECK(RoleAllowed(Access::kFootage, Role::kDpo));
  CHECK_FALSE(RoleAllowed(Access::kFootage, Role::kAdmin));
  CHECK(RoleAllowed(Access::kManager, Role::kDpo));
  CHECK_FALSE(RoleAllowed(Access::kManager, Role::kStaff));
  CHECK_FALSE(RoleAllowed(Access::kDpo, Role::kManager));
  CHECK(RoleAllowed(Access::kAdmin, Role::kAdmin));
  CHECK_FALSE(RoleAllowed(Access::kAdmin, Role::kDpo));
  CHECK(RoleAllowed(Access::kAnyUser, Role::kAdmin));
}

}  // namespace
}  // namespace custodian::api
