// Jobs: the queue of background work (exports now, redaction later) shared by the worker
// in `serve` and by CLI verbs. A job is claimed by moving it from queued to running inside
// an immediate transaction, so two workers (even in two processes) never take the same one.
#include <algorithm>
#include <cstdint>
#include <string>

#include "records/database.h"
#include "records/sqlite.h"

namespace custodian::records {

namespace {

const std::string kJobColumns =
    "id, kind, state, progress, params, result, created_by, created_us, updated_us, "
    "cancel_requested, attempts, worker, started_us, finished_us, error";

JobRow ReadJob(const Statement& st) {
  JobRow j;
  j.id = st.ColInt(0);
  j.kind = st.ColText(1);
  j.state = st.ColEnum<JobState>(2, ParseJobState);
  j.progress = st.ColDouble(3);
  j.params = st.ColText(4);
  j.result = st.ColOptText(5);
  j.created_by = st.ColOptInt(6);
  j.created = st.ColTime(7);
  j.updated = st.ColTime(8);
  j.cancel_requested = st.ColBool(9);
  j.attempts = static_cast<int>(st.ColInt(10));
  j.worker = st.ColOptText(11);
  j.started = st.ColOptTime(12);
  j.finished = st.ColOptTime(13);
  j.error = st.ColOptText(14);
  return j;
}

std::string JobIdText(int64_t id) { return "records: job " + std::to_string(id); }

// "kind IN ('a','b')" is not bindable as one parameter; kinds go in as a JSON array and
// are matched with json_each.
std::string KindsJson(const std::vector<std::string>& kinds) {
  std::string out = "[";
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (i) out += ",";
    out += "\"";
    for (char c : kinds[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += "\"";
  }
  return out + "]";
}

}  // namespace

Result<int64_t> Database::EnqueueJob(const std::string& kind, const std::string& params,
                                     std::optional<int64_t> created_by) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("INSERT INTO jobs (kind, state, params, created_by, created_us, "
                                   "updated_us) VALUES (?, 'queued', ?, ?, ?, ?)"));
  CUSTODIAN_RETURN_IF_ERROR(
      st.Text(kind).Text(params).OptInt(created_by).Time(Now()).Time(Now()).Run());
  return static_cast<int64_t>(sqlite3_last_insert_rowid(conn_->db.get()));
}

Result<std::optional<JobRow>> Database::GetJob(int64_t id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT " + kJobColumns + " FROM jobs WHERE id = ?"));
  st.Int(id);
  RECORDS_ASSIGN_OR_RETURN(std::vector<JobRow> rows, CollectRows<JobRow>(st, ReadJob));
  if (rows.empty()) return std::optional<JobRow>();
  return std::optional<JobRow>(std::move(rows.front()));
}

Result<std::vector<JobRow>> Database::ListJobs(std::optional<JobState> state) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " + kJobColumns +
                                                 " FROM jobs WHERE (?1 IS NULL OR state = ?1) "
                                                 "ORDER BY id DESC"));
  if (state) {
    st.Text(Name(*state));
  } else {
    st.Null();
  }
  return CollectRows<JobRow>(st, ReadJob);
}

Result<std::optional<JobRow>> Database::ClaimNextJob(const std::vector<std::string>& kinds,
                                                     const std::string& worker) {
  std::optional<JobRow> claimed;
  Status status = WithTransaction([&]() REQUIRES(mu_) -> Status {
    int64_t id = 0;
    {
      RECORDS_ASSIGN_OR_RETURN(Statement pick,
                               Prepare("SELECT id FROM jobs WHERE state = 'queued' AND kind IN "
                                       "(SELECT value FROM json_each(?)) ORDER BY created_us, id "
                                       "LIMIT 1"));
      pick.Text(KindsJson(kinds));
      RECORDS_ASSIGN_OR_RETURN(bool found, pick.Step());
      if (!found) return Status::Ok();
      id = pick.ColInt(0);
    }
    RECORDS_ASSIGN_OR_RETURN(Statement up,
                             Prepare("UPDATE jobs SET state = 'running', attempts = attempts + 1, "
                                     "worker = ?, started_us = ?, updated_us = ?, progress = 0, "
                                     "error = NULL WHERE id = ?"));
    CUSTODIAN_RETURN_IF_ERROR(up.Text(worker).Time(Now()).Time(Now()).Int(id).Run());
    RECORDS_ASSIGN_OR_RETURN(claimed, GetJob(id));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return claimed;
}

Status Database::SetJobProgress(int64_t id, double progress) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare("UPDATE jobs SET progress = ?, updated_us = ? "
                                                 "WHERE id = ? AND state = 'running'"));
  CUSTODIAN_RETURN_IF_ERROR(st.Double(std::clamp(progress, 0.0, 1.0)).Time(Now()).Int(id).Run());
  if (st.Changes() == 0) return FailedPrecondition(JobIdText(id) + " is not running");
  return Status::Ok();
}

Result<JobState> Database::RequestJobCancel(int64_t id) {
  JobState after = JobState::kCancelled;
  Status status = WithTransaction([&]() REQUIRES(mu_) -> Status {
    RECORDS_ASSIGN_OR_RETURN(std::optional<JobRow> job, GetJob(id));
    if (!job) return NotFound(JobIdText(id) + " does not exist");
    if (job->state == JobState::kQueued) {
      RECORDS_ASSIGN_OR_RETURN(Statement st,
                               Prepare("UPDATE jobs SET state = 'cancelled', cancel_requested = 1, "
                                       "finished_us = ?, updated_us = ? WHERE id = ?"));
      return st.Time(Now()).Time(Now()).Int(id).Run();
    }
    if (job->state != JobState::kRunning) {
      return FailedPrecondition(JobIdText(id) + " is already " + Name(job->state));
    }
    after = JobState::kRunning;
    RECORDS_ASSIGN_OR_RETURN(
        Statement st, Prepare("UPDATE jobs SET cancel_requested = 1, updated_us = ? WHERE id = ?"));
    return st.Time(Now()).Int(id).Run();
  });
  if (!status.ok()) return status;
  return after;
}

Status Database::FinishJob(int64_t id, JobState final_state,
                           const std::optional<std::string>& result,
                           const std::optional<std::string>& error) {
  if (final_state != JobState::kSucceeded && final_state != JobState::kFailed &&
      final_state != JobState::kCancelled) {
    return InvalidArgument("records: a job finishes succeeded, failed or cancelled");
  }
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st,
      Prepare("UPDATE jobs SET state = ?, result = ?, error = ?, finished_us = ?, updated_us = ?, "
              "progress = CASE WHEN ? = 'succeeded' THEN 1 ELSE progress END "
              "WHERE id = ? AND state = 'running'"));
  CUSTODIAN_RETURN_IF_ERROR(st.Text(Name(final_state))
                                .OptText(result)
                                .OptText(error)
                                .Time(Now())
                                .Time(Now())
                                .Text(Name(final_state))
                                .Int(id)
                                .Run());
  if (st.Changes() == 0) return FailedPrecondition(JobIdText(id) + " is not running");
  return Status::Ok();
}

Result<std::vector<JobRow>> Database::RequeueRunningJobs(const std::vector<std::string>& kinds) {
  std::vector<JobRow> requeued;
  Status status = WithTransaction([&]() REQUIRES(mu_) -> Status {
    std::vector<JobRow> running;
    {
      RECORDS_ASSIGN_OR_RETURN(Statement st,
                               Prepare("SELECT " + kJobColumns +
                                       " FROM jobs WHERE state = 'running' "
                                       "AND kind IN (SELECT value FROM json_each(?)) ORDER BY id"));
      st.Text(KindsJson(kinds));
      RECORDS_ASSIGN_OR_RETURN(running, CollectRows<JobRow>(st, ReadJob));
    }
    for (JobRow& job : running) {
      RECORDS_ASSIGN_OR_RETURN(
          Statement up,
          Prepare("UPDATE jobs SET state = CASE cancel_requested WHEN 1 THEN 'cancelled' "
                  "ELSE 'queued' END, progress = 0, worker = NULL, updated_us = ?, "
                  "finished_us = CASE cancel_requested WHEN 1 THEN ? ELSE NULL END "
                  "WHERE id = ?"));
      CUSTODIAN_RETURN_IF_ERROR(up.Time(Now()).Time(Now()).Int(job.id).Run());
      job.state = job.cancel_requested ? JobState::kCancelled : JobState::kQueued;
      job.progress = 0;
      requeued.push_back(job);
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return requeued;
}

}  // namespace custodian::records
