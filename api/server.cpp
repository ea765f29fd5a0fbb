// The listener and the server's threads; the per-connection work is in https_session.cpp.
#include "api/server.h"

#include <openssl/ssl.h>

#include <chrono>
#include <thread>
#include <vector>

#include "api/metrics.h"
#include "api/server_internal.h"
#include "api/tls_cert.h"
#include "base/log.h"

namespace custodian::api {

using namespace internal;

namespace {

// TLS 1.2 suites with forward secrecy and AEAD; TLS 1.3 suites are all of that already.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

Status ConfigureTls(ssl::context& tls, const ServerOptions& o) {
  tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::no_compression | ssl::context::single_dh_use);
  SSL_CTX* ctx = tls.native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    return Internal("cannot restrict TLS versions and ciphers");
  }
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  auto pem = ReadTlsCredentials(o.cert_path, o.key_path,
                                o.filesystem ? *o.filesystem : PosixFilesystem::Instance());
  if (!pem.ok()) return pem.status();
  beast::error_code ec;
  tls.use_certificate_chain(net::buffer(pem->cert_pem), ec);
  if (ec) return InvalidArgument("cannot load the TLS certificate " + o.cert_path);
  tls.use_private_key(net::buffer(pem->key_pem), ssl::context::pem, ec);
  if (ec) return InvalidArgument("cannot load the TLS key " + o.key_path);
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return InvalidArgument("the TLS key does not match the certificate");
  }
  return Status::Ok();
}

}  // namespace

void ServerShared::Register(const std::shared_ptr<HttpsSession>& session) {
  MutexLock lock(mu_);
  sessions_[session.get()] = session;
}

void ServerShared::Unregister(HttpsSession* session) {
  MutexLock lock(mu_);
  sessions_.erase(session);
  if (sessions_.empty()) closed_.notify_all();
}

size_t ServerShared::Count() {
  MutexLock lock(mu_);
  return sessions_.size();
}

void ServerShared::ShutdownAll() {
  std::vector<std::shared_ptr<HttpsSession>> live;
  {
    MutexLock lock(mu_);
    for (auto& [raw, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->Shutdown();
}

bool ServerShared::WaitAllClosed(int deadline_ms) {
  MutexLock lock(mu_);
  return lock.WaitFor(closed_, std::chrono::milliseconds(deadline_ms),
                      [this]() REQUIRES(mu_) { return sessions_.empty(); });
}

unsigned IoThreads(const ServerOptions& o) {
  if (o.io_threads > 0) return static_cast<unsigned>(o.io_threads);
  return std::max(1u, std::thread::hardware_concurrency());
}

// One io_context per io thread, each run by that thread alone: a connection lives on one
// of them, so its handlers never run concurrently (the context is its strand) and no
// thread wakes another to move its bytes. New connections go round-robin.
std::vector<std::unique_ptr<net::io_context>> MakeContexts(unsigned n) {
  std::vector<std::unique_ptr<net::io_context>> v;
  for (unsigned i = 0; i < n; ++i) v.push_back(std::make_unique<net::io_context>(1));
  return v;
}

// Members are destroyed in reverse order: threads are joined (by Stop) before the pool,
// the acceptor, the TLS context and finally the io_contexts go.
struct Server::Impl {
  Impl(Api& api, const ServerOptions& o)
      : options(o),
        iocs(MakeContexts(IoThreads(o))),
        acceptor(*iocs[0]),
        handlers(static_cast<size_t>(o.handler_threads > 0 ? o.handler_threads : 32)),
        passwords(static_cast<size_t>(o.password_threads > 0 ? o.password_threads : 2)),
        shared(std::make_shared<ServerShared>(api, o.limits, handlers, passwords)) {}

  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);

  const ServerOptions options;
  std::vector<std::unique_ptr<net::io_context>> iocs;
  ssl::context tls{ssl::context::tls_server};
  tcp::acceptor acceptor;  // runs on iocs[0], so its handlers and Stop's close are serial
  net::thread_pool handlers;
  net::thread_pool passwords;
  std::shared_ptr<ServerShared> shared;
  std::vector<std::thread> threads;
  size_t next_context = 0;  // touched only by the acceptor's handlers
  uint16_t port = 0;
  std::once_flag stop_once;
};

void Server::Impl::Accept() {
  net::io_context& target = *iocs[next_context++ % iocs.size()];
  acceptor.async_accept(target, [this](beast::error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void Server::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (shared->stopping || ec == net::error::operation_aborted) return;
  if (ec) {
    LogWarn("api") << "accept failed: " << ec.message() << "; accepting again";
  } else if (shared->Count() >= static_cast<size_t>(options.limits.max_connections)) {
    shared->api.metrics().ConnectionRejected();
    beast::error_code ignored;
    socket.close(ignored);
  } else {
    // Responses go out as header then body writes; without NODELAY, Nagle's algorithm
    // would hold the second until the client's delayed ACK, adding up to 40 ms.
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto session = std::make_shared<HttpsSession>(std::move(socket), tls, shared);
    shared->Register(session);
    session->Start();
  }
  Accept();
}

Status SplitListenAddress(const std::string& listen, std::string* host, uint16_t* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 >= listen.size()) {
    return InvalidArgument("listen address must be host:port, got \"" + listen + "\"");
  }
  *host = listen.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  const std::string p = listen.substr(colon + 1);
  if (host->empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(p) > 65535) {
    return InvalidArgument("listen address must be host:port, got \"" + listen + "\"");
  }
  *port = static_cast<uint16_t>(std::stoi(p));
  return Status::Ok();
}

Result<std::unique_ptr<Server>> Server::Start(Api& api, const ServerOptions& options) {
  std::string host;
  uint16_t port = 0;
  CUSTODIAN_RETURN_IF_ERROR(SplitListenAddress(options.listen, &host, &port));
  auto impl = std::make_unique<Impl>(api, options);
  CUSTODIAN_RETURN_IF_ERROR(ConfigureTls(impl->tls, options));

  beast::error_code ec;
  tcp::resolver resolver(*impl->iocs[0]);
  auto found = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || found.empty()) return InvalidArgument("cannot resolve listen host " + host);
  const tcp::endpoint endpoint = found.begin()->endpoint();
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Unavailable("cannot listen on " + options.listen + ": " + ec.message());
  impl->port = impl->acceptor.local_endpoint(ec).port();

  impl->Accept();
  for (auto& ioc : impl->iocs) {
    // Keeps an idle context running until Stop.
    impl->threads.emplace_back([io = ioc.get()] {
      auto work = net::make_work_guard(*io);
      io->run();
    });
  }
  LogInfo("api") << "serving HTTPS on " << host << ":" << impl->port << " with "
                 << impl->iocs.size() << " io threads and " << options.handler_threads
                 << " handler threads";
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

uint16_t Server::port() const { return impl_->port; }

void Server::Stop() {
  std::call_once(impl_->stop_once, [this] {
    Impl& s = *impl_;
    s.shared->stopping = true;
    net::post(s.acceptor.get_executor(), [&s] {
      beast::error_code ignored;
      s.acceptor.close(ignored);
    });
    s.shared->ShutdownAll();
    const bool clean = s.shared->WaitAllClosed(s.options.limits.shutdown_deadline_ms);
    if (!clean) {
      LogWarn("api") << s.shared->Count() << " connections still open after "
                     << s.options.limits.shutdown_deadline_ms << " ms; closing them";
    }
    for (auto& ioc : s.iocs) ioc->stop();
    for (auto& t : s.threads) t.join();
    s.handlers.join();
    s.passwords.join();
    LogInfo("api") << "server stopped";
  });
}

}  // namespace custodian::api
