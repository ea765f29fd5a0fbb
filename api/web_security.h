// The browser-facing security rules, as pure functions: the session cookie, the CSRF
// checks, and the headers every response carries.
//
// Session cookie: `__Host-custodian_session=<64 hex>; Path=/; Secure; HttpOnly;
// SameSite=Strict`. The __Host- prefix makes browsers refuse it unless it was set over
// HTTPS for this exact host, so a neighbouring host cannot plant one.
//
// CSRF: a state-changing request (POST, PUT, PATCH, DELETE) must
//   1. if it carries Origin, name this server (https://<Host>), and if it carries
//      Sec-Fetch-Site, say same-origin or none;
//   2. when made with a session, repeat the session's CSRF token in X-CSRF-Token.
// SameSite=Strict already keeps the cookie off cross-site requests; the token covers
// browsers that ignore SameSite and same-site subdomains.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/http.h"
#include "base/status.h"

namespace custodian::api {

inline constexpr char kSessionCookieName[] = "__Host-custodian_session";
inline constexpr char kCsrfHeader[] = "x-csrf-token";

// The value of the named cookie in a Cookie header ("a=1; b=2"), or nullopt. When the
// name repeats, the first wins.
std::optional<std::string> FindCookie(std::string_view cookie_header, std::string_view name);
// Set-Cookie values that create and clear the session cookie.
std::string SessionCookie(const std::string& token);
std::string ClearedSessionCookie();

// Checks rule 1 above for a state-changing request; ok for other methods.
Status CheckOrigin(const HttpRequest& request);
// Checks rule 2: the header matches the session's token, compared in constant time.
Status CheckCsrfToken(const HttpRequest& request, const std::string& session_csrf_token);

// Adds Content-Security-Policy, HSTS, X-Content-Type-Options, Referrer-Policy,
// X-Frame-Options and Cache-Control: no-store (unless the response set its own).
void ApplySecurityHeaders(HttpResponse* response);

// Whether an address string is 127.0.0.0/8, ::1 or ::ffff:127.x.
bool IsLoopbackAddress(std::string_view address);

// Constant-time string comparison (length is not secret).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace custodian::api
