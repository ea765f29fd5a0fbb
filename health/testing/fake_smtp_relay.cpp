#include "health/testing/fake_smtp_relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>

namespace custodian::health::testing {

namespace {

// Line I/O over the socket, or over TLS once started.
class Wire {
 public:
  explicit Wire(int fd) : fd_(fd) {}
  ~Wire() {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
  }
  bool StartTls(const std::string& cert, const std::string& key) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    if (!ctx_ || SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return false;
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    buffer_.clear();
    return SSL_accept(ssl_) == 1;
  }
  bool tls() const { return ssl_ != nullptr; }
  void Write(const std::string& s) {
    if (ssl_) {
      SSL_write(ssl_, s.data(), static_cast<int>(s.size()));
    } else {
      (void)::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
    }
  }
  bool ReadLine(std::string* line) {
    for (;;) {
      size_t end = buffer_.find("\r\n");
      if (end != std::string::npos) {
        *line = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return true;
      }
      char chunk[4096];
      int n = ssl_ ? SSL_read(ssl_, chunk, sizeof chunk)
                   : static_cast<int>(::recv(fd_, chunk, sizeof chunk, 0));
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buffer_;
};

std::string Unbase64(const std::string& in) {
  std::string out(in.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return "";
  size_t pads = 0;
  for (size_t i = in.size(); i > 0 && in[i - 1] == '='; --i) ++pads;
  out.resize(static_cast<size_t>(n) - pads);
  return out;
}

std::string Between(const std::string& s, char open, char close) {
  size_t a = s.find(open);
  size_t b = s.rfind(close);
  return a == std::string::npos || b == std::string::npos || b < a ? "" : s.substr(a + 1, b - a - 1);
}

}  // namespace

FakeSmtpRelay::FakeSmtpRelay(FakeSmtpOptions options) : options_(std::move(options)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listen_fd_, 8);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

FakeSmtpRelay::~FakeSmtpRelay() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::vector<ReceivedMail> FakeSmtpRelay::WaitForMessages(size_t n, int timeout_ms) {
  MutexLock lock(mu_);
  lock.WaitFor(arrived_, std::chrono::milliseconds(timeout_ms),
               [&]() REQUIRES(mu_) { return messages_.size() >= n; });
  return messages_;
}

void FakeSmtpRelay::Serve() {
  // A client that hangs up while this thread writes must not end the test with SIGPIPE;
  // blocked here, such a signal stays pending for this thread alone.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) != 1) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++connections_;
    timeval tv{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    Converse(fd);
    ::close(fd);
  }
}

void FakeSmtpRelay::Converse(int fd) {
  Wire wire(fd);
  ReceivedMail mail;
  wire.Write("220 fake-relay.test ESMTP (a test fake)\r\n");
  std::string line;
  while (wire.ReadLine(&line)) {
    std::string verb = line.substr(0, line.find(' '));
    for (char& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (verb == "EHLO") {
      std::string caps = "250-fake-relay.test\r\n";
      if (options_.offer_starttls && !wire.tls()) caps += "250-STARTTLS\r\n";
      wire.Write(caps + "250 AUTH PLAIN\r\n");
    } else if (verb == "STARTTLS") {
      wire.Write("220 go ahead\r\n");
      if (!wire.StartTls(options_.cert_path, options_.key_path)) return;
    } else if (verb == "AUTH") {
      std::string plain = Unbase64(line.substr(line.rfind(' ') + 1));
      size_t first = plain.find('\0');
      size_t second = plain.find('\0', first + 1);
      std::string auth = first == std::string::npos || second == std::string::npos
                             ? ""
                             : plain.substr(first + 1, second - first - 1) + ":" +
                                   plain.substr(second + 1);
      if (!options_.accept_auth.empty() && auth == options_.accept_auth) {
        mail.auth = auth;
        wire.Write("235 accepted\r\n");
      } else {
        wire.Write("535 authentication failed\r\n");
      }
    } else if (verb == "MAIL") {
      mail.from = Between(line, '<', '>');
      wire.Write("250 ok\r\n");
    } else if (verb == "RCPT") {
      if (options_.rcpt_reply == 250) mail.to.push_back(Between(line, '<', '>'));
      wire.Write(std::to_string(options_.rcpt_reply) + " recipient\r\n");
    } else if (verb == "DATA") {
      wire.Write("354 end with .\r\n");
      while (wire.ReadLine(&line) && line != ".") {
        if (!line.empty() && line[0] == '.') line.erase(0, 1);
        mail.data += line + "\n";
      }
      mail.over_tls = wire.tls();
      wire.Write("250 queued\r\n");
      {
        MutexLock lock(mu_);
        messages_.push_back(mail);
      }
      arrived_.notify_all();
      mail = ReceivedMail{};
    } else if (verb == "QUIT") {
      wire.Write("221 bye\r\n");
      return;
    } else {
      wire.Write("500 unknown command\r\n");
    }
  }
}

}  // namespace custodian::health::testing
