// FakeSmtpRelay: a fake SMTP relay for tests, not a mail server. It listens on loopback,
// speaks just enough SMTP (EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, QUIT) to accept
// a message the way a real relay would, and keeps what it received in memory. One
// connection at a time, on one thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"

namespace custodian::health::testing {

struct ReceivedMail {
  std::string from;
  std::vector<std::string> to;
  std::string data;       // headers and body as sent (dot-stuffing undone)
  std::string auth;       // "user:password" from AUTH PLAIN; empty without AUTH
  bool over_tls = false;  // the message came after STARTTLS
};

struct FakeSmtpOptions {
  std::string cert_path;  // PEM certificate and key for STARTTLS
  std::string key_path;
  bool offer_starttls = true;
  std::string accept_auth;  // "user:password"; empty: any AUTH is refused with 535
  int rcpt_reply = 250;     // e.g. 450 to refuse recipients for now
};

class FakeSmtpRelay {
 public:
  explicit FakeSmtpRelay(FakeSmtpOptions options);
  ~FakeSmtpRelay();
  FakeSmtpRelay(const FakeSmtpRelay&) = delete;
  FakeSmtpRelay& operator=(const FakeSmtpRelay&) = delete;

  int port() const { return port_; }
  // Waits until at least n messages arrived or timeout_ms passed; returns what arrived.
  std::vector<ReceivedMail> WaitForMessages(size_t n, int timeout_ms);
  int connections() const { return connections_.load(); }

 private:
  void Serve();
  void Converse(int fd);

  const FakeSmtpOptions options_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  Mutex mu_;
  std::condition_variable arrived_;
  std::vector<ReceivedMail> messages_ GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace custodian::health::testing
