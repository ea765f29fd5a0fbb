#include "health/smtp.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "base/clock.h"

namespace custodian::health {

namespace {

// Replies longer than this are cut in error messages.
constexpr size_t kMaxReplyInMessage = 200;
constexpr size_t kMaxLineBytes = 4096;

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// A connected socket within timeout_us; reads and writes then time out after timeout_us.
Result<int> ConnectTcp(const std::string& host, int port, int64_t timeout_us) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  int gai = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list);
  if (gai != 0) return Unavailable("relay " + host + ": " + ::gai_strerror(gai));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(list, ::freeaddrinfo);
  std::string last = "no address";
  for (addrinfo* a = list; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = std::strerror(errno);
      ::close(fd);
      continue;
    }
    pollfd p{fd, POLLOUT, 0};
    int ready = ::poll(&p, 1, static_cast<int>(timeout_us / 1000));
    int err = 0;
    socklen_t len = sizeof err;
    if (ready == 1) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (ready != 1 || err != 0) {
      last = ready == 1 ? std::strerror(err) : "timed out";
      ::close(fd);
      continue;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    timeval tv{static_cast<time_t>(timeout_us / kMicrosPerSecond),
               static_cast<suseconds_t>(timeout_us % kMicrosPerSecond)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
  }
  return Unavailable("relay " + host + ":" + std::to_string(port) + " not reached: " + last);
}

struct Reply {
  int code = 0;
  std::string text;  // every line, joined with " | "
  std::vector<std::string> lines;
};

// One SMTP conversation: plain text first, TLS once StartTls succeeds.
class Conversation {
 public:
  Conversation(const SmtpRelay& relay, int fd) : relay_(relay), fd_(fd) {}

  Status StartTls() {
    ctx_.reset(SSL_CTX_new(TLS_client_method()));
    if (!ctx_) return Internal("TLS: " + OpenSslError());
    SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
    int loaded = relay_.ca_file.empty()
                     ? SSL_CTX_set_default_verify_paths(ctx_.get())
                     : SSL_CTX_load_verify_locations(ctx_.get(), relay_.ca_file.c_str(), nullptr);
    if (loaded != 1) {
      return FailedPrecondition("TLS: cannot load the relay's CA certificates: " + OpenSslError());
    }
    ssl_.reset(SSL_new(ctx_.get()));
    if (!ssl_) return Internal("TLS: " + OpenSslError());
    SSL_set_tlsext_host_name(ssl_.get(), relay_.host.c_str());
    // The certificate must name the host as configured (a DNS name or an IP address).
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_.get());
    in6_addr ip6;
    in_addr ip4;
    bool is_ip = ::inet_pton(AF_INET, relay_.host.c_str(), &ip4) == 1 ||
                 ::inet_pton(AF_INET6, relay_.host.c_str(), &ip6) == 1;
    int named = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, relay_.host.c_str())
                      : X509_VERIFY_PARAM_set1_host(param, relay_.host.c_str(), 0);
    if (named != 1) return Internal("TLS: cannot set the relay's name to verify");
    SSL_set_fd(ssl_.get(), fd_);
    if (SSL_connect(ssl_.get()) != 1) {
      long verify = SSL_get_verify_result(ssl_.get());
      std::string why = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : OpenSslError();
      ssl_.reset();
      return FailedPrecondition("TLS with relay " + relay_.host + " failed: " + why);
    }
    buffer_.clear();
    return Status::Ok();
  }

  Status Send(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n;
      if (ssl_) {
        int w = SSL_write(ssl_.get(), data.data() + done, static_cast<int>(data.size() - done));
        n = w > 0 ? w : -1;
      } else {
        n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      }
      if (n <= 0) return Unavailable("relay " + relay_.host + ": connection lost while sending");
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  // Reads a whole reply (every "250-" line up to the "250 " one).
  Result<Reply> Read() {
    Reply reply;
    for (;;) {
      Result<std::string> line = ReadLine();
      if (!line.ok()) return line.status();
      if (line->size() < 3) return Unavailable("relay " + relay_.host + ": malformed reply");
      reply.code = std::atoi(line->substr(0, 3).c_str());
      reply.lines.push_back(line->size() > 4 ? line->substr(4) : "");
      if (!reply.text.empty()) reply.text += " | ";
      reply.text += *line;
      if (line->size() == 3 || (*line)[3] != '-') break;
    }
    if (reply.text.size() > kMaxReplyInMessage) reply.text.resize(kMaxReplyInMessage);
    return reply;
  }

  // Sends a command (never logged) and reads its reply, which must have the code.
  Result<Reply> Command(const std::string& command, int expect, const std::string& what) {
    if (!command.empty()) CUSTODIAN_RETURN_IF_ERROR(Send(command + "\r\n"));
    Result<Reply> reply = Read();
    if (!reply.ok()) return reply.status();
    if (reply->code == expect) return reply;
    std::string message = "relay " + relay_.host + " refused " + what + ": " + reply->text;
    if (reply->code >= 400 && reply->code < 500) return Unavailable(message);
    if (reply->code == 535 || reply->code == 534) return PermissionDenied(message);
    return InvalidArgument(message);
  }

 private:
  Result<std::string> ReadLine() {
    for (;;) {
      size_t end = buffer_.find("\r\n");
      if (end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return line;
      }
      if (buffer_.size() > kMaxLineBytes) {
        return Unavailable("relay " + relay_.host + ": reply line too long");
      }
      char chunk[1024];
      ssize_t n;
      if (ssl_) {
        int r = SSL_read(ssl_.get(), chunk, sizeof chunk);
        n = r > 0 ? r : -1;
      } else {
        n = ::recv(fd_, chunk, sizeof chunk, 0);
      }
      if (n <= 0) {
        return Unavailable("relay " + relay_.host + ": no answer (" +
                           (n == 0 ? std::string("closed") : std::string("timed out or lost")) +
                           ")");
      }
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  const SmtpRelay& relay_;
  int fd_;
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx_;
  std::unique_ptr<SSL, SslFree> ssl_;
  std::string buffer_;
};

// OpenSSL writes to the socket with write(), which raises SIGPIPE when the relay has closed
// the connection; the process must not die of that. Blocked in this thread while the
// conversation lasts, a SIGPIPE stays pending for this thread and is taken here.
class NoSigpipe {
 public:
  NoSigpipe() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~NoSigpipe() {
    timespec none{0, 0};
    while (sigtimedwait(&pipe_, nullptr, &none) == SIGPIPE) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  NoSigpipe(const NoSigpipe&) = delete;
  NoSigpipe& operator=(const NoSigpipe&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
};

bool HasLineBreak(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

std::string Base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string MessageId() {
  unsigned char bytes[12];
  RAND_bytes(bytes, sizeof bytes);
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return "<" + id + "@custodian>";
}

// Headers and body with CRLF line ends, lines starting with "." doubled, ending "\r\n.\r\n".
std::string Message(const Mail& mail, UtcMicros date) {
  std::string to;
  for (const std::string& r : mail.to) to += (to.empty() ? "" : ", ") + r;
  std::string out = "From: " + mail.from + "\r\nTo: " + to + "\r\nSubject: " + mail.subject +
                    "\r\nDate: " + FormatUtcRfc5322(date) + "\r\nMessage-ID: " + MessageId() +
                    "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    "Content-Transfer-Encoding: 8bit\r\n\r\n";
  size_t start = 0;
  while (start <= mail.body.size()) {
    size_t end = mail.body.find('\n', start);
    std::string line = mail.body.substr(start, end == std::string::npos ? end : end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line.front() == '.') line.insert(0, ".");
    if (end != std::string::npos || !line.empty()) out += line + "\r\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out + ".\r\n";
}

Status Converse(Conversation& c, const SmtpRelay& relay, const Mail& mail, UtcMicros date) {
  const std::string ehlo = "EHLO " + relay.helo_name;
  CUSTODIAN_RETURN_IF_ERROR(c.Command("", 220, "the connection").status());
  Result<Reply> hello = c.Command(ehlo, 250, "EHLO");
  if (!hello.ok()) return hello.status();
  if (relay.security == SmtpRelay::Security::kStartTls) {
    bool offered = false;
    for (const std::string& l : hello->lines) offered = offered || l.rfind("STARTTLS", 0) == 0;
    if (!offered) {
      return FailedPrecondition("relay " + relay.host +
                                " does not offer STARTTLS; mail is not sent in the clear");
    }
    CUSTODIAN_RETURN_IF_ERROR(c.Command("STARTTLS", 220, "STARTTLS").status());
    CUSTODIAN_RETURN_IF_ERROR(c.StartTls());
    CUSTODIAN_RETURN_IF_ERROR(c.Command(ehlo, 250, "EHLO").status());
  }
  if (!relay.username.empty()) {
    std::string plain = std::string(1, '\0') + relay.username + std::string(1, '\0') + relay.password;
    CUSTODIAN_RETURN_IF_ERROR(c.Command("AUTH PLAIN " + Base64(plain), 235, "the login").status());
  }
  CUSTODIAN_RETURN_IF_ERROR(c.Command("MAIL FROM:<" + mail.from + ">", 250, "the sender").status());
  for (const std::string& to : mail.to) {
    CUSTODIAN_RETURN_IF_ERROR(c.Command("RCPT TO:<" + to + ">", 250, "recipient " + to).status());
  }
  CUSTODIAN_RETURN_IF_ERROR(c.Command("DATA", 354, "DATA").status());
  CUSTODIAN_RETURN_IF_ERROR(c.Send(Message(mail, date)));
  CUSTODIAN_RETURN_IF_ERROR(c.Command("", 250, "the message").status());
  (void)c.Command("QUIT", 221, "QUIT");  // the message is accepted; QUIT's answer is moot
  return Status::Ok();
}

}  // namespace

Status SendMail(const SmtpRelay& relay, const Mail& mail, UtcMicros date) {
  if (mail.to.empty()) return InvalidArgument("an e-mail needs at least one recipient");
  bool bad = HasLineBreak(mail.from) || HasLineBreak(mail.subject);
  for (const std::string& r : mail.to) bad = bad || HasLineBreak(r);
  if (bad) return InvalidArgument("an e-mail header holds a line break");
  NoSigpipe no_sigpipe;
  Result<int> fd = ConnectTcp(relay.host, relay.port, relay.timeout_us);
  if (!fd.ok()) return fd.status();
  Fd socket(*fd);
  Conversation c(relay, socket.get());
  if (relay.security == SmtpRelay::Security::kTls) CUSTODIAN_RETURN_IF_ERROR(c.StartTls());
  return Converse(c, relay, mail, date);
}

}  // namespace custodian::health
