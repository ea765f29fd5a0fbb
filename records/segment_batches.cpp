// Retention's batch operations on segments: many rows per transaction, so that deleting a
// large backlog costs a few statements per segment rather than a transaction each.
#include <cstdint>
#include <string>
#include <vector>

#include "records/database.h"
#include "records/sqlite.h"

namespace custodian::records {

namespace {

// The same refusals as MarkSegmentDeleting, as conditions of the update: an active hold
// overlapping [start, end) of the camera (for a sub stream, "X--sub", a hold on camera X;
// see IsSegmentHeld), or an unexpired reader lease.
const std::string kMarkDeleting =
    "UPDATE segments SET state = 'deleting' WHERE id = ? AND state = 'complete' "
    "AND NOT EXISTS (SELECT 1 FROM hold_ranges r JOIN holds h ON h.id = r.hold_id "
    "WHERE h.released_us IS NULL AND r.camera_id IN (segments.camera_id, "
    "CASE WHEN length(segments.camera_id) > 5 AND substr(segments.camera_id, -5) = '--sub' "
    "THEN substr(segments.camera_id, 1, length(segments.camera_id) - 5) "
    "ELSE segments.camera_id END) "
    "AND r.from_us < segments.end_us AND r.to_us > segments.start_us) "
    "AND NOT EXISTS (SELECT 1 FROM reader_leases l "
    "WHERE l.segment_id = segments.id AND l.expires_us > ?) "
    "RETURNING id, camera_id, start_us, end_us, path, bytes, sha256";

}  // namespace

Result<std::vector<SegmentRow>> Database::MarkSegmentsDeleting(const std::vector<int64_t>& ids) {
  std::vector<SegmentRow> marked;
  marked.reserve(ids.size());
  Status st = WithTransaction([&]() REQUIRES(mu_) -> Status {
    const UtcMicros now = Now();
    for (int64_t id : ids) {
      RECORDS_ASSIGN_OR_RETURN(Statement mark, Prepare(kMarkDeleting));
      mark.Int(id).Time(now);
      RECORDS_ASSIGN_OR_RETURN(bool row, mark.Step());
      if (!row) continue;
      SegmentRow r;
      r.id = mark.ColInt(0);
      r.camera_id = mark.ColText(1);
      r.start = mark.ColTime(2);
      r.end = mark.ColOptTime(3);
      r.path = mark.ColText(4);
      r.bytes = mark.ColInt(5);
      r.sha256 = mark.ColOptText(6);
      r.state = SegmentState::kDeleting;
      marked.push_back(std::move(r));
      CUSTODIAN_RETURN_IF_ERROR(mark.Run());
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return marked;
}

Result<std::vector<int64_t>> Database::ListLeasedSegments() {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT DISTINCT segment_id FROM reader_leases "
                                                 "WHERE expires_us > ? ORDER BY segment_id"));
  st.Time(Now());
  return CollectRows<int64_t>(st, [](const Statement& s) { return s.ColInt(0); });
}

}  // namespace custodian::records
