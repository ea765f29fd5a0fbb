// HTTP Digest access authentication (RFC 7616, and RFC 2617 and RFC 2069 before it), the
// one implementation behind both kinds of camera request: RTSP (media/rtsp/rtsp_auth.h) and
// ONVIF's SOAP over HTTP (onvif/http_post.h).
//
// Supported: the algorithms MD5, SHA-256 and SHA-512-256, each also as "-sess"; qop "auth",
// "auth-int" (the request body is hashed into the answer) or none (RFC 2069's form, which
// old cameras still send); `userhash=true` (the user name sent as H(user:realm)). When a
// camera offers several Digest challenges the strongest algorithm is taken (SHA-512-256,
// then SHA-256, then MD5); when one challenge offers both qops, "auth" is answered, as the
// form every camera that offers it has been tested with, and "auth-int" only when it is the
// only one offered. Basic is not handled here: each caller decides whether it may be sent.
//
// Every text taken from a challenge is bounded (kMaxParamBytes) and must be printable, so
// nothing a device sends can put a line break or a control byte into the request's
// Authorization header. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace custodian::http_auth {

inline constexpr size_t kMaxParamBytes = 1024;

// One challenge (or credentials) of an authentication header: "Digest realm="x", ...".
// Parameter names are lower-cased; quoted values are unquoted.
struct AuthScheme {
  std::string scheme;  // lower-cased: "digest", "basic", ...
  std::map<std::string, std::string> params;
};

// Every scheme in one header value (several may share a value, separated by commas).
std::vector<AuthScheme> ParseAuthHeader(std::string_view value);

enum class Qop { kNone, kAuth, kAuthInt };

struct DigestChallenge {
  std::string realm;
  std::string nonce;
  std::string opaque;     // "" when the device sent none
  std::string algorithm;  // as the RFC spells it: "MD5", "SHA-256-sess", "SHA-512-256", ...
  Qop qop = Qop::kAuth;   // kNone: RFC 2069's form
  bool userhash = false;  // the user name goes out hashed
  bool stale = false;     // the previous nonce was merely old (the password was right)
};

// What is being authorized: the request line's method and target, and the body (hashed
// into the answer under qop auth-int; RTSP requests from a client have none).
struct DigestRequest {
  std::string_view method;
  std::string_view uri;
  std::string_view body;
};

// The best Digest challenge among the WWW-Authenticate values of one reply.
// kFailedPrecondition when there is none this code can answer (the message names the
// schemes offered, for instance "Basic").
Result<DigestChallenge> ChooseDigestChallenge(const std::vector<std::string>& www_authenticate);

// The request digest ("response") in lower-case hex. nc is the 8-hex-digit nonce count;
// cnonce and nc are ignored without qop.
std::string DigestResponse(const DigestChallenge& challenge, const DigestRequest& request,
                           std::string_view username, std::string_view password,
                           std::string_view cnonce, std::string_view nc);

// The user name as the Authorization header carries it: H(username:realm) in hex under
// userhash, the name itself otherwise.
std::string DigestUsername(const DigestChallenge& challenge, std::string_view username);

// The whole Authorization header value answering `challenge` as the nonce_count'th use of
// its nonce, with `cnonce` (a fresh random one when empty).
std::string DigestAuthorization(const DigestChallenge& challenge, const DigestRequest& request,
                                std::string_view username, std::string_view password,
                                uint32_t nonce_count = 1, std::string cnonce = "");

// Lowercase hex digest of data under a Digest algorithm's hash ("MD5", "SHA-256",
// "SHA-512-256", with or without "-sess"), exposed for tests and test servers.
std::string DigestHash(std::string_view algorithm, std::string_view data);

}  // namespace custodian::http_auth
