#include "media/rtsp/tcp_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

#include "base/clock.h"

namespace custodian::media::rtsp {

namespace {

std::string CertificateSha256(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) != 1) return "";
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

// RFC 2253, kept to printable ASCII and kMaxCertificateSubjectLength: it comes from the
// camera and ends up in a state file, the API and a web page.
std::string CertificateSubject(X509* cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0) {
    return "";
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  std::string out;
  for (long i = 0; i < n && out.size() < kMaxCertificateSubjectLength; ++i) {
    const unsigned char c = static_cast<unsigned char>(data[i]);
    out += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?';
  }
  return out;
}

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

TcpSocket::~TcpSocket() { Close(); }

void TcpSocket::Close() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) close(fd_);
  ssl_ = nullptr;
  ctx_ = nullptr;
  fd_ = -1;
}

TcpSocket& TcpSocket::operator=(TcpSocket&& o) noexcept {
  if (this != &o) {
    Close();
    fd_ = o.fd_;
    ctx_ = o.ctx_;
    ssl_ = o.ssl_;
    o.fd_ = -1;
    o.ctx_ = nullptr;
    o.ssl_ = nullptr;
  }
  return *this;
}

namespace {

// OpenSSL's reason for the last failure, for a status message; clears its error queue.
std::string TlsError(const char* what) {
  std::string out = what;
  unsigned long e = ERR_get_error();
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += std::string(": ") + buf;
  }
  ERR_clear_error();
  return out;
}

bool IsAddressLiteral(const std::string& host) {
  in6_addr a6;
  in_addr a4;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

}  // namespace

Status TcpSocket::StartTls(const std::string& server_name, MonoMicros deadline,
                           const std::atomic<bool>* cancel) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (!ctx_) return Unavailable(TlsError("TLS set-up"));
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  // No authority vouches for a camera's self-signed certificate; the caller pins it.
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_options(ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF);
  ssl_ = SSL_new(ctx_);
  if (!ssl_ || SSL_set_fd(ssl_, fd_) != 1) return Unavailable(TlsError("TLS set-up"));
  if (!server_name.empty() && !IsAddressLiteral(server_name)) {
    SSL_set_tlsext_host_name(ssl_, server_name.c_str());
  }
  for (;;) {
    ERR_clear_error();
    const int rc = SSL_connect(ssl_);
    if (rc == 1) return Status::Ok();
    const int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ) {
      CUSTODIAN_RETURN_IF_ERROR(WaitFor(fd_, POLLIN, deadline, cancel, "TLS handshake"));
    } else if (err == SSL_ERROR_WANT_WRITE) {
      CUSTODIAN_RETURN_IF_ERROR(WaitFor(fd_, POLLOUT, deadline, cancel, "TLS handshake"));
    } else {
      return Unavailable(TlsError("TLS handshake failed"));
    }
  }
}

std::string TcpSocket::PeerCertificateSha256() const { return PeerCertificateDetails().sha256; }

PeerCertificate TcpSocket::PeerCertificateDetails() const {
  PeerCertificate out;
  if (!ssl_) return out;
  std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl_), X509_free);
  if (!cert) return out;
  out.sha256 = CertificateSha256(cert.get());
  out.subject = CertificateSubject(cert.get());
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) == 1) {
    out.not_after = UtcMicros{static_cast<int64_t>(timegm(&tm)) * kMicrosPerSecond};
  }
  return out;
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
  while (ssl_ && sent < data.size()) {
    ERR_clear_error();
    size_t n = 0;
    if (SSL_write_ex(ssl_, data.data() + sent, data.size() - sent, &n) == 1) {
      sent += n;
      continue;
    }
    const int err = SSL_get_error(ssl_, 0);
    if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
      CUSTODIAN_RETURN_IF_ERROR(
          WaitFor(fd_, err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, deadline, cancel, "send"));
      continue;
    }
    return Unavailable(TlsError("send over TLS"));
  }
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
  if (ssl_) {
    ERR_clear_error();
    size_t n = 0;
    if (SSL_read_ex(ssl_, buf, size, &n) == 1) return static_cast<ssize_t>(n);
    switch (SSL_get_error(ssl_, 0)) {
      case SSL_ERROR_WANT_READ:
      case SSL_ERROR_WANT_WRITE:
        return -1;
      case SSL_ERROR_ZERO_RETURN:
        return 0;
      default:
        ERR_clear_error();
        errno = EPROTO;
        return -2;
    }
  }
  for (;;) {
    ssize_t n = recv(fd_, buf, size, 0);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return -1;
    return -2;
  }
}

bool TcpSocket::WaitReadable(int64_t timeout_us) {
  if (ssl_ && SSL_pending(ssl_) > 0) return true;
  pollfd p{fd_, POLLIN, 0};
  int rc = poll(&p, 1, PollTimeoutMs(timeout_us));
  return rc > 0;
}

void TcpSocket::SetReceiveLowWater(int bytes) {
  setsockopt(fd_, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes);
}

}  // namespace custodian::media::rtsp
