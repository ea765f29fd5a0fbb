// Deletions, alarms, settings and delayed policy changes.
#include <sstream>
#include <string>

#include "records/database.h"
#include "records/sqlite.h"

namespace custodian::records {

namespace {

// sha256s are stored space-separated: hex digests contain no spaces.
std::string JoinHashes(const std::vector<std::string>& hashes) {
  std::string out;
  for (const std::string& h : hashes) {
    if (!out.empty()) out += ' ';
    out += h;
  }
  return out;
}

std::vector<std::string> SplitHashes(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string h; in >> h;) out.push_back(h);
  return out;
}

DeletionRow ReadDeletion(const Statement& st) {
  DeletionRow d;
  d.id = st.ColInt(0);
  d.at = st.ColTime(1);
  d.camera_id = st.ColOptText(2);
  d.from = st.ColTime(3);
  d.to = st.ColTime(4);
  d.segment_count = st.ColInt(5);
  d.bytes = st.ColInt(6);
  d.sha256s = SplitHashes(st.ColText(7));
  d.rule = st.ColEnum<DeletionRule>(8, ParseDeletionRule);
  d.export_id = st.ColOptInt(9);
  d.deleted_by = st.ColOptInt(10);
  d.detail = st.ColText(11);
  return d;
}

PolicyChangeRow ReadPolicyChange(const Statement& st) {
  PolicyChangeRow p;
  p.id = st.ColInt(0);
  p.camera_id = st.ColOptText(1);
  p.key = st.ColText(2);
  p.old_value = st.ColOptText(3);
  p.new_value = st.ColText(4);
  p.requested_by = st.ColOptInt(5);
  p.requested = st.ColTime(6);
  p.effective = st.ColTime(7);
  p.applied = st.ColOptTime(8);
  p.cancelled = st.ColOptTime(9);
  return p;
}

}  // namespace

Result<int64_t> Database::RecordDeletion(const DeletionRow& d) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st,
      Prepare("INSERT INTO deletions (at_us, camera_id, from_us, to_us, segment_count, bytes, "
              "sha256s, rule, export_id, deleted_by, detail) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  CUSTODIAN_RETURN_IF_ERROR(st.Time(Now())
                                .OptText(d.camera_id)
                                .Time(d.from)
                                .Time(d.to)
                                .Int(d.segment_count)
                                .Int(d.bytes)
                                .Text(JoinHashes(d.sha256s))
                                .Text(Name(d.rule))
                                .OptInt(d.export_id)
                                .OptInt(d.deleted_by)
                                .Text(d.detail)
                                .Run());
  return static_cast<int64_t>(sqlite3_last_insert_rowid(conn_->db.get()));
}

Result<std::vector<DeletionRow>> Database::ListDeletions(UtcMicros from, UtcMicros to) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st,
      Prepare("SELECT id, at_us, camera_id, from_us, to_us, segment_count, bytes, sha256s, "
              "rule, export_id, deleted_by, detail FROM deletions "
              "WHERE at_us >= ? AND at_us < ? ORDER BY at_us, id"));
  st.Time(from).Time(to);
  return CollectRows<DeletionRow>(st, ReadDeletion);
}

Result<int64_t> Database::RaiseAlarm(const std::string& kind, const std::string& detail) {
  Lock lock(mu_);
  // The partial unique index allows one uncleared alarm per kind; raising it again only
  // refreshes the detail.
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("INSERT INTO alarms (kind, raised_us, detail) VALUES (?, ?, ?) "
                                   "ON CONFLICT (kind) WHERE cleared_us IS NULL "
                                   "DO UPDATE SET detail = excluded.detail RETURNING id"));
  st.Text(kind).Time(Now()).Text(detail);
  RECORDS_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Internal("records: raising alarm " + kind + " returned no id");
  int64_t id = st.ColInt(0);
  CUSTODIAN_RETURN_IF_ERROR(st.Run());
  return id;
}

Status Database::ClearAlarm(const std::string& kind) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st,
      Prepare("UPDATE alarms SET cleared_us = ? WHERE kind = ? AND cleared_us IS NULL"));
  return st.Time(Now()).Text(kind).Run();
}

Result<std::vector<AlarmRow>> Database::ListActiveAlarms() {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT id, kind, raised_us, cleared_us, detail FROM alarms "
                                   "WHERE cleared_us IS NULL ORDER BY raised_us, id"));
  return CollectRows<AlarmRow>(st, [](const Statement& s) {
    AlarmRow a;
    a.id = s.ColInt(0);
    a.kind = s.ColText(1);
    a.raised = s.ColTime(2);
    a.cleared = s.ColOptTime(3);
    a.detail = s.ColText(4);
    return a;
  });
}

Result<std::optional<std::string>> Database::GetSetting(const std::string& key) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT value FROM settings WHERE key = ?"));
  st.Text(key);
  RECORDS_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(st.ColText(0));
}

Status Database::SetSetting(const std::string& key, const std::string& value,
                            std::optional<int64_t> updated_by) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("INSERT OR REPLACE INTO settings (key, value, updated_us, "
                                   "updated_by) VALUES (?, ?, ?, ?)"));
  return st.Text(key).Text(value).Time(Now()).OptInt(updated_by).Run();
}

Result<int64_t> Database::SchedulePolicyChange(const PolicyChangeRow& c) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st,
      Prepare("INSERT INTO pending_policy_changes (camera_id, key, old_value, new_value, "
              "requested_by, requested_us, effective_us) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  CUSTODIAN_RETURN_IF_ERROR(st.OptText(c.camera_id)
                                .Text(c.key)
                                .OptText(c.old_value)
                                .Text(c.new_value)
                                .OptInt(c.requested_by)
                                .Time(Now())
                                .Time(c.effective)
                                .Run());
  return static_cast<int64_t>(sqlite3_last_insert_rowid(conn_->db.get()));
}

Result<std::vector<PolicyChangeRow>> Database::ListOpenPolicyChanges() {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st,
      Prepare("SELECT id, camera_id, key, old_value, new_value, requested_by, requested_us, "
              "effective_us, applied_us, cancelled_us FROM pending_policy_changes "
              "WHERE applied_us IS NULL AND cancelled_us IS NULL ORDER BY effective_us, id"));
  return CollectRows<PolicyChangeRow>(st, ReadPolicyChange);
}

Status Database::MarkPolicyChangeApplied(int64_t id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("UPDATE pending_policy_changes SET applied_us = ? "
                                   "WHERE id = ? AND applied_us IS NULL AND cancelled_us IS NULL"));
  CUSTODIAN_RETURN_IF_ERROR(st.Time(Now()).Int(id).Run());
  if (st.Changes() == 0) return NotFound("records: no open policy change " + std::to_string(id));
  return Status::Ok();
}

Status Database::CancelPolicyChange(int64_t id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("UPDATE pending_policy_changes SET cancelled_us = ? "
                                   "WHERE id = ? AND applied_us IS NULL AND cancelled_us IS NULL"));
  CUSTODIAN_RETURN_IF_ERROR(st.Time(Now()).Int(id).Run());
  if (st.Changes() == 0) return NotFound("records: no open policy change " + std::to_string(id));
  return Status::Ok();
}

}  // namespace custodian::records
