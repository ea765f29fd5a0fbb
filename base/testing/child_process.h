// Ending the child processes a test started. Header-only, no Catch2.
//
// A child built with the sanitizers does real work when it exits: LeakSanitizer's check,
// and a report being symbolized and written (seconds, for a program linked with GStreamer
// or OpenCV). A SIGKILL in the middle of that leaves a report with no stack, or none at
// all. So a test ends a child with StopChild: SIGTERM, then a bounded grace period for it
// to exit, and only after that SIGKILL, which it says on stderr (a child that needs it is
// itself a finding). Tests that kill on purpose (crash tests) send SIGKILL themselves.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace custodian::testing {

// Long enough for a sanitizer to symbolize and write a report with every stack.
inline constexpr int kChildExitGraceMs = 30'000;

// Waits up to `timeout_ms` for `pid` to exit. True (and *status set) once it is reaped.
inline bool WaitChild(pid_t pid, int timeout_ms, int* status) {
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // not our child (any more): nothing to wait for
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed_ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1'000'000;
    if (elapsed_ms >= timeout_ms) return false;
    usleep(10'000);
  }
}

// Sends `sig` (SIGTERM by default), waits up to grace_ms, then SIGKILLs and reaps. Returns
// the exit status, or 128 + the signal that ended it (so a SIGKILL after the grace is 137).
inline int StopChild(pid_t pid, int grace_ms = kChildExitGraceMs, int sig = SIGTERM) {
  if (pid <= 0) return -1;
  int status = 0;
  kill(pid, sig);
  if (!WaitChild(pid, grace_ms, &status)) {
    std::fprintf(stderr, "test: child %d did not exit within %d ms of signal %d; killing it\n",
                 static_cast<int>(pid), grace_ms, sig);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

}  // namespace custodian::testing
