#include "api/web_security.h"

#include <sodium.h>

namespace custodian::api {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> FindCookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = Trim(header.substr(0, semi));
    header = semi == header.npos ? std::string_view() : header.substr(semi + 1);
    size_t eq = pair.find('=');
    if (eq == pair.npos) continue;
    if (Trim(pair.substr(0, eq)) != name) continue;
    std::string_view value = Trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return std::string(value);
  }
  return std::nullopt;
}

std::string SessionCookie(const std::string& token) {
  return std::string(kSessionCookieName) + "=" + token +
         "; Path=/; Secure; HttpOnly; SameSite=Strict";
}

std::string ClearedSessionCookie() {
  return std::string(kSessionCookieName) +
         "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0";
}

Status CheckOrigin(const HttpRequest& request) {
  if (!IsStateChanging(request.method)) return Status::Ok();
  if (const std::string* site = request.Header("sec-fetch-site")) {
    if (*site != "same-origin" && *site != "none") {
      return PermissionDenied("cross-site request refused (Sec-Fetch-Site: " + *site + ")");
    }
  }
  const std::string* origin = request.Header("origin");
  if (!origin) return Status::Ok();
  const std::string* host = request.Header("host");
  if (!host || *origin != "https://" + *host) {
    return PermissionDenied("cross-origin request refused: Origin does not match Host");
  }
  return Status::Ok();
}

Status CheckCsrfToken(const HttpRequest& request, const std::string& session_csrf_token) {
  const std::string* sent = request.Header(kCsrfHeader);
  if (!sent || sent->empty()) {
    return PermissionDenied("missing X-CSRF-Token header (GET /api/v1/auth/session gives it)");
  }
  if (session_csrf_token.empty() || !ConstantTimeEquals(*sent, session_csrf_token)) {
    return PermissionDenied("X-CSRF-Token does not match the session");
  }
  return Status::Ok();
}

void ApplySecurityHeaders(HttpResponse* r) {
  // The web UI is plain files from 'self' with no inline script or style. media-src allows
  // blob: because the player feeds the <video> through Media Source Extensions (a blob URL);
  // img-src allows blob: for a snapshot drawn from the paused frame.
  r->SetHeader("Content-Security-Policy",
               "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
               "media-src 'self' blob:; object-src 'none'; frame-ancestors 'none'; "
               "base-uri 'none'; form-action 'self'");
  r->SetHeader("Cross-Origin-Opener-Policy", "same-origin");
  r->SetHeader("Cross-Origin-Resource-Policy", "same-origin");
  r->SetHeader("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()");
  r->SetHeader("Strict-Transport-Security", "max-age=31536000");
  r->SetHeader("X-Content-Type-Options", "nosniff");
  r->SetHeader("Referrer-Policy", "no-referrer");
  r->SetHeader("X-Frame-Options", "DENY");
  if (!r->FindHeader("Cache-Control")) r->SetHeader("Cache-Control", "no-store");
}

bool IsLoopbackAddress(std::string_view a) {
  if (a == "::1") return true;
  if (a.rfind("::ffff:", 0) == 0) a.remove_prefix(7);
  return a.rfind("127.", 0) == 0;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace custodian::api
