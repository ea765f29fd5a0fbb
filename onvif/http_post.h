// PostSoap: one SOAP request over plain HTTP/1.1 to an ONVIF service, and its reply.
//
// ONVIF devices on a site's camera network serve their SOAP services over http:// (the
// WS-Security digest protects the password; nothing else in these calls is secret), so
// only http:// URLs are accepted. Each call makes one connection, with the whole exchange
// (resolve, connect, write, read) bounded by timeout_ms, and a reply larger than
// kMaxXmlBytes refused. Thread-safe: no shared state.
//
// Errors: kInvalidArgument for a URL that is not http://host[:port]/path;
// kUnavailable when the device cannot be reached or does not answer in time;
// kInvalidArgument for a reply that is not HTTP or too large.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace custodian::onvif {

struct HttpUrl {
  std::string host;  // IPv6 without brackets
  uint16_t port = 80;
  std::string target;  // "/onvif/device_service"
};

// http://host[:port][/path]; refuses user info, other schemes and spaces.
Result<HttpUrl> ParseHttpUrl(const std::string& url);

struct HttpReply {
  int status = 0;
  std::string body;
};

Result<HttpReply> PostSoap(const std::string& url, const std::string& envelope, int64_t timeout_ms);

}  // namespace custodian::onvif
