// Process helpers for benchmarks: spawn, stop, and account CPU and peak memory per child.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace custodian::bench {

struct ChildUsage {
  double cpu_seconds = 0;  // user + system
  long max_rss_kb = 0;
  int exit_status = -1;
};

// fork+exec argv, stdout/stderr appended to log_path (or /dev/null when empty).
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log_path = "");
// Sends `sig`, waits, and returns the child's own CPU time and peak RSS (wait4).
ChildUsage StopAndMeasure(pid_t pid, int sig);
// CPU seconds used so far by a running process (from /proc/PID/stat).
double ProcessCpuSeconds(pid_t pid);
std::string MakeTempDir(const std::string& prefix);
void SleepSeconds(double s);

}  // namespace custodian::bench
