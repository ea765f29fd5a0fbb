#include "base/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/log.h"

namespace custodian {

namespace {

// Closes the socket on every path.
class DatagramSocket {
 public:
  DatagramSocket() : fd_(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
  ~DatagramSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  DatagramSocket(const DatagramSocket&) = delete;
  DatagramSocket& operator=(const DatagramSocket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

void NotifyOrWarn(const char* component, const char* state) {
  // One warning per process is enough to show the unit is misconfigured; repeating it
  // every watchdog period would flood the journal.
  static std::atomic<bool> warned{false};
  Status st = SdNotify(state);
  if (!st.ok() && !warned.exchange(true)) {
    LogWarn(component) << "could not notify systemd (" << state << "): " << st.ToString()
                       << "; carrying on";
  }
}

}  // namespace

Status SdNotify(const std::string& state) {
  const char* name = std::getenv("NOTIFY_SOCKET");
  if (name == nullptr || name[0] == '\0') return Status::Ok();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const size_t len = std::strlen(name);
  if ((name[0] != '/' && name[0] != '@') || len < 2 || len > sizeof(addr.sun_path)) {
    return InvalidArgument("NOTIFY_SOCKET is neither an absolute path nor an abstract name");
  }
  std::memcpy(addr.sun_path, name, len);
  if (name[0] == '@') addr.sun_path[0] = '\0';
  // A path name is NUL-terminated inside sun_path when it fits; an abstract name is
  // exactly as long as given, so the address length counts its bytes and no more.
  socklen_t addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  if (name[0] == '/' && len < sizeof(addr.sun_path)) ++addr_len;

  DatagramSocket sock;
  if (sock.fd() < 0) return ErrnoStatus("socket(AF_UNIX)", errno);
  ssize_t sent;
  do {
    sent = ::sendto(sock.fd(), state.data(), state.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&addr), addr_len);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return ErrnoStatus("sendto(NOTIFY_SOCKET)", errno);
  if (static_cast<size_t>(sent) != state.size()) return IoError("short write to NOTIFY_SOCKET");
  return Status::Ok();
}

int64_t SdWatchdogIntervalUs() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (usec == nullptr || usec[0] == '\0') return 0;
  const char* pid = std::getenv("WATCHDOG_PID");
  if (pid != nullptr && pid[0] != '\0') {
    char* end = nullptr;
    long long p = std::strtoll(pid, &end, 10);
    if (*end != '\0' || p != static_cast<long long>(::getpid())) return 0;
  }
  char* end = nullptr;
  long long v = std::strtoll(usec, &end, 10);
  return (*end == '\0' && v > 0) ? static_cast<int64_t>(v) : 0;
}

void NotifyReady(const char* component) { NotifyOrWarn(component, "READY=1"); }
void NotifyWatchdog(const char* component) { NotifyOrWarn(component, "WATCHDOG=1"); }
void NotifyStopping(const char* component) { NotifyOrWarn(component, "STOPPING=1"); }

}  // namespace custodian
