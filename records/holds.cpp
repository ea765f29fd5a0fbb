// Holds: footage kept past its expiry for a request or legal matter.
#include <cstdint>
#include <string>
#include <string_view>

#include "records/database.h"
#include "records/sqlite.h"

namespace custodian::records {

namespace {

const std::string kHoldColumns =
    "id, reason, owner_user_id, request_id, review_us, created_us, released_us, released_by";

HoldRow ReadHold(const Statement& st) {
  HoldRow h;
  h.id = st.ColInt(0);
  h.reason = st.ColText(1);
  h.owner_user_id = st.ColInt(2);
  h.request_id = st.ColOptInt(3);
  h.review = st.ColTime(4);
  h.created = st.ColTime(5);
  h.released = st.ColOptTime(6);
  h.released_by = st.ColOptInt(7);
  return h;
}

HoldRange ReadRange(const Statement& st) {
  return HoldRange{st.ColText(0), st.ColTime(1), st.ColTime(2)};
}

// The camera whose holds cover footage recorded under records_id: for a sub stream
// ("X--sub", config::SubStreamId; records does not depend on config, and retention's tests
// hold the two spellings together) its camera X, otherwise records_id itself.
std::string HoldingCameraId(const std::string& records_id) {
  static constexpr std::string_view kSuffix = "--sub";
  if (records_id.size() <= kSuffix.size() || !records_id.ends_with(kSuffix)) return records_id;
  return records_id.substr(0, records_id.size() - kSuffix.size());
}

}  // namespace

Result<int64_t> Database::CreateHold(const HoldRow& hold) {
  if (hold.ranges.empty()) return InvalidArgument("records: a hold needs at least one range");
  int64_t id = 0;
  Status st = WithTransaction([&]() REQUIRES(mu_) -> Status {
    RECORDS_ASSIGN_OR_RETURN(Statement ins,
                             Prepare("INSERT INTO holds (reason, owner_user_id, request_id, "
                                     "review_us, created_us) VALUES (?, ?, ?, ?, ?)"));
    CUSTODIAN_RETURN_IF_ERROR(ins.Text(hold.reason)
                                  .Int(hold.owner_user_id)
                                  .OptInt(hold.request_id)
                                  .Time(hold.review)
                                  .Time(Now())
                                  .Run());
    id = sqlite3_last_insert_rowid(conn_->db.get());
    for (const HoldRange& r : hold.ranges) {
      RECORDS_ASSIGN_OR_RETURN(Statement range,
                               Prepare("INSERT INTO hold_ranges (hold_id, camera_id, from_us, "
                                       "to_us) VALUES (?, ?, ?, ?)"));
      CUSTODIAN_RETURN_IF_ERROR(range.Int(id).Text(r.camera_id).Time(r.from).Time(r.to).Run());
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return id;
}

Status Database::ReadHoldRanges(HoldRow* hold) {
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT camera_id, from_us, to_us FROM hold_ranges "
                                   "WHERE hold_id = ? ORDER BY camera_id, from_us"));
  st.Int(hold->id);
  RECORDS_ASSIGN_OR_RETURN(hold->ranges, CollectRows<HoldRange>(st, ReadRange));
  return Status::Ok();
}

Result<std::vector<HoldRow>> Database::ListHoldsWhere(const std::string& where, int64_t param) {
  Lock lock(mu_);
  std::vector<HoldRow> holds;
  {
    RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " + kHoldColumns + " FROM holds WHERE " +
                                                   where + " ORDER BY id"));
    st.Int(param);
    RECORDS_ASSIGN_OR_RETURN(holds, CollectRows<HoldRow>(st, ReadHold));
  }
  for (HoldRow& h : holds) CUSTODIAN_RETURN_IF_ERROR(ReadHoldRanges(&h));
  return holds;
}

Result<std::optional<HoldRow>> Database::GetHold(int64_t id) {
  RECORDS_ASSIGN_OR_RETURN(std::vector<HoldRow> holds, ListHoldsWhere("id = ?", id));
  if (holds.empty()) return std::optional<HoldRow>();
  return std::optional<HoldRow>(std::move(holds.front()));
}

Result<std::vector<HoldRow>> Database::ListActiveHolds() {
  return ListHoldsWhere("released_us IS NULL AND review_us <= ?", INT64_MAX);
}

Result<std::vector<HoldRow>> Database::HoldsDueForReview() {
  return ListHoldsWhere("released_us IS NULL AND review_us <= ?", Now().us);
}

Status Database::SetHoldReview(int64_t id, UtcMicros review) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st, Prepare("UPDATE holds SET review_us = ? WHERE id = ? AND released_us IS NULL"));
  CUSTODIAN_RETURN_IF_ERROR(st.Time(review).Int(id).Run());
  if (st.Changes() == 0) return NotFound("records: no active hold " + std::to_string(id));
  return Status::Ok();
}

Status Database::ReleaseHold(int64_t id, int64_t released_by) {
  return WithTransaction([&]() REQUIRES(mu_) -> Status {
    RECORDS_ASSIGN_OR_RETURN(std::optional<HoldRow> hold, GetHold(id));
    if (!hold) return NotFound("records: no hold " + std::to_string(id));
    if (hold->released) {
      return FailedPrecondition("records: hold " + std::to_string(id) + " is already released");
    }
    if (hold->request_id) {
      RECORDS_ASSIGN_OR_RETURN(Statement state,
                               Prepare("SELECT state FROM footage_requests WHERE id = ?"));
      state.Int(*hold->request_id);
      RECORDS_ASSIGN_OR_RETURN(bool found, state.Step());
      if (found && state.ColText(0) != Name(RequestState::kClosed)) {
        return FailedPrecondition("records: hold " + std::to_string(id) + " is for request " +
                                  std::to_string(*hold->request_id) + ", which is not closed");
      }
    }
    RECORDS_ASSIGN_OR_RETURN(
        Statement st, Prepare("UPDATE holds SET released_us = ?, released_by = ? WHERE id = ?"));
    return st.Time(Now()).Int(released_by).Int(id).Run();
  });
}

Result<bool> Database::IsSegmentHeld(const std::string& camera_id, UtcMicros start, UtcMicros end) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT 1 FROM hold_ranges r JOIN holds h ON h.id = r.hold_id "
                                   "WHERE h.released_us IS NULL AND r.camera_id IN (?, ?) "
                                   "AND r.from_us < ? AND r.to_us > ? LIMIT 1"));
  st.Text(camera_id).Text(HoldingCameraId(camera_id)).Time(end).Time(start);
  return st.Step();
}

Result<std::vector<HoldRange>> Database::ActiveHoldRanges() {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT r.camera_id, r.from_us, r.to_us FROM hold_ranges r "
                                   "JOIN holds h ON h.id = r.hold_id WHERE h.released_us IS NULL "
                                   "ORDER BY r.camera_id, r.from_us"));
  return CollectRows<HoldRange>(st, ReadRange);
}

}  // namespace custodian::records
