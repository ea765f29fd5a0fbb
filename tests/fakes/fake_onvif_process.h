// The fake ONVIF camera (fake_onvif.cpp) as a child process of a test, for the tests that
// drive it: through the `custodian` binary (camera_discover_test) and through the onvif
// library (onvif_fake_camera_test). Header-only; uses Catch2's REQUIRE, so only inside a
// test case. The binary's path is FAKE_ONVIF_BINARY, defined by the test's CMake target.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "base/testing/child_process.h"
#include "base/testing/temp_dir.h"

namespace custodian::testing {

inline constexpr char kFakeMainUri[] = "rtsp://127.0.0.1:8554/porch";
inline constexpr char kFakeSubUri[] = "rtsp://127.0.0.1:8554/porch-sub";
inline constexpr char kFakePassword[] = "the porch camera's password";

// The fake camera as a child process; it exits when its stdin closes. `more` are further
// command-line options.
class FakeOnvif {
 public:
  // log_path: where its stderr (one line per call it answered or refused) goes; "" the
  // test's own.
  explicit FakeOnvif(const std::vector<std::string>& more = {}, const std::string& log_path = "") {
    std::vector<std::string> args = {FAKE_ONVIF_BINARY, "--username", "installer",  "--password",
                                     kFakePassword,     "--main-uri", kFakeMainUri, "--sub-uri",
                                     kFakeSubUri,       "--make",     "FakeVision", "--model",
                                     "FV-100",          "--firmware", "2.4.1-fake"};
    args.insert(args.end(), more.begin(), more.end());
    for (const std::string& a : more) tls_ |= a == "--tls-cert";
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int in[2], out[2];
    REQUIRE(pipe(in) == 0);
    REQUIRE(pipe(out) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      if (!log_path.empty()) {
        int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (log >= 0) dup2(log, 2);
      }
      close(in[1]);
      close(out[0]);
      execv(FAKE_ONVIF_BINARY, argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    std::string line;
    pollfd p{stdout_, POLLIN, 0};
    char c;
    while (line.find('\n') == std::string::npos && poll(&p, 1, 30'000) > 0 &&
           read(stdout_, &c, 1) == 1) {
      line += c;
    }
    std::smatch m;
    REQUIRE(std::regex_search(
        line, m, std::regex("ready http=(\\d+) discovery=(\\d+)(?: multicast=([^\\n]*))?")));
    http_port_ = std::stoi(m[1]);
    discovery_port_ = std::stoi(m[2]);
    multicast_ = m[3];
  }
  ~FakeOnvif() {
    close(stdin_);
    close(stdout_);
    StopChild(pid_);
  }
  std::string Address() const { return "127.0.0.1:" + std::to_string(discovery_port_); }
  std::string DeviceService() const {
    return (tls_ ? "https" : "http") + std::string("://127.0.0.1:") + std::to_string(http_port_) +
           "/onvif/device_service";
  }
  // With --multicast-interface: "joined", or "unavailable:" and why.
  const std::string& Multicast() const { return multicast_; }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  bool tls_ = false;
  int http_port_ = 0;
  int discovery_port_ = 0;
  std::string multicast_;
};

// Whether a datagram sent to the WS-Discovery group by the loopback interface comes back
// to a socket that joined the group there; when not, *why says at which step it failed.
// This checks the machine (a container may have no multicast at all), not Custodian.
inline bool LoopbackMulticastWorks(std::string* why) {
  const int rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  auto fail = [&](const std::string& step) {
    *why = step + ": " + std::strerror(errno);
    if (rx >= 0) close(rx);
    if (tx >= 0) close(tx);
    return false;
  };
  if (rx < 0 || tx < 0) return fail("socket");
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t len = sizeof at;
  if (bind(rx, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0 ||
      getsockname(rx, reinterpret_cast<sockaddr*>(&at), &len) != 0) {
    return fail("bind");
  }
  ip_mreq join{};
  inet_pton(AF_INET, "239.255.255.250", &join.imr_multiaddr);
  inet_pton(AF_INET, "127.0.0.1", &join.imr_interface);
  if (setsockopt(rx, IPPROTO_IP, IP_ADD_MEMBERSHIP, &join, sizeof join) != 0) {
    return fail("IP_ADD_MEMBERSHIP on 127.0.0.1");
  }
  if (setsockopt(tx, IPPROTO_IP, IP_MULTICAST_IF, &join.imr_interface, sizeof join.imr_interface) !=
      0) {
    return fail("IP_MULTICAST_IF 127.0.0.1");
  }
  sockaddr_in to = at;
  to.sin_addr = join.imr_multiaddr;
  const char probe[] = "loopback multicast check";
  if (sendto(tx, probe, sizeof probe, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
    return fail("sendto 239.255.255.250");
  }
  pollfd p{rx, POLLIN, 0};
  char got[64];
  // Generous: a datagram on loopback arrives at once unless the machine is starved.
  if (poll(&p, 1, 10'000) != 1 || recv(rx, got, sizeof got, 0) != sizeof probe) {
    errno = ETIMEDOUT;
    return fail("receive the datagram within 10 s");
  }
  close(rx);
  close(tx);
  return true;
}

// A whole file's text ("" when it cannot be read).
inline std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A throwaway self-signed certificate and key in dir, named `name`; returns the
// certificate's SHA-256 (of its DER) as openssl computes it.
inline std::string MakeFakeCertificate(const TempDir& dir, const std::string& name) {
  const std::string cert = dir.File(name + ".crt"), key = dir.File(name + ".key");
  const std::string make =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
      "-nodes -days 2 -subj /CN=" +
      name + " -keyout " + key + " -out " + cert + " 2>/dev/null";
  REQUIRE(std::system(make.c_str()) == 0);
  const std::string fingerprint = dir.File(name + ".sha256");
  REQUIRE(std::system(("openssl x509 -in " + cert + " -outform der | sha256sum | cut -c1-64 > " +
                       fingerprint)
                          .c_str()) == 0);
  std::string hex = Slurp(fingerprint);
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
  REQUIRE(hex.size() == 64);
  return hex;
}

// A fake camera in the WS-Discovery group on loopback; none where this machine cannot carry
// multicast there or the fake cannot join, and then the test is skipped with a WARN saying
// why (Catch2 2.13 has no SKIP: a pass without assertions that says it skipped).
inline std::unique_ptr<FakeOnvif> MulticastFakeOrSkip() {
  std::string why;
  if (!LoopbackMulticastWorks(&why)) {
    WARN("SKIPPED: this machine carries no multicast on loopback (" << why << ")");
    return nullptr;
  }
  auto fake =
      std::make_unique<FakeOnvif>(std::vector<std::string>{"--multicast-interface", "127.0.0.1"});
  if (fake->Multicast() != "joined") {
    WARN("SKIPPED: the fake camera could not join the group (" << fake->Multicast() << ")");
    return nullptr;
  }
  return fake;
}

}  // namespace custodian::testing
