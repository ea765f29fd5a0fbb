// One HTTPS connection: handshake, read requests (with the edge limits), hand each to the
// handler pool, write the response (streaming file slices), repeat while kept alive.
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "api/errors.h"
#include "api/metrics.h"
#include "api/server_internal.h"
#include "api/web_security.h"
#include "base/log.h"

namespace custodian::api::internal {

namespace {

// A mapped file body is handed to the TLS stream this much at a time; between pieces the
// file's size is checked again and the stall timer restarted.
constexpr size_t kFileChunkBytes = 1024 * 1024;
constexpr size_t kFirstReadBytes = 4 * 1024;
constexpr int kTlsCloseTimeoutMs = 2000;
// After refusing a request at the edge, the rest of what the client is sending is read and
// dropped for this long (or this many bytes) before closing. Closing at once with unread
// data makes the kernel send a reset, which can destroy the refusal before the client
// reads it.
constexpr int kLingerMs = 2000;
constexpr size_t kLingerMaxBytes = 1 << 20;

std::chrono::milliseconds Ms(int ms) { return std::chrono::milliseconds(ms); }

bool IsHttpParseError(const beast::error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_target).category();
}

HttpRequest ToRequest(http::request<http::string_body>&& in, const std::string& client,
                      bool loopback) {
  HttpRequest r;
  r.method = ParseMethod(std::string_view(in.method_string().data(), in.method_string().size()));
  r.target = std::string(in.target());
  SplitTarget(r.target, &r.path, &r.query);
  for (const auto& field : in) {
    r.headers.emplace_back(
        ToLower(std::string_view(field.name_string().data(), field.name_string().size())),
        std::string(field.value()));
  }
  r.body = std::move(in.body());
  r.client = client;
  r.client_is_loopback = loopback;
  return r;
}

template <class Body>
void FillHeader(http::response<Body>& msg, const HttpResponse& r, bool close) {
  msg.result(static_cast<unsigned>(r.status));
  msg.version(11);
  if (!r.content_type.empty()) msg.set(http::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) msg.set(name, value);
  msg.keep_alive(!close);
}

}  // namespace

template <class Body>
struct Outgoing {
  explicit Outgoing(http::response<Body>&& m) : msg(std::move(m)), serializer(msg) {}
  http::response<Body> msg;
  http::response_serializer<Body> serializer;
};

// A file slice being sent: the header goes through Beast, the body is written straight
// from a read-only mapping of the file to the TLS stream. Mapping saves copying every byte
// from the page cache into a buffer first (the largest single cost of a download after
// the encryption itself).
struct FileTransfer {
  FileTransfer(http::response<http::empty_body>&& m, FileSlice s)
      : msg(std::move(m)), serializer(msg), slice(std::move(s)) {}
  ~FileTransfer() {
    if (map != MAP_FAILED) ::munmap(map, map_length);
  }
  // Maps the slice; false if the file cannot be mapped.
  bool Map() {
    const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    const uint64_t start = slice.offset / page * page;
    map_length = static_cast<size_t>(slice.offset + slice.length - start);
    if (map_length == 0) return true;
    map = ::mmap(nullptr, map_length, PROT_READ, MAP_SHARED, slice.file->fd(),
                 static_cast<off_t>(start));
    if (map == MAP_FAILED) return false;
    ::madvise(map, map_length, MADV_SEQUENTIAL);
    data = static_cast<const char*>(map) + (slice.offset - start);
    return true;
  }
  http::response<http::empty_body> msg;
  http::response_serializer<http::empty_body> serializer;
  FileSlice slice;
  uint64_t sent = 0;
  void* map = MAP_FAILED;
  size_t map_length = 0;
  const char* data = nullptr;
};

HttpsSession::HttpsSession(tcp::socket socket, ssl::context& tls,
                           std::shared_ptr<ServerShared> shared)
    : stream_(std::move(socket), tls), shared_(std::move(shared)), delay_(stream_.get_executor()) {
  beast::error_code ec;
  auto remote = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
  if (!ec) {
    net::ip::address a = remote.address();
    if (a.is_v6() && a.to_v6().is_v4_mapped()) {
      a = net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6());
    }
    client_ = a.to_string();
    loopback_ = a.is_loopback();
  }
  shared_->api.metrics().ConnectionOpened();
}

HttpsSession::~HttpsSession() {
  shared_->api.metrics().ConnectionClosed();
  shared_->Unregister(this);
}

void HttpsSession::Start() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    beast::get_lowest_layer(self->stream_)
        .expires_after(Ms(self->shared_->limits.handshake_timeout_ms));
    self->stream_.async_handshake(ssl::stream_base::server,
                                  [self](beast::error_code ec) { self->OnHandshake(ec); });
  });
}

void HttpsSession::Shutdown() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    self->shutdown_requested_ = true;
    if (self->phase_ == Phase::kHandshake || self->phase_ == Phase::kIdle ||
        self->phase_ == Phase::kReading) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->stream_).socket().close(ignored);
    }
  });
}

void HttpsSession::OnHandshake(beast::error_code ec) {
  if (ec || shutdown_requested_) return;  // dropping the last reference closes the socket
  AwaitRequest();
}

// Idle phase: wait up to idle_timeout_ms for the first bytes of the next request. Bytes
// already buffered (a pipelined request) skip the wait.
void HttpsSession::AwaitRequest() {
  if (buffer_.size() > 0) return ReadRequest();
  phase_ = Phase::kIdle;
  beast::get_lowest_layer(stream_).expires_after(Ms(shared_->limits.idle_timeout_ms));
  stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            if (ec || self->shutdown_requested_)
                              return;  // idle timeout, peer gone, or stopping
                            self->buffer_.commit(n);
                            self->ReadRequest();
                          });
}

void HttpsSession::ReadRequest() {
  phase_ = Phase::kReading;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(shared_->limits.max_header_bytes));
  parser_->body_limit(shared_->limits.max_body_bytes);
  beast::get_lowest_layer(stream_).expires_after(Ms(shared_->limits.read_timeout_ms));
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
}

void HttpsSession::OnRead(beast::error_code ec) {
  if (ec == http::error::header_limit) {
    return RejectAtEdge(431, "header_too_large", "the request headers are too large");
  }
  if (ec == http::error::body_limit) {
    return RejectAtEdge(413, "body_too_large", "the request body is too large");
  }
  if (ec && IsHttpParseError(ec) && ec != http::error::end_of_stream &&
      ec != http::error::partial_message) {
    return RejectAtEdge(400, "bad_request", "malformed HTTP request");
  }
  if (ec) return;  // timeout, reset, end of stream: close quietly
  auto msg = parser_->release();
  const bool keep_alive = msg.keep_alive();
  Handle(ToRequest(std::move(msg), client_, loopback_), keep_alive);
}

void HttpsSession::RejectAtEdge(int status, const char* code, const char* message) {
  shared_->api.metrics().EdgeRejection();
  auto r = std::make_shared<HttpResponse>(ErrorResponse(status, code, message));
  ApplySecurityHeaders(r.get());
  r->close = true;  // the rest of the stream cannot be trusted to frame a next request
  linger_on_close_ = true;
  Send(r, false);
}

void HttpsSession::Handle(HttpRequest request, bool keep_alive) {
  phase_ = Phase::kHandling;
  net::post(UsesPasswordHashing(request.method, request.path) ? shared_->passwords
                                                              : shared_->handlers,
            [self = shared_from_this(), request = std::move(request), keep_alive]() mutable {
              auto response = std::make_shared<HttpResponse>(self->shared_->api.Handle(request));
              net::post(self->stream_.get_executor(),
                        [self, response, keep_alive] { self->Respond(response, keep_alive); });
            });
}

void HttpsSession::Respond(std::shared_ptr<HttpResponse> response, bool keep_alive) {
  if (response->delay_ms <= 0) return Send(response, keep_alive);
  delay_.expires_after(Ms(response->delay_ms));
  delay_.async_wait([self = shared_from_this(), response, keep_alive](beast::error_code) {
    self->Send(response, keep_alive);
  });
}

void HttpsSession::Send(const std::shared_ptr<HttpResponse>& r, bool keep_alive) {
  phase_ = Phase::kWriting;
  const bool close = r->close || !keep_alive || shutdown_requested_ || shared_->stopping;
  if (r->file) {
    http::response<http::empty_body> msg;
    FillHeader(msg, *r, close);
    msg.content_length(r->file->length);
    auto t = std::make_shared<FileTransfer>(std::move(msg), *r->file);
    if (!t->Map()) {
      LogWarn("api") << "cannot map a file to send it (" << std::strerror(errno)
                     << "); closing the connection";
      beast::error_code ignored;
      beast::get_lowest_layer(stream_).socket().close(ignored);
      return;
    }
    beast::get_lowest_layer(stream_).expires_after(Ms(shared_->limits.write_stall_timeout_ms));
    http::async_write_header(stream_, t->serializer,
                             [self = shared_from_this(), t, close](beast::error_code ec, size_t) {
                               if (!ec) self->WriteFileChunk(t, close);
                             });
  } else {
    http::response<http::string_body> msg;
    FillHeader(msg, *r, close);
    msg.body() = std::move(r->body);
    msg.prepare_payload();
    WriteSome(std::make_shared<Outgoing<http::string_body>>(std::move(msg)), close);
  }
}

template <class Body>
void HttpsSession::WriteSome(std::shared_ptr<Outgoing<Body>> out, bool close) {
  beast::get_lowest_layer(stream_).expires_after(Ms(shared_->limits.write_stall_timeout_ms));
  http::async_write_some(stream_, out->serializer,
                         [self = shared_from_this(), out, close](beast::error_code ec, size_t) {
                           if (ec) return;  // peer gone or stalled: drop the connection
                           if (!out->serializer.is_done()) return self->WriteSome(out, close);
                           self->AfterWrite(close);
                         });
}

void HttpsSession::WriteFileChunk(std::shared_ptr<FileTransfer> t, bool close) {
  const uint64_t left = t->slice.length - t->sent;
  if (left == 0) return AfterWrite(close);
  // The file must still hold the whole slice: reading a mapped page past a truncated end
  // would raise SIGBUS. Complete segments are never truncated (only unlinked, which a
  // mapping survives); this catches anything else between chunks.
  struct stat st {};
  if (::fstat(t->slice.file->fd(), &st) != 0 ||
      static_cast<uint64_t>(st.st_size) < t->slice.offset + t->slice.length) {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
    return;
  }
  const size_t n = static_cast<size_t>(std::min<uint64_t>(left, kFileChunkBytes));
  beast::get_lowest_layer(stream_).expires_after(Ms(shared_->limits.write_stall_timeout_ms));
  net::async_write(stream_, net::buffer(t->data + t->sent, n),
                   [self = shared_from_this(), t, close](beast::error_code ec, size_t written) {
                     if (ec) return;  // peer gone or stalled: drop the connection
                     t->sent += written;
                     self->WriteFileChunk(t, close);
                   });
}

void HttpsSession::AfterWrite(bool close) {
  if (close && linger_on_close_ && !shutdown_requested_) return Linger();
  if (close || shutdown_requested_) return Close();
  AwaitRequest();
}

void HttpsSession::Linger() {
  phase_ = Phase::kClosing;
  buffer_.clear();
  beast::get_lowest_layer(stream_).expires_after(Ms(kLingerMs));
  DrainSome(kLingerMaxBytes);
}

void HttpsSession::DrainSome(size_t budget) {
  stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                          [self = shared_from_this(), budget](beast::error_code ec, size_t n) {
                            if (ec || n >= budget) {
                              beast::error_code ignored;
                              beast::get_lowest_layer(self->stream_).socket().close(ignored);
                              return;
                            }
                            self->DrainSome(budget - n);
                          });
}

void HttpsSession::Close() {
  phase_ = Phase::kClosing;
  if (shared_->stopping) {
    // The response said Connection: close; waiting for the client's close_notify could
    // hold the shutdown for kTlsCloseTimeoutMs.
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
    return;
  }
  beast::get_lowest_layer(stream_).expires_after(Ms(kTlsCloseTimeoutMs));
  stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
    beast::error_code ignored;
    beast::get_lowest_layer(self->stream_).socket().close(ignored);
  });
}

}  // namespace custodian::api::internal
