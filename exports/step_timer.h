// StepTimer: adds the time of its scope to one of a build's step times (BuildSteps): the
// calling thread's CPU time for work, wall time for waits (on the disk, on another thread).
// On a machine busy with other work a thread waits for a core as well, so wall time says
// little about what a step costs. One thread per timer; the step is not synchronised.
#pragma once

#include <chrono>
#include <cstdint>

#include "exports/hash_worker.h"

namespace custodian::exports {

class StepTimer {
 public:
  enum Kind { kCpu, kWall };
  explicit StepTimer(double& step, Kind kind = kCpu)
      : step_(step), kind_(kind), start_(Now(kind)) {}
  ~StepTimer() { step_ += static_cast<double>(Now(kind_) - start_) / 1e9; }
  StepTimer(const StepTimer&) = delete;
  StepTimer& operator=(const StepTimer&) = delete;

 private:
  static int64_t Now(Kind kind) {
    if (kind == kCpu) return ThreadCpuNanos();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  double& step_;
  const Kind kind_;
  const int64_t start_;
};

}  // namespace custodian::exports
