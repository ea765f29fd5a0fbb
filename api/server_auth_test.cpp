// Sign-in, sessions, lockout, password change, disabled accounts, cookies, CSRF, TLS.
#include <openssl/ssl.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "api/testing/api_fixture.h"
#include "api/tls_cert.h"
#include "base/sha256.h"

namespace custodian::api::testing {
namespace {

using records::Role;
using json = nlohmann::json;

std::string LoginBody(const std::string& name, const std::string& password) {
  return json{{"name", name}, {"password", password}}.dump();
}

TEST_CASE("api login sets a secure session cookie and logout ends the session") {
  ApiServerFixture f;
  f.AddUser("sam", Role::kStaff, {"door-1"});
  auto r = f.Call("POST", "/api/v1/auth/login", std::nullopt,
                  LoginBody("sam", ApiServerFixture::PasswordOf("sam")));
  REQUIRE(r.status == 200);
  const std::string cookie = r.Header("set-cookie");
  CHECK(cookie.rfind("__Host-custodian_session=", 0) == 0);
  for (const char* attr : {"HttpOnly", "Secure", "SameSite=Strict", "Path=/"}) {
    CHECK(cookie.find(attr) != std::string::npos);
  }
  CHECK(json::parse(r.body)["user"]["role"] == "staff");
  CHECK(json::parse(r.body)["user"].count("password_hash") == 0);
  CHECK(f.LastAccess().action == "login");

  SignedIn s = f.Login("sam");
  auto me = f.Get("/api/v1/auth/session", s);
  REQUIRE(me.status == 200);
  CHECK(json::parse(me.body)["cameras"] == json::array({"door-1"}));
  CHECK(json::parse(me.body)["csrf_token"] == s.csrf);

  auto out = f.Call("POST", "/api/v1/auth/logout", s);
  CHECK(out.status == 204);
  CHECK(out.Header("set-cookie").find("Max-Age=0") != std::string::npos);
  CHECK(f.LastAccess().action == "logout");
  CHECK(f.Get("/api/v1/auth/session", s).status == 401);
}

TEST_CASE("api sessions expire when idle and at the absolute limit") {
  ApiServerFixture f;
  f.AddUser("sam", Role::kStaff);
  SignedIn s = f.Login("sam");
  // Activity keeps a session alive past the idle timeout...
  for (int i = 0; i < 3; ++i) {
    f.clock.Advance(14 * 60 * kSecond);
    CHECK(f.Get("/api/v1/auth/session", s).status == 200);
  }
  // ...and idleness ends it.
  f.clock.Advance(15 * 60 * kSecond + kSecond);
  auto r = f.Get("/api/v1/auth/session", s);
  CHECK(r.status == 401);
  CHECK(json::parse(r.body)["error"]["code"] == "unauthenticated");

  SignedIn again = f.Login("sam");
  for (int i = 0; i < 12 * 60 / 14; ++i) {
    f.clock.Advance(14 * 60 * kSecond);
    REQUIRE(f.Get("/api/v1/auth/session", again).status == 200);
  }
  f.clock.Advance(14 * 60 * kSecond);  // past 12 hours since sign-in
  CHECK(f.Get("/api/v1/auth/session", again).status == 401);
}

TEST_CASE("api repeated failed logins lock the account for a while, and are logged") {
  ApiServerFixture f;
  const int64_t id = f.AddUser("sam", Role::kStaff);
  for (int i = 0; i < 5; ++i) {
    auto r = f.Call("POST", "/api/v1/auth/login", std::nullopt, LoginBody("sam", "wrong-password"));
    CHECK(r.status == 401);
    auto e = f.LastAccess();
    CHECK(e.action == "login_failed");
    CHECK(e.user_id == id);
    CHECK(e.result == records::AccessResult::kDenied);
    CHECK(e.client == "127.0.0.1");
  }
  CHECK(f.LastAccess().detail.find("locked") != std::string::npos);
  // The right password no longer works while locked, and says nothing more.
  auto locked = f.Call("POST", "/api/v1/auth/login", std::nullopt,
                       LoginBody("sam", ApiServerFixture::PasswordOf("sam")));
  CHECK(locked.status == 401);
  CHECK(f.LastAccess().detail.find("account locked until") != std::string::npos);
  f.clock.Advance(16 * 60 * kSecond);
  f.Login("sam");
  auto user = f.db().GetUserById(id);
  CHECK((*user)->failed_logins == 0);
  // An unknown name fails the same way and is logged without a user id.
  auto unknown = f.Call("POST", "/api/v1/auth/login", std::nullopt, LoginBody("nobody", "x"));
  CHECK(unknown.status == 401);
  CHECK(unknown.body == locked.body);
  CHECK_FALSE(f.LastAccess().user_id.has_value());
  CHECK(f.LastAccess().user_name == "nobody");
}

TEST_CASE("api failed logins are slowed down") {
  FixtureOptions o;
  o.failed_login_delay_ms = 300;
  ApiServerFixture f(o);
  f.AddUser("sam", Role::kStaff);
  auto start = std::chrono::steady_clock::now();
  CHECK(f.Call("POST", "/api/v1/auth/login", std::nullopt, LoginBody("sam", "nope")).status == 401);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));
}

TEST_CASE("api password change needs the current password and ends other sessions") {
  ApiServerFixture f;
  f.AddUser("sam", Role::kStaff);
  SignedIn first = f.Login("sam"), second = f.Login("sam");
  auto wrong =
      f.Call("POST", "/api/v1/auth/password", first,
             json{{"current_password", "nope"}, {"new_password", "a-new-long-pass"}}.dump());
  CHECK(wrong.status == 403);
  CHECK(f.LastAccess().result == records::AccessResult::kDenied);
  auto weak = f.Call(
      "POST", "/api/v1/auth/password", first,
      json{{"current_password", ApiServerFixture::PasswordOf("sam")}, {"new_password", "short"}}
          .dump());
  CHECK(weak.status == 400);
  auto ok = f.Call("POST", "/api/v1/auth/password", first,
                   json{{"current_password", ApiServerFixture::PasswordOf("sam")},
                        {"new_password", "a-new-long-pass"}}
                       .dump());
  REQUIRE(ok.status == 200);
  CHECK(f.LastAccess().action == "password_change");
  SignedIn renewed{"sam", ok.Header("set-cookie").substr(0, ok.Header("set-cookie").find(';')),
                   json::parse(ok.body)["csrf_token"]};
  CHECK(f.Get("/api/v1/auth/session", renewed).status == 200);
  CHECK(f.Get("/api/v1/auth/session", first).status == 401);
  CHECK(f.Get("/api/v1/auth/session", second).status == 401);
  CHECK(f.Call("POST", "/api/v1/auth/login", std::nullopt,
               LoginBody("sam", ApiServerFixture::PasswordOf("sam")))
            .status == 401);
  CHECK(f.Call("POST", "/api/v1/auth/login", std::nullopt, LoginBody("sam", "a-new-long-pass"))
            .status == 200);
}

TEST_CASE("api a disabled account loses its sessions and cannot sign in") {
  ApiServerFixture f;
  f.AddUser("ada", Role::kAdmin);
  const int64_t sam = f.AddUser("sam", Role::kStaff);
  SignedIn admin = f.Login("ada"), staff = f.Login("sam");
  auto r = f.Call("PATCH", "/api/v1/users/" + std::to_string(sam), admin,
                  json{{"disabled", true}}.dump());
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["disabled"] == true);
  CHECK(f.LastAccess().action == "account_disabled");
  CHECK(f.Get("/api/v1/auth/session", staff).status == 401);
  CHECK(f.Call("POST", "/api/v1/auth/login", std::nullopt,
               LoginBody("sam", ApiServerFixture::PasswordOf("sam")))
            .status == 401);
  CHECK(f.LastAccess().detail == "account disabled");
  // Nor can an admin lock themselves out.
  auto self = f.Call("PATCH", "/api/v1/users/" + std::to_string((*f.db().GetUserByName("ada"))->id),
                     admin, json{{"disabled", true}}.dump());
  CHECK(self.status == 409);
}

TEST_CASE("api an account that must change its password can do nothing else first") {
  ApiServerFixture f;
  f.AddUser("new", Role::kStaff, {"door-1"}, /*must_change=*/true);
  SignedIn s = f.Login("new");
  CHECK(f.Get("/api/v1/cameras", s).status == 403);
  CHECK(f.Get("/api/v1/auth/session", s).status == 200);
  auto ok = f.Call("POST", "/api/v1/auth/password", s,
                   json{{"current_password", ApiServerFixture::PasswordOf("new")},
                        {"new_password", "my-own-secret-1"}}
                       .dump());
  REQUIRE(ok.status == 200);
  SignedIn renewed{"new", ok.Header("set-cookie").substr(0, ok.Header("set-cookie").find(';')),
                   json::parse(ok.body)["csrf_token"]};
  CHECK(f.Get("/api/v1/cameras", renewed).status == 200);
}

TEST_CASE("api forged, malformed and expired cookies are refused") {
  ApiServerFixture f;
  f.AddUser("sam", Role::kStaff);
  SignedIn real = f.Login("sam");
  for (const std::string& cookie : std::vector<std::string>{
           std::string("__Host-custodian_session=") + std::string(64, 'a'),
           std::string("__Host-custodian_session=' OR '1'='1"),
           std::string("__Host-custodian_session=") + std::string(5000, 'f'),
           std::string("__Host-custodian_session="),
           std::string("custodian_session=") + real.cookie.substr(real.cookie.find('=') + 1)}) {
    auto r = f.Get("/api/v1/auth/session", std::nullopt, {{"Cookie", cookie}});
    INFO(cookie.substr(0, 60));
    CHECK((r.status == 401 || r.status == 431));
  }
  // A token is not its hash: the value stored in the records does not work as a cookie.
  auto sessions_hash = Sha256Hex(real.cookie.substr(real.cookie.find('=') + 1));
  auto r = f.Get("/api/v1/auth/session", std::nullopt,
                 {{"Cookie", std::string("__Host-custodian_session=") + sessions_hash}});
  CHECK(r.status == 401);
  f.clock.Advance(16 * 60 * kSecond);
  auto expired = f.Get("/api/v1/auth/session", real);
  CHECK(expired.status == 401);
  CHECK(expired.Header("set-cookie").find("Max-Age=0") != std::string::npos);
}

TEST_CASE("api state-changing requests need the CSRF token and a matching origin") {
  ApiServerFixture f;
  f.AddUser("ada", Role::kAdmin);
  const int64_t sam = f.AddUser("sam", Role::kStaff);
  SignedIn admin = f.Login("ada");
  const std::string target = "/api/v1/users/" + std::to_string(sam) + "/cameras";
  const std::string body = json{{"cameras", {"door-1"}}}.dump();
  Headers cookie_only = {{"Cookie", admin.cookie}, {"Content-Type", "application/json"}};
  CHECK(f.client().Send("PUT", target, cookie_only, body).status == 403);
  Headers wrong = cookie_only;
  wrong.emplace_back("X-CSRF-Token", std::string(64, '0'));
  CHECK(f.client().Send("PUT", target, wrong, body).status == 403);
  CHECK(f.LastAccess().result == records::AccessResult::kDenied);
  CHECK(f.Call("PUT", target, admin, body, {{"Origin", "https://evil.example"}}).status == 403);
  CHECK(f.Call("PUT", target, admin, body, {{"Sec-Fetch-Site", "cross-site"}}).status == 403);
  auto login_csrf = f.Call("POST", "/api/v1/auth/login", std::nullopt,
                           LoginBody("ada", ApiServerFixture::PasswordOf("ada")),
                           {{"Origin", "https://evil.example"}});
  CHECK(login_csrf.status == 403);
  CHECK(f.Call("PUT", target, admin, body,
               {{"Origin", "https://127.0.0.1:" + std::to_string(f.server().port())}})
            .status == 200);
  CHECK(*f.db().ListCameraPermissions(sam) == std::vector<std::string>{"door-1"});
}

TEST_CASE("api serves TLS 1.2 and later only") {
  ApiServerFixture f;
  CHECK(HttpsClient::HandshakeSucceeds(f.server().port(), TLS1_3_VERSION));
  CHECK(HttpsClient::HandshakeSucceeds(f.server().port(), TLS1_2_VERSION));
  CHECK_FALSE(HttpsClient::HandshakeSucceeds(f.server().port(), TLS1_1_VERSION));
  CHECK_FALSE(HttpsClient::HandshakeSucceeds(f.server().port(), TLS1_VERSION));
}

TEST_CASE("api makes a self-signed certificate once, with a private key only its owner reads") {
  ApiServerFixture f;
  const std::string keys = f.data_dir() + "/keys";
  struct stat st {};
  REQUIRE(::stat((keys + "/https-key.pem").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto again = EnsureTlsCertificate(keys, "", "");
  REQUIRE(again.ok());
  CHECK_FALSE(again->generated);
  CHECK(EnsureTlsCertificate(keys, "/nonexistent/cert.pem", "").status().kind() ==
        ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace custodian::api::testing
