// A small synchronous HTTPS client for the server tests: one kept-alive connection,
// verifying the server against the certificate it was started with. Also sends raw bytes,
// for requests no well-behaved client would make.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace custodian::api::testing {

struct ClientResponse {
  int status = 0;  // 0: the server closed the connection without answering
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;

  // The header's value, or "" when absent.
  std::string Header(const std::string& lowercase_name) const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class HttpsClient {
 public:
  HttpsClient(uint16_t port, const std::string& ca_cert_path);
  ~HttpsClient();

  ClientResponse Send(const std::string& method, const std::string& target,
                      const Headers& headers = {}, const std::string& body = "");
  // Writes bytes as they are after a fresh handshake and reads one response.
  ClientResponse SendRaw(const std::string& bytes);

  // Whether a TLS handshake succeeds when the client allows at most this version
  // (e.g. TLS1_1_VERSION from <openssl/ssl.h>).
  static bool HandshakeSucceeds(uint16_t port, int max_tls_version);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace custodian::api::testing
