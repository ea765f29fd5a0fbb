// Cameras, their live status, recording runs and gaps.
#include "records/database.h"
#include "records/sqlite.h"

namespace custodian::records {

namespace {

CameraStatusRow ReadCameraStatus(const Statement& st) {
  CameraStatusRow r;
  r.camera_id = st.ColText(0);
  r.online = st.ColBool(1);
  r.last_packet = st.ColOptTime(2);
  r.bitrate_bps = st.ColInt(3);
  r.last_error = st.ColOptText(4);
  r.updated = st.ColTime(5);
  return r;
}

GapRow ReadGap(const Statement& st) {
  GapRow r;
  r.id = st.ColInt(0);
  r.camera_id = st.ColText(1);
  r.start = st.ColTime(2);
  r.end = st.ColTime(3);
  r.reason = st.ColEnum<GapReason>(4, ParseGapReason);
  r.detail = st.ColText(5);
  return r;
}

}  // namespace

Status Database::UpsertCamera(const CameraRow& camera) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("INSERT INTO cameras (id, name, created_us, make, model, "
                                   "firmware) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO "
                                   "UPDATE SET name = excluded.name, make = excluded.make, "
                                   "model = excluded.model, firmware = excluded.firmware"));
  return st.Text(camera.id)
      .Text(camera.name)
      .Time(Now())
      .Text(camera.make)
      .Text(camera.model)
      .Text(camera.firmware)
      .Run();
}

Result<std::vector<CameraRow>> Database::ListCameras() {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT id, name, created_us, make, model, firmware "
                                   "FROM cameras ORDER BY id"));
  return CollectRows<CameraRow>(st, [](const Statement& s) {
    return CameraRow{s.ColText(0), s.ColText(1), s.ColTime(2),
                     s.ColText(3), s.ColText(4), s.ColText(5)};
  });
}

Status Database::SetCameraStatus(const CameraStatusRow& status) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st,
      Prepare("INSERT OR REPLACE INTO camera_status (camera_id, online, last_packet_us, "
              "bitrate_bps, last_error, updated_us) VALUES (?, ?, ?, ?, ?, ?)"));
  return st.Text(status.camera_id)
      .Bool(status.online)
      .OptTime(status.last_packet)
      .Int(status.bitrate_bps)
      .OptText(status.last_error)
      .Time(Now())
      .Run();
}

Result<std::vector<CameraStatusRow>> Database::ListCameraStatus() {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT camera_id, online, last_packet_us, bitrate_bps, "
                                   "last_error, updated_us FROM camera_status ORDER BY camera_id"));
  return CollectRows<CameraStatusRow>(st, ReadCameraStatus);
}

Result<int64_t> Database::BeginRun(const std::string& camera_id, UtcMicros start) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("INSERT INTO runs (camera_id, start_us) VALUES (?, ?)"));
  CUSTODIAN_RETURN_IF_ERROR(st.Text(camera_id).Time(start).Run());
  return static_cast<int64_t>(sqlite3_last_insert_rowid(conn_->db.get()));
}

Status Database::EndRun(int64_t run_id, UtcMicros end) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare("UPDATE runs SET end_us = ? WHERE id = ?"));
  CUSTODIAN_RETURN_IF_ERROR(st.Time(end).Int(run_id).Run());
  if (st.Changes() == 0) return NotFound("records: no run " + std::to_string(run_id));
  return Status::Ok();
}

Result<std::optional<RunRow>> Database::LastRun(const std::string& camera_id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT id, camera_id, start_us, end_us FROM runs "
                                   "WHERE camera_id = ? ORDER BY start_us DESC, id DESC LIMIT 1"));
  st.Text(camera_id);
  RECORDS_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<RunRow>();
  return std::optional<RunRow>(
      RunRow{st.ColInt(0), st.ColText(1), st.ColTime(2), st.ColOptTime(3)});
}

Status Database::InsertGap(const GapRow& gap) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("INSERT INTO gaps (camera_id, start_us, end_us, reason, detail) "
                                   "VALUES (?, ?, ?, ?, ?)"));
  return st.Text(gap.camera_id)
      .Time(gap.start)
      .Time(gap.end)
      .Text(Name(gap.reason))
      .Text(gap.detail)
      .Run();
}

Result<std::vector<GapRow>> Database::ListGaps(const std::string& camera_id, UtcMicros from,
                                               UtcMicros to) {
  Lock lock(mu_);
  // Gaps have no length bound (a camera may be offline for weeks), so this scans the
  // camera's gaps up to `to`; there are few of them compared with segments.
  RECORDS_ASSIGN_OR_RETURN(
      Statement st, Prepare("SELECT id, camera_id, start_us, end_us, reason, detail FROM gaps "
                            "WHERE camera_id = ? AND start_us < ? AND end_us > ? "
                            "ORDER BY start_us, id"));
  st.Text(camera_id).Time(to).Time(from);
  return CollectRows<GapRow>(st, ReadGap);
}

}  // namespace custodian::records
