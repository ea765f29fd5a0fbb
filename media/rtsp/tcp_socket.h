// TcpSocket: the one non-blocking TCP connection an RTSP session runs over.
//
// Every wait is a poll() bounded by a deadline and sliced into at most kCancelCheckUs so
// that a caller's cancel flag is seen within 100 ms. The one exception is resolving a host
// name (getaddrinfo), which blocks for as long as the resolver takes; cameras are normally
// addressed by IP, which resolves at once. Receiving
// is a single non-blocking recv() into the caller's buffer: the caller polls (WaitReadable)
// only when a recv() came back short, which is what keeps the syscall count per RTP
// packet far below one.
//
// TLS (rtsps://): StartTls runs the client handshake over the connected socket (OpenSSL,
// TLS 1.2 or later, non-blocking, bounded by the same deadline and cancel flag). The
// camera's certificate is not checked against any authority: cameras carry self-signed
// certificates, so the caller pins it instead (PeerCertificateSha256, trust on first use;
// docs/design/recording.md, "RTSPS"); PeerCertificateDetails adds its subject and expiry
// for people to see, as the certificate states them, unchecked. After StartTls, SendAll, Receive
// and WaitReadable carry the session's plaintext; WaitReadable is true at once while OpenSSL holds
// decrypted bytes not yet read.
//
// Not thread-safe; owned by one RtspTcpSource.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "base/time.h"
#include "media/rtsp/peer_certificate.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace custodian::media::rtsp {

// The longest a wait goes without looking at the cancel flag.
inline constexpr int64_t kCancelCheckUs = 100'000;

MonoMicros MonotonicNow();

class TcpSocket {
 public:
  TcpSocket() = default;
  ~TcpSocket();
  TcpSocket(TcpSocket&& o) noexcept : fd_(o.fd_), ctx_(o.ctx_), ssl_(o.ssl_) {
    o.fd_ = -1;
    o.ctx_ = nullptr;
    o.ssl_ = nullptr;
  }
  TcpSocket& operator=(TcpSocket&& o) noexcept;
  TcpSocket(const TcpSocket&) = delete;
  TcpSocket& operator=(const TcpSocket&) = delete;

  // Resolves host (a name, IPv4 or IPv6 literal) and connects within timeout_us.
  // Unavailable when refused, unreachable or timed out; FailedPrecondition when cancelled.
  static Result<TcpSocket> Connect(const std::string& host, int port, int64_t timeout_us,
                                   const std::atomic<bool>* cancel);

  // The TLS client handshake; server_name goes in SNI when it is a name, not an address.
  // Unavailable when the handshake fails or times out (the message says why),
  // FailedPrecondition when cancelled.
  Status StartTls(const std::string& server_name, MonoMicros deadline,
                  const std::atomic<bool>* cancel);
  // Lower-case hex SHA-256 of the peer's certificate (DER), "" before StartTls.
  std::string PeerCertificateSha256() const;
  // Its SHA-256, subject and expiry; all empty before StartTls.
  PeerCertificate PeerCertificateDetails() const;
  bool is_tls() const { return ssl_ != nullptr; }

  // Sends all of data, waiting for buffer space until the deadline.
  Status SendAll(const std::string& data, MonoMicros deadline, const std::atomic<bool>* cancel);

  // One non-blocking recv: > 0 bytes read, 0 at end of stream, -1 when nothing is ready
  // (EAGAIN), -2 on a connection error (errno kept).
  ssize_t Receive(uint8_t* buf, size_t size);

  // Waits until the socket is readable or timeout_us has passed (at most kCancelCheckUs
  // callers usually pass). True when readable.
  bool WaitReadable(int64_t timeout_us);

  // Wakes WaitReadable only when at least `bytes` are buffered (SO_RCVLOWAT), trading a
  // few milliseconds of latency for fewer wake-ups; a short Receive still returns what
  // there is. 1 restores the default.
  void SetReceiveLowWater(int bytes);

  int fd() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }

 private:
  explicit TcpSocket(int fd) : fd_(fd) {}
  static Result<TcpSocket> ConnectOne(const void* addrinfo, MonoMicros deadline,
                                      const std::atomic<bool>* cancel);
  void Close();
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

}  // namespace custodian::media::rtsp
