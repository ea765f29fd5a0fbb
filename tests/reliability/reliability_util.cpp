#include "tests/reliability/reliability_util.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "base/testing/child_process.h"

namespace custodian::testing {

void WriteReliabilitySite(const TestSite& site, const std::vector<TestCamera>& cameras,
                          int segment_seconds, const std::string& extra, int low_space_percent) {
  std::ofstream out(site.config(), std::ios::trunc);
  out << "site: { name: \"Reliability test\" }\n"
      << "data_dir: data\n"
      << "recorder: { segment_seconds: " << segment_seconds
      << ", stall_timeout_seconds: 5, low_space_percent: " << low_space_percent << " }\n"
      << extra << "\n"
      << "cameras:\n";
  for (const TestCamera& c : cameras)
    out << "  - id: " << c.id << "\n    url: " << c.url << "\n    transport: " << c.transport << "\n";
  REQUIRE(out.good());
}

CustodianProcess::CustodianProcess(const std::string& config, const std::vector<std::string>& verb_args,
                                   const std::string& log) {
  std::vector<std::string> argv_s = {CUSTODIAN_BINARY, "--config", config};
  argv_s.insert(argv_s.end(), verb_args.begin(), verb_args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
}

CustodianProcess::~CustodianProcess() { Stop(); }

int CustodianProcess::Stop() {
  if (pid_ <= 0) return -1;
  int status = StopChild(pid_);
  pid_ = -1;
  return status;
}

void CustodianProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

bool CustodianProcess::Running() {
  if (pid_ <= 0) return false;
  if (waitpid(pid_, nullptr, WNOHANG) == 0) return true;
  pid_ = -1;  // reaped: never signal the pid again, it may be reused
  return false;
}

int Rounds(int default_rounds) {
  const char* env = std::getenv("CUSTODIAN_RELIABILITY_ROUNDS");
  if (env == nullptr || *env == '\0') return default_rounds;
  int n = std::atoi(env);
  return n > 0 ? n : default_rounds;
}

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::optional<UtcMicros> LastEndBefore(records::Database& db, const std::string& camera, UtcMicros t) {
  std::optional<UtcMicros> best;
  for (const records::SegmentRow& s : CompleteSegments(db, camera))
    if (s.start < t && s.end && (!best || *s.end > *best)) best = *s.end;
  return best;
}

}  // namespace custodian::testing
