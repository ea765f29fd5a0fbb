#include "config/checks.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "config/yaml_reader.h"

namespace custodian::config {
namespace {

using internal::Quote;

bool IsDigits(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// 1-65535, or 0 when s is not a port.
int ParsePort(const std::string& s) {
  if (!IsDigits(s) || s.size() > 5) return 0;
  int port = std::stoi(s);
  return port <= 65535 ? port : 0;
}

bool IsIpv6(const std::string& s) {
  in6_addr a;
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

// A DNS name or an IPv4 address.
bool IsHostName(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  if (std::all_of(s.begin(), s.end(),
                  [](unsigned char c) { return std::isdigit(c) || c == '.'; })) {
    in_addr a;
    return inet_pton(AF_INET, s.c_str(), &a) == 1;
  }
  size_t label = 0;
  for (char c : s) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  return label > 0;
}

struct HostPort {
  std::string host;
  std::string port;  // empty when absent
  bool ok = false;
};

// "host", "host:port", "[v6]" or "[v6]:port".
HostPort SplitHostPort(const std::string& s) {
  HostPort hp;
  std::string rest;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string::npos) return hp;
    hp.host = s.substr(1, close - 1);
    rest = s.substr(close + 1);
    if (!IsIpv6(hp.host)) return hp;
  } else {
    size_t colon = s.find(':');
    hp.host = s.substr(0, colon);
    rest = colon == std::string::npos ? "" : s.substr(colon);
    if (!IsHostName(hp.host)) return hp;
  }
  if (!rest.empty()) {
    if (rest[0] != ':' || ParsePort(rest.substr(1)) == 0) return hp;
    hp.port = rest.substr(1);
  }
  hp.ok = true;
  return hp;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::optional<std::string> CheckCameraId(const std::string& id) {
  if (id.size() > kMaxCameraIdLength) {
    return "must be at most " + std::to_string(kMaxCameraIdLength) + " characters, got " +
           std::to_string(id.size()) + " in " + Quote(id);
  }
  bool chars_ok = std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (id.empty() || !chars_ok || id[0] == '-') {
    return "must be lower-case letters, digits and '-', starting with a letter or digit, got " +
           Quote(id);
  }
  return std::nullopt;
}

std::optional<std::string> CheckCameraUrl(const std::string& url) {
  // Any '@' may be the end of "user:password@", even when the password holds a '/' that
  // would hide it from a URL parser; such a URL is never quoted back.
  if (url.find('@') != std::string::npos) {
    return "must not contain a user name or password (found '@'); set username and "
           "password_file instead";
  }
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; })) {
    return "must not contain spaces or control characters, got " + Quote(url);
  }
  size_t sep = url.find("://");
  std::string scheme = sep == std::string::npos ? "" : Lower(url.substr(0, sep));
  if (scheme != "rtsp" && scheme != "rtsps") {
    return "expected an rtsp:// or rtsps:// URL, got " + Quote(url);
  }
  std::string rest = url.substr(sep + 3);
  std::string authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty()) return "has no host, got " + Quote(url);
  if (!SplitHostPort(authority).ok) {
    return "has a bad host or port " + Quote(authority) + ", got " + Quote(url);
  }
  return std::nullopt;
}

std::string CameraEndpoint(const std::string& url) {
  if (CheckCameraUrl(url)) return {};
  size_t sep = url.find("://");
  const std::string scheme = Lower(url.substr(0, sep));
  const std::string rest = url.substr(sep + 3);
  HostPort hp = SplitHostPort(rest.substr(0, rest.find_first_of("/?#")));
  const std::string host = hp.host.find(':') != std::string::npos ? "[" + Lower(hp.host) + "]"
                                                                   : Lower(hp.host);
  const int port = hp.port.empty() ? (scheme == "rtsps" ? 322 : 554) : ParsePort(hp.port);
  return scheme + "://" + host + ":" + std::to_string(port);
}

Result<ListenAddress> ParseListenAddress(const std::string& listen) {
  HostPort hp = SplitHostPort(listen);
  if (!hp.ok || hp.host.empty() || hp.port.empty()) {
    return InvalidArgument("expected host:port, such as 127.0.0.1:8443 or [::]:8443, got " +
                           Quote(listen));
  }
  return ListenAddress{hp.host, ParsePort(hp.port)};
}

std::optional<std::string> CheckDeviceText(const std::string& text) {
  if (text.size() > kMaxDeviceTextLength) {
    return "at most " + std::to_string(kMaxDeviceTextLength) + " characters";
  }
  for (char c : text) {
    if (c < 0x20 || c > 0x7e) return std::string("printable ASCII characters only");
  }
  return std::nullopt;
}

}  // namespace custodian::config
