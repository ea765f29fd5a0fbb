// RtspAuthenticator: answers a camera's 401 challenge with HTTP authentication (RFC 2617 /
// RFC 7616) as RTSP uses it: Digest as base/http_digest.h does it (MD5, SHA-256 or
// SHA-512-256, qop auth, auth-int or none, userhash), or Basic. Digest is preferred when a
// camera offers both. Each use of a nonce counts up (nc), as RFC 7616 asks.
//
// The password never leaves this class except hashed (Digest) or base64-encoded (Basic).
// Basic sends the password in the clear over plain RTSP, so it is answered only when the
// camera's configuration opts in (allow_basic); otherwise a camera that offers only Basic
// gets nothing, and basic_refused() says why. Nothing here logs.
// Not thread-safe; one per RTSP session.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/http_digest.h"

namespace custodian::media::rtsp {

class RtspAuthenticator {
 public:
  RtspAuthenticator(std::string user, std::string password, bool allow_basic = false)
      : user_(std::move(user)), password_(std::move(password)), allow_basic_(allow_basic) {}

  bool has_credentials() const { return !user_.empty(); }
  // Adopts the best challenge among a 401's WWW-Authenticate values. False when none can
  // be answered (no credentials, only unknown schemes and algorithms, or only Basic when
  // it is not allowed: then basic_refused() is true).
  bool OnChallenge(const std::vector<std::string>& www_authenticate);
  bool basic_refused() const { return basic_refused_; }
  // Whether the adopted challenge says the previous nonce was merely stale (the password
  // was right), which earns one more try.
  bool stale() const { return stale_; }
  // The Authorization header value for a request (its body: RTSP requests from a client
  // have none); empty before any challenge.
  std::string Authorization(std::string_view method, std::string_view uri,
                            std::string_view body = {});

  // For tests: fixes the client nonce instead of drawing a random one.
  void SetClientNonceForTest(std::string cnonce) { fixed_cnonce_ = std::move(cnonce); }

 private:
  enum class Scheme { kNone, kBasic, kDigest };

  const std::string user_;
  const std::string password_;
  const bool allow_basic_;
  bool basic_refused_ = false;
  Scheme scheme_ = Scheme::kNone;
  http_auth::DigestChallenge digest_;
  bool stale_ = false;
  uint32_t nonce_count_ = 0;
  std::string fixed_cnonce_;
};

}  // namespace custodian::media::rtsp
