// A custodian service started as systemd starts a Type=notify unit, for the appliance tests:
// the notify socket systemd binds (/run/systemd/notify), and the service forked with
// NOTIFY_SOCKET (and WATCHDOG_USEC when given) set, its output appended to a log file.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace custodian::testing {

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
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
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

// Forks `binary --config CONFIG VERB`; `watchdog_usec` empty leaves WATCHDOG_USEC unset.
inline pid_t StartService(const std::string& binary, const std::string& config,
                          const std::string& verb, const std::string& notify,
                          const std::string& log, const std::string& watchdog_usec = "") {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::setenv("NOTIFY_SOCKET", notify.c_str(), 1);
    if (!watchdog_usec.empty()) ::setenv("WATCHDOG_USEC", watchdog_usec.c_str(), 1);
    FILE* out = std::fopen(log.c_str(), "a");
    if (out) {
      ::dup2(fileno(out), 1);
      ::dup2(fileno(out), 2);
    }
    ::execl(binary.c_str(), binary.c_str(), "--config", config.c_str(), verb.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

}  // namespace custodian::testing
