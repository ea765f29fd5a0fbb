#include "jobs/runner.h"

#include <nlohmann/json.hpp>

#include "base/log.h"

namespace custodian::jobs {

using records::JobRow;
using records::JobState;

JobRunner::JobRunner(records::Database& db, std::string kind, std::string subject_key,
                     std::string worker)
    : db_(db),
      kind_(std::move(kind)),
      subject_key_(std::move(subject_key)),
      worker_(std::move(worker)) {}

Result<int> JobRunner::RecoverAfterRestart() {
  auto requeued = db_.RequeueRunningJobs({kind_});
  if (!requeued.ok()) return requeued.status();
  for (const JobRow& job : *requeued) {
    LogInfo("jobs") << kind_ << " job " << job.id << " was running when the service stopped; "
                    << (job.state == JobState::kCancelled
                            ? "it had been cancelled, so it stays cancelled"
                            : "it is queued again and will start again from scratch");
  }
  return static_cast<int>(requeued->size());
}

Result<std::optional<int64_t>> JobRunner::RunNext() {
  auto claimed = db_.ClaimNextJob({kind_}, worker_);
  if (!claimed.ok()) return claimed.status();
  if (!claimed->has_value()) return std::optional<int64_t>();
  const JobRow job = **claimed;
  const nlohmann::json params =
      nlohmann::json::parse(job.params, nullptr, /*allow_exceptions=*/false);
  auto subject = params.is_object() ? params.find(subject_key_) : params.end();
  if (!params.is_object() || subject == params.end() || !subject->is_number_integer()) {
    LogError("jobs") << kind_ << " job " << job.id << " has no " << subject_key_
                     << " in its parameters; it fails";
    CUSTODIAN_RETURN_IF_ERROR(
        db_.FinishJob(job.id, JobState::kFailed, std::nullopt, "bad job parameters"));
    return std::optional<int64_t>(job.id);
  }
  CUSTODIAN_RETURN_IF_ERROR(Run(job, subject->get<int64_t>()));
  return std::optional<int64_t>(job.id);
}

ProgressThrottle::ProgressThrottle(records::Database& db, const Clock& clock, int64_t job_id,
                                   double step, int64_t interval_us)
    : db_(db),
      clock_(clock),
      job_id_(job_id),
      step_(step),
      interval_us_(interval_us),
      reported_at_(clock.Monotonic()) {}

void ProgressThrottle::Report(double f) {
  const MonoMicros now = clock_.Monotonic();
  if (f >= 1.0 || f - reported_ < step_ || now - reported_at_ < interval_us_) return;
  reported_ = f;
  reported_at_ = now;
  Status st = db_.SetJobProgress(job_id_, f);
  if (!st.ok()) LogWarn("jobs") << "job " << job_id_ << " progress: " << st.ToString();
}

}  // namespace custodian::jobs
