// PostSoap: one SOAP request over HTTP/1.1 (http:// or https://) to an ONVIF service, and
// its reply, with HTTP Digest authentication when the device asks for it.
//
// Each request makes one connection. The whole call (resolve, connect, TLS handshake,
// write, read, and the second request that answers a Digest challenge) is bounded by
// timeout_ms, and a reply larger than kMaxXmlBytes is refused. Thread-safe: no shared state.
//
// HTTP Digest (base/http_digest.h): when the device answers 401 with a Digest challenge and
// options name a user, the request is sent once more, on a new connection, with the
// Authorization that answers it; the second reply is returned whatever it is (a 401 again
// means the password is wrong, which soap.h reads as refused credentials). Without a user,
// or when the 401 carries no challenge at all, the 401 is returned as it is.
//
// https:// (cameras that serve ONVIF over TLS only): no authority signs a camera's
// certificate, so, as for rtsps:// cameras (docs/design/recording.md, "RTSPS"), the
// certificate's chain, names and dates are not checked; its SHA-256 (of the DER) is. When
// options.pinned_sha256 is given, a connection presenting another certificate is closed
// right after the handshake, before anything (credentials included) is sent. The reply
// says which certificate was presented, so that a caller can pin it on first use.
//
// Errors: kInvalidArgument for a URL that is not http(s)://host[:port]/path;
// kUnavailable when the device cannot be reached, or does not answer in time, or the TLS
// handshake fails; kFailedPrecondition when an https:// device presents a certificate other
// than the pinned one (the message has both fingerprints), or asks for an HTTP
// authentication other than Digest (the message names it); kInvalidArgument for a reply
// that is not HTTP or too large. No message contains the password or a digest of it.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace custodian::onvif {

struct HttpUrl {
  std::string host;  // IPv6 without brackets
  uint16_t port = 80;  // 443 for https:// when none is given
  std::string target;  // "/onvif/device_service"
  bool tls = false;    // https://
};

// http(s)://host[:port][/path]; refuses user info, other schemes and spaces.
Result<HttpUrl> ParseHttpUrl(const std::string& url);

struct PostOptions {
  std::string username;  // for HTTP Digest, when the device asks; "": never answered
  std::string password;
  std::string pinned_sha256;  // https://: the certificate required (lower-case hex); "": any
};

struct HttpReply {
  int status = 0;
  std::string body;
  std::string certificate_sha256;  // https://: the certificate presented; "" for http://
};

Result<HttpReply> PostSoap(const std::string& url, const std::string& envelope, int64_t timeout_ms,
                           const PostOptions& options = {});

}  // namespace custodian::onvif
