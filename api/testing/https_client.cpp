#include "api/testing/https_client.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

namespace custodian::api::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {
constexpr uint64_t kMaxResponseBytes = 256ull << 20;
}

std::string ClientResponse::Header(const std::string& name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return "";
}

struct HttpsClient::Impl {
  Impl(uint16_t p, const std::string& ca) : port(p), tls(ssl::context::tls_client) {
    tls.load_verify_file(ca);
    tls.set_verify_mode(ssl::verify_peer);
  }

  bool Connect() {
    stream.emplace(ioc, tls);
    buffer.clear();
    beast::error_code ec;
    beast::get_lowest_layer(*stream).connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    if (!ec) stream->handshake(ssl::stream_base::client, ec);
    if (ec) stream.reset();
    return !ec;
  }

  ClientResponse Read() {
    ClientResponse out;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBytes);
    beast::error_code ec;
    http::read(*stream, buffer, parser, ec);
    if (ec) {
      stream.reset();
      return out;
    }
    auto msg = parser.release();
    out.status = static_cast<int>(msg.result_int());
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers.emplace_back(name, std::string(f.value()));
    }
    out.body = std::move(msg.body());
    if (!msg.keep_alive()) stream.reset();
    return out;
  }

  uint16_t port;
  net::io_context ioc;
  ssl::context tls;
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream;
  beast::flat_buffer buffer;
};

HttpsClient::HttpsClient(uint16_t port, const std::string& ca)
    : impl_(std::make_unique<Impl>(port, ca)) {}

HttpsClient::~HttpsClient() = default;

ClientResponse HttpsClient::Send(const std::string& method, const std::string& target,
                                 const Headers& headers, const std::string& body) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!impl_->stream && !impl_->Connect()) return {};
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, "127.0.0.1:" + std::to_string(impl_->port));
    for (const auto& [n, v] : headers) req.set(n, v);
    req.body() = body;
    req.prepare_payload();
    beast::error_code ec;
    http::write(*impl_->stream, req, ec);
    if (ec) {  // the server closed the kept-alive connection: reconnect once
      impl_->stream.reset();
      continue;
    }
    ClientResponse r = impl_->Read();
    if (r.status != 0 || attempt == 1) return r;
  }
  return {};
}

ClientResponse HttpsClient::SendRaw(const std::string& bytes) {
  if (!impl_->Connect()) return {};
  beast::error_code ec;
  net::write(*impl_->stream, net::buffer(bytes), ec);
  if (ec) {
    impl_->stream.reset();
    return {};
  }
  return impl_->Read();
}

bool HttpsClient::HandshakeSucceeds(uint16_t port, int max_tls_version) {
  net::io_context ioc;
  ssl::context tls(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(tls.native_handle(), 0);
  SSL_CTX_set_max_proto_version(tls.native_handle(), max_tls_version);
  SSL_CTX_set_security_level(tls.native_handle(), 0);  // let the client offer old versions
  tls.set_verify_mode(ssl::verify_none);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, tls);
  beast::error_code ec;
  beast::get_lowest_layer(stream).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                                          ec);
  if (ec) return false;
  stream.handshake(ssl::stream_base::client, ec);
  return !ec;
}

}  // namespace custodian::api::testing
