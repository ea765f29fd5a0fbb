// HTTP Digest access authentication (RFC 7616, and RFC 2617 before it) for ONVIF devices
// that answer a SOAP call with 401 and `WWW-Authenticate: Digest ...`, whatever
// WS-Security header the call carried (many cameras do, for every call but
// GetSystemDateAndTime).
//
// Supported: the algorithms MD5, MD5-sess, SHA-256 and SHA-256-sess, with qop "auth" or
// with no qop (RFC 2069's form, which old cameras still send). Not supported: qop
// "auth-int" alone, SHA-512-256 and `userhash`; a challenge that asks only for those is
// not answered, and the call fails saying what the camera asked for. When a device offers several
// Digest challenges, a SHA-256 one is preferred. Basic is never answered: it would send the
// password in clear over http://.
//
// Every text taken from a challenge is bounded (kMaxParamBytes) and must be printable, so
// nothing a device sends can put a line break or a control byte into the request's
// Authorization header. Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace custodian::onvif {

inline constexpr size_t kMaxParamBytes = 1024;

// One challenge (or credentials) of an authentication header: "Digest realm="x", ...".
// Parameter names are lower-cased; quoted values are unquoted.
struct AuthScheme {
  std::string scheme;  // lower-cased: "digest", "basic", ...
  std::map<std::string, std::string> params;
};

// Every scheme in one header value (several may share a value, separated by commas).
std::vector<AuthScheme> ParseAuthHeader(std::string_view value);

struct DigestChallenge {
  std::string realm;
  std::string nonce;
  std::string opaque;     // "" when the device sent none
  std::string algorithm;  // as the RFC spells it: "MD5", "MD5-sess", "SHA-256", "SHA-256-sess"
  bool qop_auth = false;  // false: no qop (RFC 2069)
};

// The best Digest challenge among the WWW-Authenticate values of one reply.
// kFailedPrecondition when there is none this code can answer (the message names the
// schemes offered, for instance "Basic").
Result<DigestChallenge> ChooseDigestChallenge(const std::vector<std::string>& www_authenticate);

// The request digest ("response") for method and uri (the request target), in lower-case
// hex. nc is the 8-hex-digit nonce count; cnonce and nc are ignored without qop.
std::string DigestResponse(const DigestChallenge& challenge, std::string_view method,
                           std::string_view uri, std::string_view username,
                           std::string_view password, std::string_view cnonce, std::string_view nc);

// The whole Authorization header value answering `challenge`, with a fresh random cnonce
// and nc 00000001.
std::string DigestAuthorization(const DigestChallenge& challenge, std::string_view method,
                                std::string_view uri, std::string_view username,
                                std::string_view password);

}  // namespace custodian::onvif
