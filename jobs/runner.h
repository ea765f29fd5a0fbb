// JobRunner: the one skeleton every kind of background job runs on.
//
// A kind of job (an export, a redaction) is a subclass that says which `jobs` rows it takes
// (kind) and which member of a row's parameters names the thing to make (subject_key, e.g.
// "export_id"), and implements Run. The skeleton does the rest, the same way for every kind:
//
//   RecoverAfterRestart  requeues this kind's jobs that a dead process left running (a job
//                        whose cancel was asked for stays cancelled); called once at start,
//                        before any RunNext;
//   RunNext              claims the oldest queued job of this kind, reads its subject id
//                        (a job whose parameters lack it fails at once: "bad job
//                        parameters") and calls Run.
//
// Run records the job's outcome itself (succeeded, failed or cancelled, with the result or
// the reason); its error return means only that the records could not be written, so the
// job stays running and RecoverAfterRestart requeues it at the next start.
//
// Threading: one runner per kind per process, its RunNext called from one thread at a time;
// other threads may queue and cancel jobs meanwhile (all state is in the records).
//
// ProgressThrottle: job progress is a commit (an fsync) per write, so a run reports it only
// when it has moved a step and an interval has passed on the monotonic clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "records/database.h"

namespace custodian::jobs {

class JobRunner {
 public:
  virtual ~JobRunner() = default;
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Requeues this kind's jobs left running by a process that died; returns how many.
  Result<int> RecoverAfterRestart();
  // Claims and runs the oldest queued job of this kind. Returns its id, or nullopt when the
  // queue is empty. A job that fails is recorded as failed and is not an error here.
  Result<std::optional<int64_t>> RunNext();

 protected:
  JobRunner(records::Database& db, std::string kind, std::string subject_key, std::string worker);
  // Runs a claimed job to its end (see above).
  virtual Status Run(const records::JobRow& job, int64_t subject_id) = 0;

  records::Database& db_;

 private:
  const std::string kind_;
  const std::string subject_key_;
  const std::string worker_;
};

class ProgressThrottle {
 public:
  // Writes when progress has moved `step` (a fraction) and `interval_us` has passed.
  ProgressThrottle(records::Database& db, const Clock& clock, int64_t job_id, double step,
                   int64_t interval_us);
  // Records f (0..1) if due. 1.0 is never written here: the job's FinishJob writes it in the
  // same commit as the result. A failed write is logged, not returned: progress is advisory.
  void Report(double f);

 private:
  records::Database& db_;
  const Clock& clock_;
  const int64_t job_id_;
  const double step_;
  const int64_t interval_us_;
  double reported_ = 0;
  MonoMicros reported_at_;
};

}  // namespace custodian::jobs
