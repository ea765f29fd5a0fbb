#include "onvif/http_post.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <vector>

#include "base/http_digest.h"
#include "base/sha256.h"
#include "onvif/xml.h"

namespace custodian::onvif {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

Result<HttpUrl> ParseHttpUrl(const std::string& url) {
  HttpUrl out;
  std::string scheme = "http://";
  if (url.compare(0, 8, "https://") == 0) {
    scheme = "https://";
    out.tls = true;
    out.port = 443;
  } else if (url.compare(0, scheme.size(), scheme) != 0) {
    return InvalidArgument("the device address must start with http:// or https://");
  }
  if (url.find_first_of(" \t\r\n") != std::string::npos || url.size() > 1000) {
    return InvalidArgument("the device address has spaces or is too long");
  }
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.find('@') != std::string::npos) {
    return InvalidArgument("the device address must not carry a user name or password");
  }
  std::string port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return InvalidArgument("the device address has a bad host");
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return InvalidArgument("the device address has a bad port");
      port = authority.substr(close + 2);
    }
  } else {
    size_t colon = authority.find(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return InvalidArgument("the device address has no host");
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) < 1 || std::stoi(port) > 65535) {
      return InvalidArgument("the device address has a bad port");
    }
    out.port = static_cast<uint16_t>(std::stoi(port));
  }
  return out;
}

namespace {

// Runs one asynchronous operation to completion on io. Beast's tcp_stream applies its
// deadline to asynchronous operations only, so every step of the exchange runs this way.
template <typename Start>
beast::error_code RunToCompletion(boost::asio::io_context& io, Start start) {
  beast::error_code result = boost::asio::error::would_block;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  io.restart();
  io.run();
  return result;
}

// What one request brought back, before the Digest step reads it.
struct Exchange {
  HttpReply reply;
  std::vector<std::string> www_authenticate;
};

// Lower-case hex SHA-256 of the DER of the certificate the TLS peer presented.
std::string PeerCertificateSha256(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return "";
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  X509_free(cert);
  if (len <= 0) return "";
  const std::string out = Sha256Hex(std::string(reinterpret_cast<const char*>(der), size_t(len)));
  OPENSSL_free(der);
  return out;
}

// One POST on one connection, which the caller has connected (and, for TLS, handshaken).
template <typename Stream>
Result<Exchange> WriteAndRead(boost::asio::io_context& io, Stream& stream, const HttpUrl& u,
                              const std::string& where, const std::string& late,
                              const std::string& envelope, const std::string& authorization) {
  auto timed_out = [&](beast::error_code e) { return e == beast::error::timeout; };
  const bool default_port = u.port == (u.tls ? 443 : 80);
  http::request<http::string_body> req{http::verb::post, u.target, 11};
  req.set(http::field::host, default_port ? u.host : where);
  req.set(http::field::user_agent, "custodian");
  req.set(http::field::content_type, "application/soap+xml; charset=utf-8");
  req.set(http::field::connection, "close");
  if (!authorization.empty()) req.set(http::field::authorization, authorization);
  req.body() = envelope;
  req.prepare_payload();
  beast::error_code ec =
      RunToCompletion(io, [&](auto handler) { http::async_write(stream, req, handler); });
  if (timed_out(ec)) return Unavailable(late);
  if (ec) return Unavailable("cannot send to the device at " + where + ": " + ec.message());

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxXmlBytes);
  parser.header_limit(16 * 1024);
  ec =
      RunToCompletion(io, [&](auto handler) { http::async_read(stream, buffer, parser, handler); });
  if (ec == http::error::body_limit) {
    return InvalidArgument("the device's reply is larger than " + std::to_string(kMaxXmlBytes) +
                           " bytes");
  }
  if (timed_out(ec)) return Unavailable(late);
  if (ec) {
    return InvalidArgument("the device at " + where +
                           " did not send a valid HTTP reply: " + ec.message());
  }
  Exchange out;
  const auto& res = parser.get();
  const auto challenges = res.equal_range(http::field::www_authenticate);
  for (auto it = challenges.first; it != challenges.second; ++it) {
    out.www_authenticate.emplace_back(it->value());
  }
  out.reply.status = static_cast<int>(res.result_int());
  out.reply.body = std::move(parser.get().body());
  return out;
}

// One request on a new connection, all of it before `deadline`.
Result<Exchange> Request(const HttpUrl& u, const std::string& envelope,
                         const std::string& authorization, const std::string& pinned_sha256,
                         std::chrono::steady_clock::time_point deadline, int64_t timeout_ms) {
  const std::string where = Printable(u.host) + ":" + std::to_string(u.port);
  const std::string late =
      "the device at " + where + " did not answer within " + std::to_string(timeout_ms) + " ms";
  boost::asio::io_context io;
  beast::error_code ec;
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(u.host, std::to_string(u.port), ec);
  if (ec) return Unavailable("cannot resolve the device " + Printable(u.host));
  auto connect = [&](beast::tcp_stream& tcp) -> Status {
    tcp.expires_at(deadline);
    ec = RunToCompletion(io, [&](auto handler) { tcp.async_connect(endpoints, handler); });
    if (ec == beast::error::timeout) return Unavailable(late);
    if (ec) return Unavailable("cannot connect to the device at " + where + ": " + ec.message());
    return {};
  };
  if (!u.tls) {
    beast::tcp_stream stream(io);
    CUSTODIAN_RETURN_IF_ERROR(connect(stream));
    auto out = WriteAndRead(io, stream, u, where, late, envelope, authorization);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return out;
  }
  // No chain, name or date checks: the pin is the trust (see the header).
  ssl::context tls(ssl::context::tls_client);
  tls.set_verify_mode(ssl::verify_none);
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  beast::ssl_stream<beast::tcp_stream> stream(io, tls);
  boost::system::error_code not_ip;
  boost::asio::ip::make_address(u.host, not_ip);
  if (not_ip) SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str());
  CUSTODIAN_RETURN_IF_ERROR(connect(beast::get_lowest_layer(stream)));
  ec = RunToCompletion(
      io, [&](auto handler) { stream.async_handshake(ssl::stream_base::client, handler); });
  if (ec == beast::error::timeout) return Unavailable(late);
  if (ec) return Unavailable("the TLS handshake with the device at " + where + " failed");
  const std::string presented = PeerCertificateSha256(stream.native_handle());
  if (presented.empty()) return Unavailable("the device at " + where + " sent no certificate");
  if (!pinned_sha256.empty() && presented != pinned_sha256) {
    return FailedPrecondition(
        "the device at " + where + " presented another certificate (SHA-256 " + presented +
        ") than the one it was first trusted with (" + pinned_sha256 + "); nothing was sent");
  }
  auto out = WriteAndRead(io, stream, u, where, late, envelope, authorization);
  if (out.ok()) out->reply.certificate_sha256 = presented;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
  return out;
}

}  // namespace

Result<HttpReply> PostSoap(const std::string& url, const std::string& envelope, int64_t timeout_ms,
                           const PostOptions& options) {
  auto parsed = ParseHttpUrl(url);
  if (!parsed.ok()) return parsed.status();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto first = Request(*parsed, envelope, "", options.pinned_sha256, deadline, timeout_ms);
  if (!first.ok()) return first.status();
  if (first->reply.status != 401 || options.username.empty() || first->www_authenticate.empty()) {
    return std::move(first->reply);
  }
  auto challenge = http_auth::ChooseDigestChallenge(first->www_authenticate);
  if (!challenge.ok()) return challenge.status();
  // The second connection must reach the device the first one did.
  const std::string pin = parsed->tls ? first->reply.certificate_sha256 : "";
  auto second =
      Request(*parsed, envelope,
              http_auth::DigestAuthorization(*challenge, {"POST", parsed->target, envelope},
                                             options.username, options.password),
              pin, deadline, timeout_ms);
  if (!second.ok()) return second.status();
  return std::move(second->reply);
}

}  // namespace custodian::onvif
