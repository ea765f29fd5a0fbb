// Export expiry: what retention needs of the exports table. Exports themselves are built
// by api/; an export's files are personal data and expire like footage unless held.
//
// An expiring export is in state `expired` with deleted_us unset: its files are being
// removed. deleted_us marks them gone, in the same transaction as the deletion record.
#include <cstdint>
#include <string>
#include <vector>

#include "records/database.h"
#include "records/sqlite.h"

namespace custodian::records {

namespace {

ExportExpiryRow ReadExport(const Statement& st) {
  ExportExpiryRow e;
  e.id = st.ColInt(0);
  e.request_id = st.ColInt(1);
  e.path = st.ColOptText(2);
  e.created = st.ColTime(3);
  e.expires = st.ColOptTime(4);
  e.last_handover = st.ColOptTime(5);
  e.bytes = st.ColInt(6);
  e.manifest_sha256 = st.ColOptText(7);
  e.expiring = st.ColBool(8);
  return e;
}

}  // namespace

Result<std::vector<ExportExpiryRow>> Database::ListExportsForExpiry() {
  Lock lock(mu_);
  std::vector<ExportExpiryRow> exports;
  {
    RECORDS_ASSIGN_OR_RETURN(
        Statement st, Prepare("SELECT e.id, e.request_id, e.path, e.created_us, e.expires_us, "
                              "(SELECT max(d.at_us) FROM disclosures d WHERE d.export_id = e.id), "
                              "e.bytes, e.manifest_sha256, e.state = 'expired' FROM exports e "
                              "WHERE e.state IN ('ready', 'failed') "
                              "OR (e.state = 'expired' AND e.deleted_us IS NULL) ORDER BY e.id"));
    RECORDS_ASSIGN_OR_RETURN(exports, CollectRows<ExportExpiryRow>(st, ReadExport));
  }
  for (ExportExpiryRow& e : exports) {
    RECORDS_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT camera_id, from_us, to_us FROM export_ranges "
                                     "WHERE export_id = ? ORDER BY camera_id, from_us"));
    st.Int(e.id);
    RECORDS_ASSIGN_OR_RETURN(e.ranges, CollectRows<HoldRange>(st, [](const Statement& s) {
                               return HoldRange{s.ColText(0), s.ColTime(1), s.ColTime(2)};
                             }));
  }
  return exports;
}

Status Database::MarkExportExpired(int64_t id) {
  return WithTransaction([&]() REQUIRES(mu_) -> Status {
    RECORDS_ASSIGN_OR_RETURN(Statement state,
                             Prepare("SELECT state, deleted_us IS NULL FROM exports WHERE id = ?"));
    state.Int(id);
    RECORDS_ASSIGN_OR_RETURN(bool found, state.Step());
    if (!found) return NotFound("records: no export " + std::to_string(id));
    const std::string current = state.ColText(0);
    if (current == "expired" && state.ColBool(1)) return Status::Ok();
    if (current != "ready" && current != "failed") {
      return FailedPrecondition("records: export " + std::to_string(id) + " is " + current +
                                "; only a ready or failed export expires");
    }
    RECORDS_ASSIGN_OR_RETURN(
        Statement held,
        Prepare("SELECT 1 FROM holds h JOIN exports e ON e.id = ? WHERE h.released_us IS NULL "
                "AND (h.request_id = e.request_id OR EXISTS (SELECT 1 FROM hold_ranges r "
                "JOIN export_ranges x ON x.export_id = e.id AND x.camera_id = r.camera_id "
                "AND r.from_us < x.to_us AND r.to_us > x.from_us WHERE r.hold_id = h.id)) "
                "LIMIT 1"));
    held.Int(id);
    RECORDS_ASSIGN_OR_RETURN(bool is_held, held.Step());
    if (is_held) {
      return FailedPrecondition("records: export " + std::to_string(id) +
                                " is under an active hold");
    }
    RECORDS_ASSIGN_OR_RETURN(Statement st,
                             Prepare("UPDATE exports SET state = 'expired' WHERE id = ?"));
    return st.Int(id).Run();
  });
}

Status Database::MarkExportFilesDeleted(int64_t id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("UPDATE exports SET deleted_us = ? "
                                   "WHERE id = ? AND state = 'expired' AND deleted_us IS NULL"));
  CUSTODIAN_RETURN_IF_ERROR(st.Time(Now()).Int(id).Run());
  if (st.Changes() == 0) {
    return FailedPrecondition("records: export " + std::to_string(id) +
                              " is not expiring; nothing to mark deleted");
  }
  return Status::Ok();
}

}  // namespace custodian::records
