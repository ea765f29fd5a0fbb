#include "jobs/worker.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "base/log.h"
#include "requests/workflow.h"

namespace custodian::jobs {

Result<std::unique_ptr<JobWorker>> JobWorker::Start(records::Database& db, Filesystem& fs,
                                                    const Clock& clock, JobWorkerOptions options) {
  std::unique_ptr<JobWorker> w(new JobWorker(db, fs, clock, std::move(options)));
  for (auto [runner, kind] : {std::pair<JobRunner*, const char*>{&w->runner_, "export"},
                              {&w->redactions_, "redaction"}}) {
    auto recovered = runner->RecoverAfterRestart();
    if (!recovered.ok()) return recovered.status();
    if (*recovered > 0) {
      LogInfo("worker") << *recovered << " interrupted " << kind << " job(s) queued again";
    }
  }
  JobWorker* p = w.get();
  p->exports_thread_ = std::thread([p] {
    p->RunQueue(p->runner_, "export", &p->poked_, [p](int64_t id) { p->LogFinished(id); });
  });
  p->redactions_thread_ = std::thread([p] {
    p->RunQueue(p->redactions_, "redaction", &p->redactions_poked_,
                [](int64_t id) { LogInfo("worker") << "redaction job " << id << " finished"; });
  });
  p->holds_thread_ = std::thread([p] { p->ReleaseHolds(); });
  return w;
}

JobWorker::JobWorker(records::Database& db, Filesystem& fs, const Clock& clock,
                     JobWorkerOptions options)
    : db_(db),
      clock_(clock),
      options_(std::move(options)),
      runner_(db, fs, clock, options_.exports),
      redactions_(db, fs, clock, options_.exports.data_dir, options_.exports.worker) {}

JobWorker::~JobWorker() { Stop(); }

void JobWorker::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (exports_thread_.joinable()) exports_thread_.join();
  if (redactions_thread_.joinable()) redactions_thread_.join();
  if (holds_thread_.joinable()) holds_thread_.join();
}

void JobWorker::Poke() {
  {
    MutexLock lock(mu_);
    poked_ = true;
    redactions_poked_ = true;
  }
  wake_.notify_all();
}

bool JobWorker::WaitFor(std::chrono::milliseconds d, bool* poked) {
  MutexLock lock(mu_);
  lock.WaitFor(wake_, d, [&]() REQUIRES(mu_) { return stopping_ || (poked && *poked); });
  if (poked) *poked = false;
  return stopping_;
}

void JobWorker::RunQueue(JobRunner& runner, const char* kind, bool* poked,
                         const std::function<void(int64_t)>& finished) {
  for (;;) {
    {
      MutexLock lock(mu_);
      if (stopping_) return;
    }
    auto ran = runner.RunNext();
    if (!ran.ok()) {
      LogError("worker") << kind << " queue: " << ran.status().ToString() << "; retrying";
    } else if (ran->has_value()) {
      finished(**ran);
      continue;
    }
    if (WaitFor(options_.idle, poked)) return;
  }
}

void JobWorker::LogFinished(int64_t job_id) {
  auto job = db_.GetJob(job_id);
  if (!job.ok() || !*job) {
    LogWarn("worker") << "export job " << job_id << " finished; its row cannot be read";
    return;
  }
  const nlohmann::json params =
      nlohmann::json::parse((*job)->params, nullptr, /*allow_exceptions=*/false);
  const int64_t export_id = params.is_object() ? params.value("export_id", int64_t{0}) : 0;
  LogInfo("worker") << "export job " << job_id << " (export " << export_id
                    << ") finished: " << records::Name((*job)->state);
}

void JobWorker::ReleaseHolds() {
  requests::Workflow workflow(db_, clock_);
  do {
    auto released = workflow.ReleaseDueHolds();
    if (!released.ok()) {
      LogError("worker") << "releasing due holds: " << released.status().ToString()
                         << "; retrying at the next interval";
    }
  } while (!WaitFor(options_.hold_release_interval, nullptr));
}

}  // namespace custodian::jobs
