#include "api/job_worker.h"

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "requests/workflow.h"

namespace custodian::api {

Result<std::unique_ptr<JobWorker>> JobWorker::Start(records::Database& db, Filesystem& fs,
                                                    const Clock& clock, JobWorkerOptions options) {
  std::unique_ptr<JobWorker> w(new JobWorker(db, fs, clock, std::move(options)));
  auto recovered = w->runner_.RecoverAfterRestart();
  if (!recovered.ok()) return recovered.status();
  if (*recovered > 0) {
    LogInfo("worker") << *recovered << " interrupted export job(s) queued again";
  }
  auto redactions = w->redactions_.RecoverAfterRestart();
  if (!redactions.ok()) return redactions.status();
  if (*redactions > 0) {
    LogInfo("worker") << *redactions << " interrupted redaction job(s) queued again";
  }
  w->exports_thread_ = std::thread([p = w.get()] { p->RunExports(); });
  w->redactions_thread_ = std::thread([p = w.get()] { p->RunRedactions(); });
  w->holds_thread_ = std::thread([p = w.get()] { p->ReleaseHolds(); });
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
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (exports_thread_.joinable()) exports_thread_.join();
  if (redactions_thread_.joinable()) redactions_thread_.join();
  if (holds_thread_.joinable()) holds_thread_.join();
}

void JobWorker::Poke() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
    redactions_poked_ = true;
  }
  wake_.notify_all();
}

bool JobWorker::WaitFor(std::chrono::milliseconds d, bool wake_on_poke, bool* poke) {
  if (wake_on_poke && poke == nullptr) poke = &poked_;
  std::unique_lock lock(mu_);
  wake_.wait_for(lock, d, [&] { return stopping_ || (wake_on_poke && *poke); });
  if (wake_on_poke) *poke = false;
  return stopping_;
}

void JobWorker::RunExports() {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    auto ran = runner_.RunNext();
    if (!ran.ok()) {
      LogError("worker") << "export queue: " << ran.status().ToString() << "; retrying";
    } else if (ran->has_value()) {
      LogFinished(**ran);
      continue;
    }
    if (WaitFor(options_.idle, true)) return;
  }
}

void JobWorker::RunRedactions() {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    auto ran = redactions_.RunNext();
    if (!ran.ok()) {
      LogError("worker") << "redaction queue: " << ran.status().ToString() << "; retrying";
    } else if (ran->has_value()) {
      LogInfo("worker") << "redaction job " << **ran << " finished";
      continue;
    }
    if (WaitFor(options_.idle, true, &redactions_poked_)) return;
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
  } while (!WaitFor(options_.hold_release_interval, false));
}

}  // namespace custodian::api
