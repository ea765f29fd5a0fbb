// Alarms as the health page and the notifier see them: raised, cleared, acknowledged by a
// person, e-mailed (schema v8). Raising and clearing are in housekeeping.cpp.
#include "records/database.h"
#include "records/sqlite.h"

namespace custodian::records {

namespace {

const char kAlarmColumns[] =
    "id, kind, raised_us, cleared_us, detail, acknowledged_us, acknowledged_by, notified_us";

AlarmRow ReadAlarm(const Statement& s) {
  AlarmRow a;
  a.id = s.ColInt(0);
  a.kind = s.ColText(1);
  a.raised = s.ColTime(2);
  a.cleared = s.ColOptTime(3);
  a.detail = s.ColText(4);
  a.acknowledged = s.ColOptTime(5);
  a.acknowledged_by = s.ColOptInt(6);
  a.notified = s.ColOptTime(7);
  return a;
}

}  // namespace

Result<std::vector<AlarmRow>> Database::ListRecentAlarms(UtcMicros cleared_since, int limit) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st, Prepare(std::string("SELECT ") + kAlarmColumns +
                            " FROM alarms WHERE cleared_us IS NULL OR cleared_us >= ? "
                            "ORDER BY cleared_us IS NOT NULL, raised_us DESC, id DESC LIMIT ?"));
  st.Time(cleared_since).Int(limit);
  return CollectRows<AlarmRow>(st, ReadAlarm);
}

Result<std::optional<AlarmRow>> Database::GetAlarm(int64_t id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st, Prepare(std::string("SELECT ") + kAlarmColumns + " FROM alarms WHERE id = ?"));
  st.Int(id);
  RECORDS_ASSIGN_OR_RETURN(std::vector<AlarmRow> rows, CollectRows<AlarmRow>(st, ReadAlarm));
  if (rows.empty()) return std::optional<AlarmRow>();
  return std::optional<AlarmRow>(std::move(rows.front()));
}

Status Database::AcknowledgeAlarm(int64_t id, int64_t user_id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st, Prepare("UPDATE alarms SET acknowledged_us = ?, acknowledged_by = ? "
                            "WHERE id = ? AND acknowledged_us IS NULL"));
  CUSTODIAN_RETURN_IF_ERROR(st.Time(Now()).Int(user_id).Int(id).Run());
  if (st.Changes() > 0) return Status::Ok();
  RECORDS_ASSIGN_OR_RETURN(Statement exists, Prepare("SELECT 1 FROM alarms WHERE id = ?"));
  exists.Int(id);
  RECORDS_ASSIGN_OR_RETURN(bool row, exists.Step());
  if (!row) return NotFound("records: no alarm " + std::to_string(id));
  return FailedPrecondition("alarm " + std::to_string(id) + " is already acknowledged");
}

Result<std::vector<AlarmRow>> Database::ListAlarmsToNotify(int limit) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st, Prepare(std::string("SELECT ") + kAlarmColumns +
                            " FROM alarms WHERE notified_us IS NULL ORDER BY raised_us, id "
                            "LIMIT ?"));
  st.Int(limit);
  return CollectRows<AlarmRow>(st, ReadAlarm);
}

Status Database::MarkAlarmNotified(int64_t id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("UPDATE alarms SET notified_us = ? WHERE id = ?"));
  return st.Time(Now()).Int(id).Run();
}

Status Database::MarkAlarmsNotNotified(UtcMicros raised_before) {
  Lock lock(mu_);
  // 0 rather than a time: "never sent", distinct from any real sending.
  RECORDS_ASSIGN_OR_RETURN(
      Statement st,
      Prepare("UPDATE alarms SET notified_us = 0 WHERE notified_us IS NULL AND raised_us < ?"));
  return st.Time(raised_before).Run();
}

}  // namespace custodian::records
