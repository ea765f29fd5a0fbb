// The services speak systemd's notify protocol: `custodian record`, `retain` and `serve`,
// started with $NOTIFY_SOCKET as systemd starts a Type=notify unit, send READY=1 once they
// are working, WATCHDOG=1 from their main loop, and STOPPING=1 on SIGTERM.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <fstream>
#include <string>

#include "base/testing/temp_dir.h"

using custodian::testing::TempDir;

namespace {

// The notify socket, bound in a temp dir as systemd binds /run/systemd/notify.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~NotifySocket() { ::close(fd_); }
  // The next message within timeout_s seconds, or "" if none.
  std::string Next(int timeout_s) {
    timeval tv{timeout_s, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[256];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n <= 0 ? "" : std::string(buf, static_cast<size_t>(n));
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

pid_t Start(const std::string& config, const std::string& verb, const std::string& notify,
            const std::string& log) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::setenv("NOTIFY_SOCKET", notify.c_str(), 1);
    ::setenv("WATCHDOG_USEC", "20000000", 1);
    FILE* out = std::fopen(log.c_str(), "a");
    if (out) {
      ::dup2(fileno(out), 1);
      ::dup2(fileno(out), 2);
    }
    ::execl(CUSTODIAN_BINARY, CUSTODIAN_BINARY, "--config", config.c_str(), verb.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

int Stop(pid_t pid) {
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("record, retain and serve tell systemd they are ready, alive and stopping") {
  TempDir dir("notify");
  // A port of its own, so that parallel tests do not collide.
  const int port = 20000 + static_cast<int>(::getpid() % 20000);
  std::ofstream(dir.File("site.yaml"))
      << "site: { name: \"Notify\" }\ndata_dir: data\nhttp: { listen: \"127.0.0.1:" << port
      << "\" }\n";
  for (const std::string verb : {"retain", "record", "serve"}) {
    SECTION(verb) {
      NotifySocket systemd(dir.File(verb + ".notify"));
      pid_t pid = Start(dir.File("site.yaml"), verb, systemd.path(), dir.File(verb + ".log"));
      CHECK(systemd.Next(20) == "READY=1");
      // record's loop turns every 10 s, retain's and serve's every 5 s: all well inside
      // the units' WatchdogSec.
      const auto before = std::chrono::steady_clock::now();
      CHECK(systemd.Next(15) == "WATCHDOG=1");
      CHECK(systemd.Next(15) == "WATCHDOG=1");
      CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(25));
      CHECK(Stop(pid) == 0);
      std::string last, msg;
      while (!(msg = systemd.Next(1)).empty()) last = msg;
      CHECK(last == "STOPPING=1");
    }
  }
}
