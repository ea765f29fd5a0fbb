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
#include "tests/appliance/service_process.h"

using custodian::testing::TempDir;

namespace {

using custodian::testing::NotifySocket;

pid_t Start(const std::string& config, const std::string& verb, const std::string& notify,
            const std::string& log) {
  return custodian::testing::StartService(CUSTODIAN_BINARY, config, verb, notify, log, "20000000");
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
