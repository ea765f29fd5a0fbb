// Server: the HTTPS front of the Api, on Boost.Beast.
//
// Shape (after Beast's advanced server example): a listener accepts connections; each
// connection is an HttpsSession that owns its TLS stream; the io threads (one per core,
// each with an io_context of its own, connections dealt to them in turn) only move bytes. A parsed
// request is handed to a pool of handler threads, which run Api::Handle (it may block on the
// records and on the access log's group commit), and the response goes back to the session's strand
// to be written. Keep-alive is supported; a response body that is a file slice is streamed from the
// file in 64 KiB pieces.
//
// Every limit is a named field of ServerLimits, applied at the edge: oversized headers get
// 431 and oversized bodies 413 before any handler runs; a connection that stalls in the
// handshake, in a request, between requests or while being written to is closed; above
// max_connections new connections are closed at once. TLS 1.2 or later only, with
// forward-secret AEAD suites.
//
// Stop() (also called by the destructor) stops accepting, closes idle connections, lets
// requests in progress finish and be written for up to shutdown_deadline_ms, then closes
// whatever remains and joins every thread. Start/Stop/port are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "api/api.h"
#include "base/status.h"

namespace custodian::api {

struct ServerLimits {
  size_t max_header_bytes = 8 * 1024;  // request line and headers together
  size_t max_body_bytes = 64 * 1024;   // JSON bodies are small; nothing is uploaded
  int handshake_timeout_ms = 10'000;
  int read_timeout_ms = 15'000;         // from a request's first byte to its last
  int idle_timeout_ms = 60'000;         // between requests on a kept-alive connection
  int write_stall_timeout_ms = 30'000;  // no progress while writing a response
  int max_connections = 512;
  int shutdown_deadline_ms = 10'000;
};

struct ServerOptions {
  std::string listen = "127.0.0.1:8443";  // host:port or [v6]:port; port 0 picks one
  std::string cert_path;                  // PEM certificate chain
  std::string key_path;                   // PEM private key
  Filesystem* filesystem = nullptr;       // reads the two; the real one when null
  int io_threads = 0;                     // 0: one per core
  int handler_threads = 32;               // bounds concurrent handlers (and commit batches)
  // Requests that hash or verify a password (sign-in, password change, account creation)
  // run on a pool of their own, so that Argon2id (tens of ms and 64 MiB each) can never
  // occupy the handler threads that serve footage and the access log.
  int password_threads = 2;
  ServerLimits limits;
};

class Server {
 public:
  // Binds, loads the certificate and starts the threads. kInvalidArgument for a bad
  // listen address or certificate, kUnavailable when the address is taken, the read's own
  // error (kIo, kNotFound, ...) naming the file when the certificate or key cannot be read.
  static Result<std::unique_ptr<Server>> Start(Api& api, const ServerOptions& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const;
  void Stop();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Splits "host:port" / "[addr]:port". kInvalidArgument when malformed.
Status SplitListenAddress(const std::string& listen, std::string* host, uint16_t* port);

}  // namespace custodian::api
