#include "onvif/http_post.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

#include "onvif/xml.h"

namespace custodian::onvif {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

Result<HttpUrl> ParseHttpUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) {
    return InvalidArgument("the device address must start with http://");
  }
  if (url.find_first_of(" \t\r\n") != std::string::npos || url.size() > 1000) {
    return InvalidArgument("the device address has spaces or is too long");
  }
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  HttpUrl out;
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

}  // namespace

Result<HttpReply> PostSoap(const std::string& url, const std::string& envelope,
                           int64_t timeout_ms) {
  auto parsed = ParseHttpUrl(url);
  if (!parsed.ok()) return parsed.status();
  const std::string where = Printable(parsed->host) + ":" + std::to_string(parsed->port);
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  beast::error_code ec;
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(parsed->host, std::to_string(parsed->port), ec);
  if (ec) return Unavailable("cannot resolve the device " + Printable(parsed->host));
  stream.expires_at(std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms));
  auto timed_out = [&](beast::error_code e) { return e == beast::error::timeout; };
  const std::string late =
      "the device at " + where + " did not answer within " + std::to_string(timeout_ms) + " ms";

  ec = RunToCompletion(io, [&](auto handler) { stream.async_connect(endpoints, handler); });
  if (timed_out(ec)) return Unavailable(late);
  if (ec) return Unavailable("cannot connect to the device at " + where + ": " + ec.message());

  http::request<http::string_body> req{http::verb::post, parsed->target, 11};
  req.set(http::field::host, parsed->port == 80 ? parsed->host : where);
  req.set(http::field::user_agent, "custodian");
  req.set(http::field::content_type, "application/soap+xml; charset=utf-8");
  req.set(http::field::connection, "close");
  req.body() = envelope;
  req.prepare_payload();
  ec = RunToCompletion(io, [&](auto handler) { http::async_write(stream, req, handler); });
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
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return HttpReply{static_cast<int>(parser.get().result_int()), std::move(parser.get().body())};
}

}  // namespace custodian::onvif
