// Hostile clients against the real HTTPS server: a slow-loris client
// that sends its request one byte per second must neither starve other clients nor keep
// its connection past the server's read timeout; and a session id chosen by an attacker
// before sign-in is never the one the server issues (session fixation). TLS below 1.2 and
// CSRF are covered in api/server_auth_test.cpp.
#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>

#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>

#include "api/testing/api_fixture.h"
#include "tests/reliability/figures.h"

namespace custodian::api::testing {
namespace {

using custodian::testing::Figure;
using custodian::testing::Max;
using custodian::testing::Median;
using Steady = std::chrono::steady_clock;

double SecondsSince(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}

// One TLS connection that writes a request a byte at a time, one byte a second, until the
// server closes it. Returns how long the server kept it, in seconds; -1 if it never
// connected.
double SlowLoris(uint16_t port, const std::atomic<bool>& stop) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  double kept = -1;
  SSL* ssl = nullptr;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) == 1) {
      const std::string request = "GET /api/v1/cameras HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " +
                                  std::string(200, 'a') + "\r\n\r\n";
      const auto start = Steady::now();
      // Stops on its own after 30 s, should the server never close it.
      for (size_t i = 0; i < request.size() && !stop && SecondsSince(start) < 30; ++i) {
        if (SSL_write(ssl, &request[i], 1) <= 0) break;
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
      kept = SecondsSince(start);
    }
  }
  if (ssl) SSL_free(ssl);
  close(fd);
  SSL_CTX_free(ctx);
  return kept;
}

TEST_CASE("slow-loris clients neither starve others nor outlive the read timeout") {
  signal(SIGPIPE, SIG_IGN);  // writes to a connection the server closed fail instead
  ApiServerFixture f;
  constexpr int kSlowClients = 64;
  std::atomic<bool> stop{false};
  std::vector<double> kept(kSlowClients, 0);
  std::vector<std::thread> slow;
  for (int i = 0; i < kSlowClients; ++i)
    slow.emplace_back([&, i] { kept[i] = SlowLoris(f.server().port(), stop); });
  std::this_thread::sleep_for(std::chrono::seconds(2));

  // Meanwhile ordinary requests, each on a fresh connection, are answered at once.
  std::vector<double> latency;
  for (int i = 0; i < 20; ++i) {
    const auto t = Steady::now();
    HttpsClient client(f.server().port(), f.cert_path());
    ClientResponse r = client.Send("GET", "/healthz");
    latency.push_back(SecondsSince(t));
    CHECK(r.status == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  for (std::thread& t : slow) t.join();
  stop = true;

  std::ostringstream fig;
  fig << kSlowClients << " slow clients: other requests answered in max " << Max(latency) * 1000
      << " ms (median " << Median(latency) * 1000 << " ms); slow connections closed after max "
      << Max(kept) << " s (read timeout 15 s)";
  Figure("slow-loris", fig.str());
  CHECK(Max(latency) < 1.0);
  for (double k : kept) {
    CHECK(k > 0);      // it connected
    CHECK(k < 20.0);   // closed by the read timeout (15 s), not at the end of its request
  }
}

TEST_CASE("a session id chosen before sign-in is never the session issued") {
  ApiServerFixture f;
  f.AddUser("sam", records::Role::kStaff, {"door-1"});
  const std::string planted = "__Host-custodian_session=" + std::string(64, 'a');
  ClientResponse login = f.client().Send(
      "POST", "/api/v1/auth/login", {{"Cookie", planted}, {"Content-Type", "application/json"}},
      R"({"name":"sam","password":")" + ApiServerFixture::PasswordOf("sam") + R"("})");
  REQUIRE(login.status == 200);
  const std::string issued = login.Header("set-cookie");
  CHECK(issued.find(std::string(64, 'a')) == std::string::npos);
  // The planted id is still nobody's session.
  ClientResponse me = f.client().Send("GET", "/api/v1/auth/session", {{"Cookie", planted}});
  CHECK(me.status == 401);
  ClientResponse mine = f.client().Send("GET", "/api/v1/auth/session",
                                        {{"Cookie", issued.substr(0, issued.find(';'))}});
  CHECK(mine.status == 200);
}

}  // namespace
}  // namespace custodian::api::testing
