#include "media/rtsp/tcp_socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "base/clock.h"

namespace custodian::media::rtsp {

namespace {

int PollTimeoutMs(int64_t timeout_us) {
  if (timeout_us <= 0) return 0;
  return static_cast<int>((std::min(timeout_us, kCancelCheckUs) + 999) / 1000);
}

bool Cancelled(const std::atomic<bool>* cancel) { return cancel && cancel->load(); }

// Waits for `events` on fd until the deadline, checking cancel between slices.
Status WaitFor(int fd, short events, MonoMicros deadline, const std::atomic<bool>* cancel,
               const char* what) {
  for (;;) {
    if (Cancelled(cancel)) return FailedPrecondition("cancelled");
    int64_t left = deadline - MonotonicNow();
    if (left <= 0) return Unavailable(std::string(what) + ": timed out");
    pollfd p{fd, events, 0};
    int rc = poll(&p, 1, PollTimeoutMs(left));
    if (rc > 0) return Status::Ok();
    if (rc < 0 && errno != EINTR) return ErrnoStatus(what, errno);
  }
}

}  // namespace

MonoMicros MonotonicNow() { return SystemClock::Instance().Monotonic(); }

TcpSocket::~TcpSocket() {
  if (fd_ >= 0) close(fd_);
}

TcpSocket& TcpSocket::operator=(TcpSocket&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

Result<TcpSocket> TcpSocket::Connect(const std::string& host, int port, int64_t timeout_us,
                                     const std::atomic<bool>* cancel) {
  const MonoMicros deadline{MonotonicNow().us + timeout_us};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list);
  if (rc != 0) return Unavailable("resolving " + host + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(list, &freeaddrinfo);
  Status last = Unavailable("no address");
  for (const addrinfo* ai = list; ai; ai = ai->ai_next) {
    auto s = ConnectOne(ai, deadline, cancel);
    if (s.ok()) return s;
    last = s.status();
    if (last.kind() == ErrorKind::kFailedPrecondition) return last;  // cancelled
  }
  return Status(last.kind(),
                "connecting to " + host + ":" + std::to_string(port) + ": " + last.message());
}

Result<TcpSocket> TcpSocket::ConnectOne(const void* addr, MonoMicros deadline,
                                        const std::atomic<bool>* cancel) {
  const auto* ai = static_cast<const addrinfo*>(addr);
  TcpSocket sock(
      socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
  if (sock.fd_ < 0) return ErrnoStatus("socket", errno);
  int one = 1;
  // Requests are small and wait for their answers; Nagle would only delay them.
  setsockopt(sock.fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(sock.fd_, ai->ai_addr, ai->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) return Unavailable(std::strerror(errno));
    CUSTODIAN_RETURN_IF_ERROR(WaitFor(sock.fd_, POLLOUT, deadline, cancel, "connect"));
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(sock.fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Unavailable(std::strerror(err));
  }
  return sock;
}

Status TcpSocket::SendAll(const std::string& data, MonoMicros deadline,
                          const std::atomic<bool>* cancel) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      CUSTODIAN_RETURN_IF_ERROR(WaitFor(fd_, POLLOUT, deadline, cancel, "send"));
      continue;
    }
    return Unavailable(std::string("send: ") + std::strerror(errno));
  }
  return Status::Ok();
}

ssize_t TcpSocket::Receive(uint8_t* buf, size_t size) {
  for (;;) {
    ssize_t n = recv(fd_, buf, size, 0);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return -1;
    return -2;
  }
}

bool TcpSocket::WaitReadable(int64_t timeout_us) {
  pollfd p{fd_, POLLIN, 0};
  int rc = poll(&p, 1, PollTimeoutMs(timeout_us));
  return rc > 0;
}

void TcpSocket::SetReceiveLowWater(int bytes) {
  setsockopt(fd_, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes);
}

}  // namespace custodian::media::rtsp
