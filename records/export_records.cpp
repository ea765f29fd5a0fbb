// Exports (the packages built for a request) and disclosures (their handovers). Expiry of
// export files is retention's, in exports.cpp.
#include <cstdint>
#include <string>

#include "records/database.h"
#include "records/sqlite.h"

namespace custodian::records {

namespace {

const std::string kExportColumns =
    "id, request_id, job_id, state, path, created_us, created_by, redacted, bytes, "
    "manifest_sha256, expires_us, deleted_us, include_originals, error, key_id, "
    "unredacted_justification, justified_by, justified_us";

const std::string kExportRangesSql =
    "SELECT camera_id, from_us, to_us FROM export_ranges WHERE export_id = ? "
    "ORDER BY camera_id, from_us";

ExportRow ReadExport(const Statement& st) {
  ExportRow e;
  e.id = st.ColInt(0);
  e.request_id = st.ColInt(1);
  e.job_id = st.ColOptInt(2);
  e.state = st.ColEnum<ExportState>(3, ParseExportState);
  e.path = st.ColOptText(4);
  e.created = st.ColTime(5);
  e.created_by = st.ColInt(6);
  e.redacted = st.ColBool(7);
  e.bytes = st.ColInt(8);
  e.manifest_sha256 = st.ColOptText(9);
  e.expires = st.ColOptTime(10);
  e.deleted = st.ColOptTime(11);
  e.include_originals = st.ColBool(12);
  e.error = st.ColOptText(13);
  e.key_id = st.ColOptText(14);
  e.unredacted_justification = st.ColOptText(15);
  e.justified_by = st.ColOptInt(16);
  e.justified = st.ColOptTime(17);
  return e;
}

const std::string kDisclosureColumns =
    "id, export_id, recipient_name, organisation, reference, method, at_us, authorised_by, "
    "recorded_by, manifest_sha256, note, "
    "(SELECT request_id FROM exports WHERE exports.id = disclosures.export_id)";

DisclosureRow ReadDisclosure(const Statement& st) {
  DisclosureRow d;
  d.id = st.ColInt(0);
  d.export_id = st.ColInt(1);
  d.recipient_name = st.ColText(2);
  d.organisation = st.ColText(3);
  d.reference = st.ColText(4);
  d.method = st.ColEnum<DisclosureMethod>(5, ParseDisclosureMethod);
  d.at = st.ColTime(6);
  d.authorised_by = st.ColInt(7);
  d.recorded_by = st.ColInt(8);
  d.manifest_sha256 = st.ColText(9);
  d.note = st.ColText(10);
  d.request_id = st.ColInt(11);
  return d;
}

std::string ExportIdText(int64_t id) { return "records: export " + std::to_string(id); }

}  // namespace

Result<int64_t> Database::CreateExport(const ExportRow& e) {
  if (e.ranges.empty()) return InvalidArgument("records: an export needs at least one range");
  int64_t id = 0;
  Status status = WithTransaction([&]() REQUIRES(mu_) -> Status {
    RECORDS_ASSIGN_OR_RETURN(Statement st,
                             Prepare("INSERT INTO exports (request_id, job_id, state, created_us, "
                                     "created_by, redacted, include_originals) "
                                     "VALUES (?, ?, 'building', ?, ?, ?, ?)"));
    CUSTODIAN_RETURN_IF_ERROR(st.Int(e.request_id)
                                  .OptInt(e.job_id)
                                  .Time(Now())
                                  .Int(e.created_by)
                                  .Bool(e.redacted)
                                  .Bool(e.include_originals)
                                  .Run());
    id = sqlite3_last_insert_rowid(conn_->db.get());
    for (const FootageRange& r : e.ranges) {
      RECORDS_ASSIGN_OR_RETURN(Statement ins,
                               Prepare("INSERT INTO export_ranges (export_id, camera_id, from_us, "
                                       "to_us) VALUES (?, ?, ?, ?)"));
      CUSTODIAN_RETURN_IF_ERROR(ins.Int(id).Text(r.camera_id).Time(r.from).Time(r.to).Run());
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return id;
}

Result<std::optional<ExportRow>> Database::GetExport(int64_t id) {
  Lock lock(mu_);
  std::vector<ExportRow> rows;
  {
    RECORDS_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " + kExportColumns + " FROM exports WHERE id = ?"));
    st.Int(id);
    RECORDS_ASSIGN_OR_RETURN(rows, CollectRows<ExportRow>(st, ReadExport));
  }
  if (rows.empty()) return std::optional<ExportRow>();
  RECORDS_ASSIGN_OR_RETURN(rows.front().ranges, ReadRanges(kExportRangesSql, id));
  return std::optional<ExportRow>(std::move(rows.front()));
}

Result<std::vector<ExportRow>> Database::ListExportsForRequest(int64_t request_id) {
  Lock lock(mu_);
  std::vector<ExportRow> rows;
  {
    RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " + kExportColumns +
                                                   " FROM exports WHERE request_id = ? "
                                                   "ORDER BY id"));
    st.Int(request_id);
    RECORDS_ASSIGN_OR_RETURN(rows, CollectRows<ExportRow>(st, ReadExport));
  }
  for (ExportRow& e : rows) {
    RECORDS_ASSIGN_OR_RETURN(e.ranges, ReadRanges(kExportRangesSql, e.id));
  }
  return rows;
}

namespace {

// Runs an UPDATE guarded by the export's state and explains a miss, reading the export
// (get()) only then.
template <typename GetFn>
Status RunGuarded(Statement& update, GetFn get, int64_t id, const std::string& wanted) {
  CUSTODIAN_RETURN_IF_ERROR(update.Run());
  if (update.Changes() == 1) return Status::Ok();
  Result<std::optional<ExportRow>> current = get();
  if (!current.ok()) return current.status();
  if (!current->has_value()) return NotFound(ExportIdText(id) + " does not exist");
  return FailedPrecondition(ExportIdText(id) + " is " + Name((*current)->state) + "; " + wanted);
}

}  // namespace

Status Database::SetExportJob(int64_t export_id, int64_t job_id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare("UPDATE exports SET job_id = ? WHERE id = ?"));
  CUSTODIAN_RETURN_IF_ERROR(st.Int(job_id).Int(export_id).Run());
  if (st.Changes() == 0) return NotFound(ExportIdText(export_id) + " does not exist");
  return Status::Ok();
}

Status Database::RestartExport(int64_t id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st, Prepare("UPDATE exports SET state = 'building', path = NULL, error = NULL, "
                            "bytes = 0, manifest_sha256 = NULL WHERE id = ? "
                            "AND state IN ('building', 'failed')"));
  st.Int(id);
  return RunGuarded(
      st, [&] { return GetExport(id); }, id, "only a building or failed export is rebuilt");
}

Status Database::MarkExportReady(int64_t id, const ExportReady& r) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st,
      Prepare("UPDATE exports SET state = 'ready', path = ?, bytes = ?, manifest_sha256 = ?, "
              "key_id = ?, expires_us = ?, error = NULL WHERE id = ? AND state = 'building'"));
  st.Text(r.path).Int(r.bytes).Text(r.manifest_sha256).Text(r.key_id).OptTime(r.expires).Int(id);
  return RunGuarded(
      st, [&] { return GetExport(id); }, id, "only a building export becomes ready");
}

Status Database::MarkExportFailed(int64_t id, const std::string& error) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st,
      Prepare(
          "UPDATE exports SET state = 'failed', error = ? WHERE id = ? AND state = 'building'"));
  st.Text(error).Int(id);
  return RunGuarded(
      st, [&] { return GetExport(id); }, id, "only a building export fails");
}

Status Database::SetExportRedacted(int64_t id, bool redacted) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare("UPDATE exports SET redacted = ? WHERE id = ?"));
  CUSTODIAN_RETURN_IF_ERROR(st.Bool(redacted).Int(id).Run());
  if (st.Changes() == 0) return NotFound(ExportIdText(id) + " does not exist");
  return Status::Ok();
}

Status Database::JustifyUnredactedExport(int64_t id, int64_t by, const std::string& why) {
  if (why.empty()) return InvalidArgument("records: a justification cannot be empty");
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st, Prepare("UPDATE exports SET unredacted_justification = ?, justified_by = ?, "
                            "justified_us = ? WHERE id = ? AND unredacted_justification IS NULL"));
  CUSTODIAN_RETURN_IF_ERROR(st.Text(why).Int(by).Time(Now()).Int(id).Run());
  if (st.Changes() == 1) return Status::Ok();
  RECORDS_ASSIGN_OR_RETURN(std::optional<ExportRow> e, GetExport(id));
  if (!e) return NotFound(ExportIdText(id) + " does not exist");
  return FailedPrecondition(ExportIdText(id) + " already has a recorded justification");
}

Result<int64_t> Database::RecordDisclosure(const DisclosureRow& d) {
  int64_t id = 0;
  Status status = WithTransaction([&]() REQUIRES(mu_) -> Status {
    RECORDS_ASSIGN_OR_RETURN(std::optional<ExportRow> e, GetExport(d.export_id));
    if (!e) return NotFound(ExportIdText(d.export_id) + " does not exist");
    if (e->state != ExportState::kReady || !e->manifest_sha256) {
      return FailedPrecondition(ExportIdText(d.export_id) + " is " + Name(e->state) +
                                "; only a ready export can be handed over");
    }
    RECORDS_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("INSERT INTO disclosures (export_id, recipient_name, organisation, reference, "
                "method, at_us, authorised_by, recorded_by, manifest_sha256, note) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    CUSTODIAN_RETURN_IF_ERROR(st.Int(d.export_id)
                                  .Text(d.recipient_name)
                                  .Text(d.organisation)
                                  .Text(d.reference)
                                  .Text(Name(d.method))
                                  .Time(d.at)
                                  .Int(d.authorised_by)
                                  .Int(d.recorded_by)
                                  .Text(*e->manifest_sha256)
                                  .Text(d.note)
                                  .Run());
    id = sqlite3_last_insert_rowid(conn_->db.get());
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return id;
}

Result<std::vector<DisclosureRow>> Database::ListDisclosures(UtcMicros from, UtcMicros to) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " + kDisclosureColumns +
                                                 " FROM disclosures WHERE at_us >= ? AND "
                                                 "at_us < ? ORDER BY at_us, id"));
  st.Time(from).Time(to);
  return CollectRows<DisclosureRow>(st, ReadDisclosure);
}

Result<std::vector<DisclosureRow>> Database::ListDisclosuresForExport(int64_t export_id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " + kDisclosureColumns +
                                                 " FROM disclosures WHERE export_id = ? "
                                                 "ORDER BY at_us, id"));
  st.Int(export_id);
  return CollectRows<DisclosureRow>(st, ReadDisclosure);
}

}  // namespace custodian::records
