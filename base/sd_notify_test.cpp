#include "base/sd_notify.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "base/testing/temp_dir.h"

using namespace custodian;

namespace {

// A datagram socket bound where systemd would listen; name as in $NOTIFY_SOCKET.
class FakeSystemd {
 public:
  explicit FakeSystemd(const std::string& name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    if (name[0] == '@') {
      addr.sun_path[0] = '\0';
    } else {
      ++len;
    }
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    timeval tv{2, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
  }
  ~FakeSystemd() {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd_);
  }
  std::string Receive() {
    char buf[512];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n < 0 ? std::string("(nothing)") : std::string(buf, static_cast<size_t>(n));
  }

 private:
  int fd_ = -1;
};

}  // namespace

TEST_CASE("sd_notify does nothing and succeeds outside systemd") {
  ::unsetenv("NOTIFY_SOCKET");
  REQUIRE(SdNotify("READY=1").ok());
}

TEST_CASE("sd_notify sends the state to a socket named by path") {
  testing::TempDir dir("sd-notify");
  FakeSystemd systemd(dir.File("notify"));
  REQUIRE(SdNotify("READY=1").ok());
  REQUIRE(systemd.Receive() == "READY=1");
  NotifyWatchdog("test");
  REQUIRE(systemd.Receive() == "WATCHDOG=1");
  NotifyStopping("test");
  REQUIRE(systemd.Receive() == "STOPPING=1");
}

TEST_CASE("sd_notify reaches a socket in the abstract namespace") {
  FakeSystemd systemd("@custodian-sd-notify-test-" + std::to_string(::getpid()));
  REQUIRE(SdNotify("READY=1\nSTATUS=recording 2 cameras").ok());
  REQUIRE(systemd.Receive() == "READY=1\nSTATUS=recording 2 cameras");
}

TEST_CASE("sd_notify reports a malformed or absent socket as an error") {
  ::setenv("NOTIFY_SOCKET", "relative/notify", 1);
  REQUIRE(SdNotify("READY=1").kind() == ErrorKind::kInvalidArgument);
  testing::TempDir dir("sd-notify");
  ::setenv("NOTIFY_SOCKET", dir.File("nobody-listens").c_str(), 1);
  REQUIRE_FALSE(SdNotify("READY=1").ok());
  NotifyReady("test");  // logs a warning once, and does not throw or abort
  ::unsetenv("NOTIFY_SOCKET");
}

TEST_CASE("the watchdog interval is read only when it is meant for this process") {
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
  REQUIRE(SdWatchdogIntervalUs() == 0);
  ::setenv("WATCHDOG_USEC", "30000000", 1);
  REQUIRE(SdWatchdogIntervalUs() == 30000000);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  REQUIRE(SdWatchdogIntervalUs() == 30000000);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
  REQUIRE(SdWatchdogIntervalUs() == 0);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  ::setenv("WATCHDOG_USEC", "soon", 1);
  REQUIRE(SdWatchdogIntervalUs() == 0);
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
}
