#include "api/web_security.h"

#include <catch2/catch.hpp>

namespace custodian::api {
namespace {

HttpRequest Post(std::vector<std::pair<std::string, std::string>> headers) {
  HttpRequest r;
  r.method = Method::kPost;
  r.headers = std::move(headers);
  return r;
}

TEST_CASE("api cookie parsing finds the named cookie among others") {
  CHECK(FindCookie("a=1; __Host-custodian_session=abc; b=2", kSessionCookieName) == "abc");
  CHECK(FindCookie("__Host-custodian_session=\"q\"", kSessionCookieName) == "q");
  CHECK(FindCookie("x__Host-custodian_session=abc", kSessionCookieName) == std::nullopt);
  CHECK(FindCookie("", kSessionCookieName) == std::nullopt);
  CHECK(FindCookie("garbage;;=;", kSessionCookieName) == std::nullopt);
  CHECK(FindCookie("__Host-custodian_session=first; __Host-custodian_session=second",
                   kSessionCookieName) == "first");
}

TEST_CASE("api session cookie is host-only, secure, HttpOnly and SameSite=Strict") {
  std::string c = SessionCookie("tok");
  CHECK(c.rfind("__Host-custodian_session=tok;", 0) == 0);
  for (const char* attr : {"Path=/", "Secure", "HttpOnly", "SameSite=Strict"}) {
    CHECK(c.find(attr) != std::string::npos);
  }
  CHECK(c.find("Domain") == std::string::npos);
  CHECK(ClearedSessionCookie().find("Max-Age=0") != std::string::npos);
}

TEST_CASE("api CSRF origin check refuses cross-origin state changes") {
  CHECK(CheckOrigin(Post({{"host", "cctv.local:8443"}})).ok());
  CHECK(
      CheckOrigin(Post({{"host", "cctv.local:8443"}, {"origin", "https://cctv.local:8443"}})).ok());
  CHECK(
      CheckOrigin(Post({{"host", "cctv.local:8443"}, {"origin", "https://evil.example"}})).kind() ==
      ErrorKind::kPermissionDenied);
  CHECK(CheckOrigin(Post({{"host", "cctv.local:8443"}, {"origin", "http://cctv.local:8443"}}))
            .kind() == ErrorKind::kPermissionDenied);
  CHECK(CheckOrigin(Post({{"origin", "null"}})).kind() == ErrorKind::kPermissionDenied);
  CHECK(CheckOrigin(Post({{"sec-fetch-site", "cross-site"}})).kind() ==
        ErrorKind::kPermissionDenied);
  CHECK(CheckOrigin(Post({{"sec-fetch-site", "same-origin"}})).ok());
  HttpRequest get;
  get.headers = {{"origin", "https://evil.example"}};
  CHECK(CheckOrigin(get).ok());  // reads are not state changes
}

TEST_CASE("api CSRF token must be present and match the session") {
  CHECK(CheckCsrfToken(Post({{"x-csrf-token", "0123456789abcdef"}}), "0123456789abcdef").ok());
  CHECK(CheckCsrfToken(Post({}), "0123456789abcdef").kind() == ErrorKind::kPermissionDenied);
  CHECK(CheckCsrfToken(Post({{"x-csrf-token", "0123456789abcdeX"}}), "0123456789abcdef").kind() ==
        ErrorKind::kPermissionDenied);
  CHECK(CheckCsrfToken(Post({{"x-csrf-token", ""}}), "").kind() == ErrorKind::kPermissionDenied);
}

TEST_CASE("api responses carry the security headers") {
  HttpResponse r;
  ApplySecurityHeaders(&r);
  CHECK(r.FindHeader("content-security-policy")->find("default-src 'self'") != std::string::npos);
  CHECK(*r.FindHeader("X-Content-Type-Options") == "nosniff");
  CHECK(*r.FindHeader("Referrer-Policy") == "no-referrer");
  CHECK(*r.FindHeader("Cache-Control") == "no-store");
  CHECK(r.FindHeader("Strict-Transport-Security") != nullptr);
  // The UI's player needs blob: media (MSE), and nothing may run inline script.
  const std::string& csp = *r.FindHeader("content-security-policy");
  CHECK(csp.find("media-src 'self' blob:") != std::string::npos);
  CHECK(csp.find("script-src 'self';") != std::string::npos);
  CHECK(csp.find("unsafe-inline") == std::string::npos);
  CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
}

TEST_CASE("api loopback detection covers IPv4, IPv6 and mapped addresses") {
  CHECK(IsLoopbackAddress("127.0.0.1"));
  CHECK(IsLoopbackAddress("127.8.9.10"));
  CHECK(IsLoopbackAddress("::1"));
  CHECK(IsLoopbackAddress("::ffff:127.0.0.1"));
  CHECK_FALSE(IsLoopbackAddress("10.0.0.1"));
  CHECK_FALSE(IsLoopbackAddress("1127.0.0.1"));
  CHECK_FALSE(IsLoopbackAddress(""));
}

}  // namespace
}  // namespace custodian::api
