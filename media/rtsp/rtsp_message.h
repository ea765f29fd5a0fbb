// RTSP/1.0 messages (RFC 2326) as the client sees them: responses to its requests, the odd
// request a camera sends, and the URL arithmetic of DESCRIBE and SETUP.
//
// Parsing happens only during the handshake and on keep-alive answers, never per media
// packet, so plain std::string is used throughout.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace custodian::media::rtsp {

struct RtspMessage {
  bool is_response = false;
  int status = 0;                                            // responses
  std::string reason;                                        // responses
  std::string method;                                        // requests
  std::vector<std::pair<std::string, std::string>> headers;  // in order, names as sent
  std::string body;

  // The first header with this name (case-insensitive), or nullptr.
  const std::string* Header(std::string_view name) const;
  std::vector<std::string> AllHeaders(std::string_view name) const;
  // CSeq as a number; -1 when absent or malformed.
  int CSeq() const;
};

// Parses the head (start line and headers, without the blank line); the body is set by the
// caller once Content-Length bytes have arrived. DataLoss on a malformed head.
Result<RtspMessage> ParseRtspHead(std::string_view head);
// Content-Length of a parsed head, 0 when absent; -1 when malformed.
long ContentLength(const RtspMessage& m);

// rtsp://[user[:password]@]host[:port][/path]. Credentials are percent-decoded; `clean`
// is the URL without them (the only form that is ever sent or logged).
// rtsp:// (default port 554) or rtsps:// (RTSP over TLS, default port 322).
struct RtspUrl {
  bool tls = false;  // rtsps://
  std::string host;  // without IPv6 brackets
  int port = 554;
  std::string user;
  std::string password;
  std::string clean;
};
Result<RtspUrl> ParseRtspUrl(const std::string& url);

// Resolves an SDP a=control value against the presentation's base URL: absolute controls
// are used as they are, "*" means the base itself, anything else is appended to it.
std::string ResolveControl(const std::string& base, const std::string& control);

// The value of `key` among ';'-separated parameters ("RTP/AVP/TCP;interleaved=0-1").
std::optional<std::string> HeaderParam(std::string_view value, std::string_view key);

bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string_view Trim(std::string_view s);

}  // namespace custodian::media::rtsp
