// Internal to server.cpp and https_session.cpp: the Beast types, the state shared by the
// listener and its sessions, and the session class. Only these two translation units
// include Boost.Beast, which keeps the rest of api/ quick to compile.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "api/api.h"
#include "api/http.h"
#include "api/server.h"
#include "base/mutex.h"

namespace custodian::api::internal {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

class HttpsSession;
// A response being written, with its serializer (https_session.cpp).
template <class Body>
struct Outgoing;
struct FileTransfer;

// What the listener and every session share. Sessions register themselves so that Stop()
// can reach them; the count is the connection limit's measure.
class ServerShared {
 public:
  ServerShared(Api& api, const ServerLimits& limits, net::thread_pool& handlers,
               net::thread_pool& passwords)
      : api(api), limits(limits), handlers(handlers), passwords(passwords) {}

  Api& api;
  const ServerLimits limits;
  net::thread_pool& handlers;
  net::thread_pool& passwords;  // requests that hash or verify a password
  std::atomic<bool> stopping{false};

  void Register(const std::shared_ptr<HttpsSession>& session);
  void Unregister(HttpsSession* session);
  size_t Count();
  // Asks every live session to finish and close.
  void ShutdownAll();
  // Waits until no session is left or the deadline passes; true when none is left.
  bool WaitAllClosed(int deadline_ms);

 private:
  Mutex mu_;
  std::condition_variable closed_;
  std::unordered_map<HttpsSession*, std::weak_ptr<HttpsSession>> sessions_ GUARDED_BY(mu_);
};

class HttpsSession : public std::enable_shared_from_this<HttpsSession> {
 public:
  HttpsSession(tcp::socket socket, ssl::context& tls, std::shared_ptr<ServerShared> shared);
  ~HttpsSession();

  void Start();
  // From any thread: drop an idle connection now, or finish the request in progress and
  // then close.
  void Shutdown();

 private:
  enum class Phase { kHandshake, kIdle, kReading, kHandling, kWriting, kClosing };

  void OnHandshake(beast::error_code ec);
  void AwaitRequest();
  void ReadRequest();
  void OnRead(beast::error_code ec);
  void RejectAtEdge(int status, const char* code, const char* message);
  void Handle(HttpRequest request, bool keep_alive);
  void Respond(std::shared_ptr<HttpResponse> response, bool keep_alive);
  void Send(const std::shared_ptr<HttpResponse>& response, bool keep_alive);
  template <class Body>
  void WriteSome(std::shared_ptr<Outgoing<Body>> out, bool close);
  void WriteFileChunk(std::shared_ptr<FileTransfer> transfer, bool close);
  void AfterWrite(bool close);
  void Close();
  void Linger();
  void DrainSome(size_t budget);

  beast::ssl_stream<beast::tcp_stream> stream_;
  std::shared_ptr<ServerShared> shared_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  net::steady_timer delay_;
  std::string client_;
  bool loopback_ = false;
  // Touched only on the session's io thread (its io_context has exactly one).
  Phase phase_ = Phase::kHandshake;
  bool shutdown_requested_ = false;
  bool linger_on_close_ = false;  // read and drop the client's remaining bytes first
};

}  // namespace custodian::api::internal
