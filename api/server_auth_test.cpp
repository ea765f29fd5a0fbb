// Sign-in, sessions, lockout, password change, disabled accounts, cookies, CSRF, TLS.
#include <openssl/ssl.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

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

// --- Sign-in under attack -------------------------------------------------------------

TEST_CASE("api sign-in from one address beyond the limit gets 429 with Retry-After") {
  FixtureOptions o;
  o.rate_limits = RateLimits{};  // the defaults: 10 at once, then one every 6 s
  ApiServerFixture f(o);
  f.AddUser("sam", Role::kStaff);
  f.AddUser("ada", Role::kAdmin);
  for (int i = 0; i < 10; ++i) {
    // Across accounts and unknown names alike: the limit is the address's.
    const std::string name = i % 2 ? "nobody-" + std::to_string(i) : "ada";
    CHECK(f.Call("POST", "/api/v1/auth/login", std::nullopt, LoginBody(name, "guess")).status ==
          401);
  }
  const PasswordCheckCounts before = f.api().sessions().password_check_counts();
  const size_t logged = f.AccessLog().size();
  for (int i = 0; i < 5; ++i) {
    auto limited = f.Call("POST", "/api/v1/auth/login", std::nullopt,
                          LoginBody("sam", ApiServerFixture::PasswordOf("sam")));
    INFO(limited.body);
    CHECK(limited.status == 429);
    CHECK(limited.Header("retry-after") == "6");
    CHECK(json::parse(limited.body)["error"]["code"] == "too_many_requests");
    CHECK(limited.Header("set-cookie").empty());
  }
  // No password was checked for the refused sign-ins, and they made one entry, not five.
  const PasswordCheckCounts after = f.api().sessions().password_check_counts();
  CHECK(after.real == before.real);
  CHECK(after.dummy == before.dummy);
  auto log = f.AccessLog();
  CHECK(log.size() == logged + 1);
  CHECK(log.back().detail.find("too many sign-ins") != std::string::npos);
  // Six seconds later one more sign-in is allowed.
  f.clock.Advance(6 * kSecond);
  CHECK(f.Call("POST", "/api/v1/auth/login", std::nullopt,
               LoginBody("sam", ApiServerFixture::PasswordOf("sam")))
            .status == 200);
  CHECK(f.Call("POST", "/api/v1/auth/login", std::nullopt, LoginBody("sam", "x")).status == 429);
}

TEST_CASE("api requests without a session beyond the address's limit get 429, signed-in ones never") {
  FixtureOptions o;
  RateLimits limits;
  limits.no_session = {5, kSecond};
  limits.sign_in = {100, kSecond};
  o.rate_limits = limits;
  ApiServerFixture f(o);
  f.AddUser("sam", Role::kStaff, {"door-1"});
  SignedIn sam = f.Login("sam");
  for (int i = 0; i < 5; ++i) CHECK(f.Get("/api/v1/auth/session").status == 401);
  auto limited = f.Get("/api/v1/auth/session");
  CHECK(limited.status == 429);
  CHECK(limited.Header("retry-after") == "1");
  // A forged cookie is a request without a session as well.
  CHECK(f.Get("/api/v1/auth/session", std::nullopt,
              {{"Cookie", "__Host-custodian_session=" + std::string(64, 'a')}})
            .status == 429);
  // The signed-in user at the same address is not limited.
  for (int i = 0; i < 20; ++i) CHECK(f.Get("/api/v1/auth/session", sam).status == 200);
  f.clock.Advance(kSecond);
  CHECK(f.Get("/api/v1/auth/session").status == 401);
  CHECK(f.Get("/api/v1/auth/session").status == 429);
}

TEST_CASE("api refusals without a session are logged as at most one entry per address per minute") {
  ApiServerFixture f;
  const std::string target = "/api/v1/segments/1/file?" + PurposeParams();
  const size_t before = f.AccessLog().size();
  for (int i = 0; i < 40; ++i) CHECK(f.Get(target).status == 401);
  auto log = f.AccessLog();
  REQUIRE(log.size() == before + 1);
  CHECK(log.back().user_name == "(no session)");
  CHECK(log.back().action == "download");
  CHECK(log.back().client == "127.0.0.1");
  // The next minute's first refusal is written with the count of the last minute's rest.
  f.clock.Advance(61 * kSecond);
  CHECK(f.Get(target).status == 401);
  log = f.AccessLog();
  REQUIRE(log.size() == before + 2);
  CHECK(log.back().detail.find("and 39 more requests refused without a session") !=
        std::string::npos);
}

TEST_CASE("api unknown, locked and disabled accounts get the same answer") {
  FixtureOptions o;
  o.failed_login_delay_ms = 0;
  ApiServerFixture f(o);
  f.AddUser("sam", Role::kStaff);
  f.AddUser("lee", Role::kStaff);
  const int64_t dee = f.AddUser("dee", Role::kStaff);
  REQUIRE(f.db().SetUserDisabled(dee, true).ok());
  for (int i = 0; i < 5; ++i) {
    CHECK(f.Call("POST", "/api/v1/auth/login", std::nullopt, LoginBody("lee", "wrong")).status ==
          401);
  }
  REQUIRE((*f.db().GetUserByName("lee"))->locked_until.has_value());

  struct Attempt {
    const char* what;
    std::string name;
    std::string password;
    bool real_check;  // against the account's own hash
  };
  const Attempt attempts[] = {
      {"wrong password", "sam", "wrong", true},
      {"unknown name", "nobody", "wrong", false},
      {"locked, right password", "lee", ApiServerFixture::PasswordOf("lee"), false},
      {"disabled, right password", "dee", ApiServerFixture::PasswordOf("dee"), false},
  };
  std::optional<ClientResponse> first;
  for (const Attempt& a : attempts) {
    INFO(a.what);
    const PasswordCheckCounts before = f.api().sessions().password_check_counts();
    ClientResponse r = f.Call("POST", "/api/v1/auth/login", std::nullopt,
                              LoginBody(a.name, a.password));
    const PasswordCheckCounts after = f.api().sessions().password_check_counts();
    // The same work: exactly one Argon2id verification each.
    CHECK(after.real - before.real == (a.real_check ? 1 : 0));
    CHECK(after.dummy - before.dummy == (a.real_check ? 0 : 1));
    // The same answer.
    CHECK(r.status == 401);
    if (!first) first = r;
    CHECK(r.body == first->body);
    CHECK(r.Header("set-cookie") == first->Header("set-cookie"));
    CHECK(f.LastAccess().action == "login_failed");
  }
}

TEST_CASE("api parallel failed sign-ins cannot check more passwords than the lockout allows") {
  ApiServerFixture f;
  f.AddUser("sam", Role::kStaff);
  SessionService& sessions = f.api().sessions();
  const int limit = sessions.policy().lock_after_failures;
  const PasswordCheckCounts before = sessions.password_check_counts();
  constexpr int kGuesses = 24;
  std::atomic<int> ready{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> guessers;
  for (int i = 0; i < kGuesses; ++i) {
    guessers.emplace_back([&, i] {
      ++ready;
      while (ready.load() < kGuesses) std::this_thread::yield();
      auto r = sessions.Login("sam", "guess-" + std::to_string(i), "10.0.0.9");
      if (r.ok() && !r->session) ++refused;
    });
  }
  for (auto& t : guessers) t.join();
  const PasswordCheckCounts after = sessions.password_check_counts();
  CHECK(refused == kGuesses);
  // Only `limit` guesses were ever checked against the real hash; the rest met the lock.
  CHECK(after.real - before.real == limit);
  CHECK(after.dummy - before.dummy == kGuesses - limit);
  auto user = *f.db().GetUserByName("sam");
  CHECK(user->failed_logins == limit);
  CHECK(user->locked_until.has_value());
}

TEST_CASE("api password hashing runs on its own threads, never on those that serve footage") {
  // One handler thread: were a sign-in's password check on it, a signed-in user's request
  // would wait behind it.
  std::mutex mu;
  std::condition_variable cv;
  bool block = false, entered = false, released = false;
  FixtureOptions o;
  o.handler_threads = 1;
  o.password_threads = 1;
  o.password_check_hook = [&] {
    std::unique_lock l(mu);
    if (!block) return;
    entered = true;
    cv.notify_all();
    // Bounded, so that a regression fails rather than hangs.
    cv.wait_for(l, std::chrono::seconds(30), [&] { return released; });
  };
  ApiServerFixture f(o);
  f.AddUser("sam", Role::kStaff);
  f.AddUser("ada", Role::kStaff);
  SignedIn ada = f.Login("ada");
  {
    std::lock_guard l(mu);
    block = true;
  }
  std::thread signing_in([&] {
    HttpsClient other(f.server().port(), f.cert_path());
    other.Send("POST", "/api/v1/auth/login", {{"Content-Type", "application/json"}},
               LoginBody("sam", ApiServerFixture::PasswordOf("sam")));
  });
  {
    std::unique_lock l(mu);
    REQUIRE(cv.wait_for(l, std::chrono::seconds(30), [&] { return entered; }));
  }
  // The sign-in is held inside its password check; the session route still answers.
  auto session = f.Get("/api/v1/auth/session", ada);
  bool answered_while_held;
  {
    std::lock_guard l(mu);
    answered_while_held = !released;
    released = true;
    block = false;
  }
  cv.notify_all();
  signing_in.join();
  CHECK(session.status == 200);
  CHECK(answered_while_held);
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

TEST_CASE("a server whose TLS certificate cannot be read does not start and names the file") {
  ApiServerFixture f;
  const std::string keys = f.data_dir() + "/keys";
  FaultInjectingFilesystem fs(PosixFilesystem::Instance());
  fs.FailReads(true);
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.cert_path = keys + "/https-cert.pem";
  options.key_path = keys + "/https-key.pem";
  options.filesystem = &fs;
  auto server = Server::Start(f.api(), options);
  REQUIRE(server.status().kind() == ErrorKind::kIo);
  CHECK(server.status().message().find("cannot read the TLS certificate " + options.cert_path) ==
        0);
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
