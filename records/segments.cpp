// Segments: the index of footage files, and the reader leases that protect them.
#include <cstdint>
#include <string>

#include "records/database.h"
#include "records/sqlite.h"

namespace custodian::records {

namespace {

constexpr int kBatchRows = 2000;

const std::string kSegmentColumns =
    "id, camera_id, run_id, start_us, end_us, path, bytes, duration_us, video_codec, width, "
    "height, audio_codec, audio_note, sha256, state, clock_synced, clock_offset_us";

SegmentRow ReadSegment(const Statement& st) {
  SegmentRow r;
  r.id = st.ColInt(0);
  r.camera_id = st.ColText(1);
  r.run_id = st.ColOptInt(2);
  r.start = st.ColTime(3);
  r.end = st.ColOptTime(4);
  r.path = st.ColText(5);
  r.bytes = st.ColInt(6);
  r.duration_us = st.ColInt(7);
  r.video_codec = st.ColText(8);
  r.width = static_cast<int>(st.ColInt(9));
  r.height = static_cast<int>(st.ColInt(10));
  r.audio_codec = st.ColOptText(11);
  r.audio_note = st.ColOptText(12);
  r.sha256 = st.ColOptText(13);
  r.state = st.ColEnum<SegmentState>(14, ParseSegmentState);
  r.clock_synced = st.ColBool(15);
  r.clock_offset_us = st.ColOptInt(16);
  return r;
}

SegmentBrief ReadBrief(const Statement& st) {
  return SegmentBrief{st.ColInt(0), st.ColText(1), st.ColTime(2), st.ColTime(3), st.ColInt(4)};
}

}  // namespace

Result<int64_t> Database::BeginSegment(const SegmentRow& s) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st,
      Prepare("INSERT INTO segments (camera_id, run_id, start_us, path, video_codec, width, "
              "height, audio_codec, audio_note, state, clock_synced, clock_offset_us) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'recording', ?, ?)"));
  CUSTODIAN_RETURN_IF_ERROR(st.Text(s.camera_id)
                                .OptInt(s.run_id)
                                .Time(s.start)
                                .Text(s.path)
                                .Text(s.video_codec)
                                .Int(s.width)
                                .Int(s.height)
                                .OptText(s.audio_codec)
                                .OptText(s.audio_note)
                                .Bool(s.clock_synced)
                                .OptInt(s.clock_offset_us)
                                .Run());
  return static_cast<int64_t>(sqlite3_last_insert_rowid(conn_->db.get()));
}

Status Database::FinishSegment(int64_t id, const SegmentFinish& f) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st,
      Prepare("UPDATE segments SET end_us = ?, bytes = ?, duration_us = ?, sha256 = ?, "
              "video_codec = ?, width = ?, height = ?, audio_codec = ?, audio_note = ?, "
              "state = 'complete' WHERE id = ? AND state = 'recording'"));
  CUSTODIAN_RETURN_IF_ERROR(st.Time(f.end)
                                .Int(f.bytes)
                                .Int(f.duration_us)
                                .Text(f.sha256)
                                .Text(f.video_codec)
                                .Int(f.width)
                                .Int(f.height)
                                .OptText(f.audio_codec)
                                .OptText(f.audio_note)
                                .Int(id)
                                .Run());
  if (st.Changes() == 1) return Status::Ok();
  RECORDS_ASSIGN_OR_RETURN(std::optional<SegmentRow> row, GetSegment(id));
  if (!row) return NotFound("records: no segment " + std::to_string(id));
  return FailedPrecondition("records: segment " + std::to_string(id) + " is " + Name(row->state) +
                            ", not recording");
}

Result<std::optional<SegmentRow>> Database::GetSegment(int64_t id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT " + kSegmentColumns + " FROM segments WHERE id = ?"));
  st.Int(id);
  RECORDS_ASSIGN_OR_RETURN(std::vector<SegmentRow> rows, CollectRows<SegmentRow>(st, ReadSegment));
  if (rows.empty()) return std::optional<SegmentRow>();
  return std::optional<SegmentRow>(std::move(rows.front()));
}

Result<std::vector<SegmentRow>> Database::ListSegments(const std::string& camera_id, UtcMicros from,
                                                       UtcMicros to) {
  Lock lock(mu_);
  // The lower bound on start_us (from minus the longest segment) keeps this a short range
  // scan of the (camera_id, start_us) index.
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT " + kSegmentColumns +
                                   " FROM segments "
                                   "WHERE camera_id = ? AND start_us > ? AND start_us < ? "
                                   "AND (end_us IS NULL OR end_us > ?) ORDER BY start_us, id"));
  const int64_t min_start = from.us < INT64_MIN + kMaxSegmentDurationUs + 1
                                ? INT64_MIN
                                : from.us - kMaxSegmentDurationUs - 1;
  st.Text(camera_id).Int(min_start).Time(to).Time(from);
  return CollectRows<SegmentRow>(st, ReadSegment);
}

Result<std::optional<SegmentRow>> Database::LatestClockOffset(const std::string& camera_id,
                                                              UtcMicros since) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT " + kSegmentColumns +
                                   " FROM segments WHERE camera_id = ? AND start_us >= ? "
                                   "AND clock_offset_us IS NOT NULL "
                                   "ORDER BY start_us DESC, id DESC LIMIT 1"));
  st.Text(camera_id).Time(since);
  RECORDS_ASSIGN_OR_RETURN(std::vector<SegmentRow> rows, CollectRows<SegmentRow>(st, ReadSegment));
  if (rows.empty()) return std::optional<SegmentRow>();
  return std::optional<SegmentRow>(std::move(rows.front()));
}

Result<std::map<std::string, int64_t>> Database::FootageBytesByCamera() {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT camera_id, SUM(bytes) FROM segments "
                                                 "WHERE state = 'complete' GROUP BY camera_id"));
  std::map<std::string, int64_t> out;
  for (;;) {
    RECORDS_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out[st.ColText(0)] = st.ColInt(1);
  }
  return out;
}

Result<std::vector<SegmentRow>> Database::ListSegmentsInState(SegmentState state) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT " + kSegmentColumns +
                                   " FROM segments WHERE state = ? ORDER BY start_us, id"));
  st.Text(Name(state));
  return CollectRows<SegmentRow>(st, ReadSegment);
}

Result<std::vector<SegmentRow>> Database::ListAllSegments() {
  std::vector<SegmentRow> all;
  CUSTODIAN_RETURN_IF_ERROR(ForEachSegment([&](const SegmentRow& r) {
    all.push_back(r);
    return true;
  }));
  return all;
}

Status Database::ForEachSegment(const std::function<bool(const SegmentRow&)>& fn) {
  int64_t after_id = 0;
  for (;;) {
    std::vector<SegmentRow> batch;
    {
      Lock lock(mu_);
      RECORDS_ASSIGN_OR_RETURN(
          Statement st,
          Prepare("SELECT " + kSegmentColumns + " FROM segments WHERE id > ? ORDER BY id LIMIT ?"));
      st.Int(after_id).Int(kBatchRows);
      RECORDS_ASSIGN_OR_RETURN(batch, CollectRows<SegmentRow>(st, ReadSegment));
    }
    for (const SegmentRow& r : batch) {
      if (!fn(r)) return Status::Ok();
    }
    if (batch.size() < static_cast<size_t>(kBatchRows)) return Status::Ok();
    after_id = batch.back().id;
  }
}

Status Database::ForEachCompleteSegment(const std::function<bool(const SegmentBrief&)>& fn) {
  // Keyset pagination on (start_us, id), served by the (state, start_us) index, whose
  // entries end in the rowid.
  UtcMicros after_start{INT64_MIN};
  int64_t after_id = 0;
  for (;;) {
    std::vector<SegmentBrief> batch;
    {
      Lock lock(mu_);
      RECORDS_ASSIGN_OR_RETURN(
          Statement st, Prepare("SELECT id, camera_id, start_us, end_us, bytes FROM segments "
                                "WHERE state = 'complete' AND (start_us, id) > (?, ?) "
                                "ORDER BY start_us, id LIMIT ?"));
      st.Time(after_start).Int(after_id).Int(kBatchRows);
      RECORDS_ASSIGN_OR_RETURN(batch, CollectRows<SegmentBrief>(st, ReadBrief));
    }
    for (const SegmentBrief& b : batch) {
      if (!fn(b)) return Status::Ok();
    }
    if (batch.size() < static_cast<size_t>(kBatchRows)) return Status::Ok();
    after_start = batch.back().start;
    after_id = batch.back().id;
  }
}

Status Database::MarkSegmentDeleting(int64_t id) {
  return WithTransaction([&]() REQUIRES(mu_) -> Status {
    RECORDS_ASSIGN_OR_RETURN(std::optional<SegmentRow> seg, GetSegment(id));
    if (!seg) return NotFound("records: no segment " + std::to_string(id));
    if (seg->state == SegmentState::kDeleting) return Status::Ok();
    // A segment still recording has no end yet; any hold from its start onwards covers it.
    const UtcMicros end = seg->end.value_or(UtcMicros{INT64_MAX});
    RECORDS_ASSIGN_OR_RETURN(bool held, IsSegmentHeld(seg->camera_id, seg->start, end));
    if (held) {
      return FailedPrecondition("records: segment " + std::to_string(id) +
                                " is under an active hold");
    }
    RECORDS_ASSIGN_OR_RETURN(
        Statement lease,
        Prepare("SELECT holder FROM reader_leases WHERE segment_id = ? AND expires_us > ?"));
    lease.Int(id).Time(Now());
    RECORDS_ASSIGN_OR_RETURN(bool leased, lease.Step());
    if (leased) {
      return Unavailable("records: segment " + std::to_string(id) + " is being read by " +
                         lease.ColText(0));
    }
    RECORDS_ASSIGN_OR_RETURN(Statement st,
                             Prepare("UPDATE segments SET state = 'deleting' WHERE id = ?"));
    return st.Int(id).Run();
  });
}

Status Database::RemoveSegment(int64_t id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st,
      Prepare("DELETE FROM segments WHERE id = ? AND state IN ('deleting', 'recording')"));
  CUSTODIAN_RETURN_IF_ERROR(st.Int(id).Run());
  if (st.Changes() == 1) return Status::Ok();
  RECORDS_ASSIGN_OR_RETURN(std::optional<SegmentRow> row, GetSegment(id));
  if (!row) return NotFound("records: no segment " + std::to_string(id));
  return FailedPrecondition("records: segment " + std::to_string(id) + " is " + Name(row->state) +
                            "; mark it deleting first");
}

Status Database::LeaseSegment(int64_t segment_id, const std::string& holder, UtcMicros expires) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st, Prepare("INSERT INTO reader_leases (segment_id, holder, expires_us) "
                            "SELECT id, ?, ? FROM segments WHERE id = ? AND state <> 'deleting' "
                            "ON CONFLICT (segment_id, holder) "
                            "DO UPDATE SET expires_us = excluded.expires_us"));
  CUSTODIAN_RETURN_IF_ERROR(st.Text(holder).Time(expires).Int(segment_id).Run());
  if (st.Changes() == 0) {
    return NotFound("records: no readable segment " + std::to_string(segment_id));
  }
  return Status::Ok();
}

Status Database::ReleaseSegmentLease(int64_t segment_id, const std::string& holder) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st, Prepare("DELETE FROM reader_leases WHERE segment_id = ? AND holder = ?"));
  return st.Int(segment_id).Text(holder).Run();
}

}  // namespace custodian::records
