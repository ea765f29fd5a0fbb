// JobWorker: the background work of `custodian serve`, the one place its threads live.
//
// Three threads beside the API:
//   - exports: requeues export jobs a dead process left running (RecoverAfterRestart, once,
//     before anything else), then claims and builds queued exports one at a time
//     (ExportJobRunner::RunNext, jobs/export_run.h), logging one line per finished job (ids
//     and outcome only), and polls the queue every `idle` when it is empty;
//   - redactions: the same for redaction jobs (jobs/redaction_run.h), on a thread of its
//     own so that a long redaction does not hold up exports;
//   - holds: releases the holds of closed requests whose own retention has passed
//     (Workflow::ReleaseDueHolds), at start and every `hold_release_interval`.
// The intervals are scheduling only, measured on the host's steady clock; everything
// recorded uses the injected Clock.
//
// Stop() wakes both threads and joins them. An export being built is finished first (a
// build has no interruption point other than its job's cancel flag); if the process is
// killed meanwhile, the job is left running and the next start rebuilds it from scratch
// (jobs/export_run.h). The worker should have a records connection of its own, so that
// its commits (job progress, an fsync each) do not hold up the API's reads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <thread>

#include "base/clock.h"
#include "base/filesystem.h"
#include "base/mutex.h"
#include "exports/export_jobs.h"
#include "jobs/export_run.h"
#include "jobs/redaction_run.h"
#include "records/database.h"

namespace custodian::jobs {

struct JobWorkerOptions {
  exports::ExportServiceOptions exports;
  std::chrono::milliseconds idle{1000};
  std::chrono::milliseconds hold_release_interval{10 * 60 * 1000};
};

class JobWorker {
 public:
  // Recovers interrupted export jobs, then starts the threads.
  static Result<std::unique_ptr<JobWorker>> Start(records::Database& db, Filesystem& fs,
                                                  const Clock& clock, JobWorkerOptions options);
  ~JobWorker();  // Stop()
  JobWorker(const JobWorker&) = delete;
  JobWorker& operator=(const JobWorker&) = delete;

  // Idempotent; returns once both threads have ended.
  void Stop();
  // Makes the export thread look at the queue now rather than after its idle wait.
  void Poke();

 private:
  JobWorker(records::Database& db, Filesystem& fs, const Clock& clock, JobWorkerOptions options);
  // Claims and runs the runner's jobs until Stop(), waiting `idle` (or for a Poke(), which
  // sets *poked) when its queue is empty; calls finished(job id) after each job.
  void RunQueue(JobRunner& runner, const char* kind, bool* poked,
                const std::function<void(int64_t)>& finished);
  void ReleaseHolds();
  void LogFinished(int64_t job_id);
  // Waits up to d, or until Stop() (returns true) or, when poked is given, a Poke().
  bool WaitFor(std::chrono::milliseconds d, bool* poked);

  records::Database& db_;
  const Clock& clock_;
  const JobWorkerOptions options_;
  ExportJobRunner runner_;
  RedactionJobRunner redactions_;

  Mutex mu_;
  std::condition_variable wake_;
  bool stopping_ GUARDED_BY(mu_) = false;
  // Set by Poke(); RunQueue is given one of them as `poked`, read and cleared in WaitFor with
  // mu_ held.
  bool poked_ GUARDED_BY(mu_) = false;
  bool redactions_poked_ GUARDED_BY(mu_) = false;
  std::thread exports_thread_;
  std::thread redactions_thread_;
  std::thread holds_thread_;
};

}  // namespace custodian::jobs
