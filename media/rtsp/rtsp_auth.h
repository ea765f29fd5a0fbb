// RtspAuthenticator: answers a camera's 401 challenge with HTTP authentication (RFC 2617 /
// RFC 7616) as RTSP uses it: Digest with MD5, MD5-sess or SHA-256, with qop=auth or without
// qop, or Basic. Digest is preferred when a camera offers both.
//
// The password never leaves this class except hashed (Digest) or base64-encoded (Basic,
// which cameras only accept over a network the operator trusts); nothing here logs.
// Not thread-safe; one per RTSP session.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace custodian::media::rtsp {

class RtspAuthenticator {
 public:
  RtspAuthenticator(std::string user, std::string password)
      : user_(std::move(user)), password_(std::move(password)) {}

  bool has_credentials() const { return !user_.empty(); }
  // Adopts the best challenge among a 401's WWW-Authenticate values. False when none can
  // be answered (no credentials, or only unknown schemes and algorithms).
  bool OnChallenge(const std::vector<std::string>& www_authenticate);
  // Whether the adopted challenge says the previous nonce was merely stale (the password
  // was right), which earns one more try.
  bool stale() const { return stale_; }
  // The Authorization header value for a request; empty before any challenge.
  std::string Authorization(std::string_view method, std::string_view uri);

  // For tests: fixes the client nonce instead of drawing a random one.
  void SetClientNonceForTest(std::string cnonce) { fixed_cnonce_ = std::move(cnonce); }

 private:
  enum class Scheme { kNone, kBasic, kDigest };
  bool AdoptDigest(std::string_view params);
  std::string DigestHex(std::string_view data) const;

  const std::string user_;
  const std::string password_;
  Scheme scheme_ = Scheme::kNone;
  std::string realm_, nonce_, opaque_, algorithm_;
  bool sha256_ = false;
  bool sess_ = false;
  bool qop_auth_ = false;
  bool stale_ = false;
  uint32_t nonce_count_ = 0;
  std::string fixed_cnonce_;
};

// Lowercase hex digests (OpenSSL EVP), exposed for tests.
std::string Md5Hex(std::string_view data);
std::string Sha256HexOf(std::string_view data);

// The parameters of one challenge or credentials list: `a="x, y", b=z` -> {{a, x, y}, {b, z}}.
std::vector<std::pair<std::string, std::string>> ParseAuthParams(std::string_view params);

}  // namespace custodian::media::rtsp
