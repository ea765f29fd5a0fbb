// SimulatorProcess: runs the custodian-sim camera simulator as a child process, for tests
// and benchmarks in other modules. Link `custodian_sim_process`; the custodian-sim binary
// is built along with it and found through the CUSTODIAN_SIM_BINARY compile definition.
//
//   auto sim = SimulatorProcess::Start({"lobby:width=640,height=360,clip=4",
//                                       "yard:codec=h265,user=admin,password=pw"});
//   REQUIRE(sim.ok());
//   std::string url = (*sim)->Url("lobby");           // rtsp://127.0.0.1:PORT/lobby
//   REQUIRE((*sim)->Command("drop lobby").ok());      // waits for "ok drop lobby"
//
// Stream specs and commands are those of `custodian-sim --help` (stream_spec.h,
// sim_command.h). The simulator listens on a free loopback port. Its first start with a
// new clip encodes it (seconds; cached under the build tree afterwards), hence the long
// default ready timeout.
//
// The destructor sends "quit"; a simulator that has not exited within 5 s gets SIGTERM and
// a further grace period (base/testing/child_process.h) before SIGKILL, so that a sanitized
// simulator can finish writing its report. If the test process dies instead, the simulator
// exits when its stdin closes.
// A SimulatorProcess is not thread-safe: use it from one thread at a time.
//
// EnsureTestMedia returns the path of a cached clip (encoding it on first use, safely
// across processes), for benchmarks and tests that read media files directly.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "tests/sim/media_spec.h"

namespace custodian::sim {

// Absolute path of the custodian-sim binary in this build tree.
std::string SimulatorBinary();

struct SimulatorOptions {
  std::string binary = SimulatorBinary();
  std::string media_dir;                // empty: DefaultMediaDir()
  std::vector<std::string> extra_args;  // e.g. {"--at", "5", "drop all"}
  int ready_timeout_ms = 120'000;
  int command_timeout_ms = 10'000;
};

class SimulatorProcess {
 public:
  static Result<std::unique_ptr<SimulatorProcess>> Start(
      const std::vector<std::string>& stream_specs, SimulatorOptions options = {});
  ~SimulatorProcess();  // Stop(), if not stopped yet
  SimulatorProcess(const SimulatorProcess&) = delete;
  SimulatorProcess& operator=(const SimulatorProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // rtsp://127.0.0.1:PORT/NAME, optionally with credentials in the URL.
  std::string Url(const std::string& name) const;
  std::string Url(const std::string& name, const std::string& user,
                  const std::string& password) const;

  // Sends a command ("drop all", "stall lobby 3", ...) and waits for its "ok" line.
  // InvalidArgument with the simulator's reason when it answers "error" (unknown stream,
  // bad syntax); Unavailable if it died or did not answer within command_timeout_ms.
  Status Command(const std::string& command);
  // Connected clients that asked for the stream (the "clients NAME" command).
  Result<int> ClientCount(const std::string& name);

  // Sends "quit" and closes stdin; a simulator still running after 5 s gets SIGTERM and a
  // grace period before SIGKILL. Returns its exit status (128 + signal if a signal ended
  // it). Once stopped, no other call may be made.
  int Stop();

 private:
  SimulatorProcess(pid_t pid, int stdin_fd, int stdout_fd, int command_timeout_ms);
  Result<std::string> Transact(const std::string& command);
  Result<std::string> ReadLine(int timeout_ms);

  pid_t pid_;  // -1 once stopped
  int stdin_fd_;
  int stdout_fd_;
  int command_timeout_ms_;
  int port_ = 0;
  std::string base_url_;
  std::string pending_;  // bytes read past the last complete line
};

// The cached clip for `spec` in media_dir (empty: DefaultMediaDir()), encoded by
// `custodian-sim --cached-media` on first use. Benchmark1080pSpec() is the standard
// 1080p ~4 Mbit/s H.264 clip.
Result<std::string> EnsureTestMedia(const MediaSpec& spec, const std::string& media_dir = "");

}  // namespace custodian::sim
