#include "media/rtsp/rtsp_message.h"

#include <cctype>
#include <charconv>

namespace custodian::media::rtsp {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

bool ParseInt(std::string_view s, long* out) {
  s = Trim(s);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

const std::string* RtspMessage::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return &v;
  }
  return nullptr;
}

std::vector<std::string> RtspMessage::AllHeaders(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) out.push_back(v);
  }
  return out;
}

int RtspMessage::CSeq() const {
  const std::string* v = Header("CSeq");
  long n = -1;
  if (!v || !ParseInt(*v, &n)) return -1;
  return static_cast<int>(n);
}

Result<RtspMessage> ParseRtspHead(std::string_view head) {
  RtspMessage m;
  size_t eol = head.find('\n');
  std::string_view start = Trim(head.substr(0, eol));
  head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 1);
  if (start.starts_with("RTSP/")) {
    // RTSP/1.0 200 OK
    size_t sp = start.find(' ');
    if (sp == std::string_view::npos) return DataLoss("malformed RTSP status line");
    std::string_view rest = start.substr(sp + 1);
    long code = 0;
    size_t sp2 = rest.find(' ');
    if (!ParseInt(rest.substr(0, sp2), &code) || code < 100 || code > 999)
      return DataLoss("malformed RTSP status code");
    m.is_response = true;
    m.status = static_cast<int>(code);
    if (sp2 != std::string_view::npos) m.reason = std::string(Trim(rest.substr(sp2 + 1)));
  } else {
    size_t sp = start.find(' ');
    if (sp == std::string_view::npos || sp == 0) return DataLoss("malformed RTSP request line");
    m.method = std::string(start.substr(0, sp));
  }
  while (!head.empty()) {
    eol = head.find('\n');
    std::string_view line = Trim(head.substr(0, eol));
    head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 1);
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // tolerated, as other clients do
    m.headers.emplace_back(std::string(Trim(line.substr(0, colon))),
                           std::string(Trim(line.substr(colon + 1))));
  }
  return m;
}

long ContentLength(const RtspMessage& m) {
  const std::string* v = m.Header("Content-Length");
  if (!v) return 0;
  long n = 0;
  if (!ParseInt(*v, &n) || n < 0) return -1;
  return n;
}

Result<RtspUrl> ParseRtspUrl(const std::string& url) {
  RtspUrl u;
  const std::string_view kScheme = "rtsp://";
  const std::string_view kTlsScheme = "rtsps://";
  std::string_view rest;
  if (url.size() >= kScheme.size() &&
      EqualsIgnoreCase(std::string_view(url).substr(0, kScheme.size()), kScheme)) {
    rest = std::string_view(url).substr(kScheme.size());
  } else if (url.size() >= kTlsScheme.size() &&
             EqualsIgnoreCase(std::string_view(url).substr(0, kTlsScheme.size()), kTlsScheme)) {
    rest = std::string_view(url).substr(kTlsScheme.size());
    u.tls = true;
    u.port = 322;
  } else {
    return InvalidArgument("not an rtsp:// or rtsps:// URL");
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    size_t colon = userinfo.find(':');
    u.user = PercentDecode(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) u.password = PercentDecode(userinfo.substr(colon + 1));
    authority = authority.substr(at + 1);
  }
  std::string_view port;
  if (authority.starts_with('[')) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgument("malformed IPv6 host in URL");
    u.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      port = authority.substr(close + 2);
  } else {
    size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return InvalidArgument("URL has no host");
  if (!port.empty()) {
    long p = 0;
    if (!ParseInt(port, &p) || p <= 0 || p > 65535) return InvalidArgument("malformed port in URL");
    u.port = static_cast<int>(p);
  }
  u.clean = (u.tls ? "rtsps://" : "rtsp://") + std::string(authority) + std::string(path);
  return u;
}

std::string ResolveControl(const std::string& base, const std::string& control) {
  if (control.empty() || control == "*") return base;
  if (control.find("://") != std::string::npos) return control;
  if (!base.empty() && base.back() == '/') return base + control;
  return base + "/" + control;
}

std::optional<std::string> HeaderParam(std::string_view value, std::string_view key) {
  while (!value.empty()) {
    size_t semi = value.find(';');
    std::string_view item = Trim(value.substr(0, semi));
    value = semi == std::string_view::npos ? std::string_view() : value.substr(semi + 1);
    size_t eq = item.find('=');
    if (EqualsIgnoreCase(Trim(item.substr(0, eq)), key)) {
      if (eq == std::string_view::npos) return std::string();
      std::string_view v = Trim(item.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return std::string(v);
    }
  }
  return std::nullopt;
}

}  // namespace custodian::media::rtsp
