// Footage requests: the request, its ranges, verification steps and history.
//
// Every change is a compare-and-set on the request's state inside one transaction, with an
// event appended in the same transaction, so a request's history cannot disagree with it.
#include <cstdint>
#include <string>

#include "records/database.h"
#include "records/sqlite.h"

namespace custodian::records {

namespace {

const std::string kRequestColumns =
    "id, type, requester_name, organisation, contact, reference, legal_basis, "
    "legal_basis_detail, description, requester_user_id, received_us, deadline_us, "
    "extension_months, extension_reason, extension_told_us, state, logged_by, decided_by, "
    "decided_us, decision_reason, over_broad_justification, subject_notified, "
    "subject_notified_us, subject_notification_note, closed_us, closed_by, retain_until_us, "
    "created_us, updated_us";

FootageRequestRow ReadRequest(const Statement& st) {
  FootageRequestRow r;
  r.id = st.ColInt(0);
  r.type = st.ColEnum<RequestType>(1, ParseRequestType);
  r.requester_name = st.ColText(2);
  r.organisation = st.ColText(3);
  r.contact = st.ColText(4);
  r.reference = st.ColText(5);
  r.legal_basis = st.ColEnum<LegalBasis>(6, ParseLegalBasis);
  r.legal_basis_detail = st.ColText(7);
  r.description = st.ColText(8);
  r.requester_user_id = st.ColOptInt(9);
  r.received = st.ColTime(10);
  r.deadline = st.ColOptTime(11);
  r.extension_months = static_cast<int>(st.ColInt(12));
  r.extension_reason = st.ColOptText(13);
  r.extension_told = st.ColOptTime(14);
  r.state = st.ColEnum<RequestState>(15, ParseRequestState);
  r.logged_by = st.ColInt(16);
  r.decided_by = st.ColOptInt(17);
  r.decided = st.ColOptTime(18);
  r.decision_reason = st.ColOptText(19);
  r.over_broad_justification = st.ColOptText(20);
  if (!st.ColNull(21)) r.subject_notified = st.ColBool(21);
  r.subject_notified_at = st.ColOptTime(22);
  r.subject_notification_note = st.ColOptText(23);
  r.closed = st.ColOptTime(24);
  r.closed_by = st.ColOptInt(25);
  r.retain_until = st.ColOptTime(26);
  r.created = st.ColTime(27);
  r.updated = st.ColTime(28);
  return r;
}

std::string RequestIdText(int64_t id) { return "records: footage request " + std::to_string(id); }

}  // namespace

Result<std::vector<FootageRange>> Database::ReadRanges(const std::string& sql, int64_t owner_id) {
  RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare(sql));
  st.Int(owner_id);
  return CollectRows<FootageRange>(st, [](const Statement& s) {
    return FootageRange{s.ColText(0), s.ColTime(1), s.ColTime(2)};
  });
}

Status Database::AppendRequestEvent(int64_t request_id, int64_t user_id,
                                    std::optional<RequestState> from, RequestState to,
                                    const std::string& action, const std::string& note) {
  RECORDS_ASSIGN_OR_RETURN(
      Statement st, Prepare("INSERT INTO request_events (request_id, at_us, user_id, from_state, "
                            "to_state, action, note) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  st.Int(request_id).Time(Now()).Int(user_id);
  if (from) {
    st.Text(Name(*from));
  } else {
    st.Null();
  }
  return st.Text(Name(to)).Text(action).Text(note).Run();
}

Result<int64_t> Database::InsertFootageRequest(const FootageRequestRow& r) {
  int64_t id = 0;
  Status status = WithTransaction([&]() REQUIRES(mu_) -> Status {
    RECORDS_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("INSERT INTO footage_requests (type, requester_name, organisation, contact, "
                "reference, legal_basis, legal_basis_detail, description, requester_user_id, "
                "received_us, deadline_us, state, logged_by, created_us, updated_us) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    CUSTODIAN_RETURN_IF_ERROR(st.Text(Name(r.type))
                                  .Text(r.requester_name)
                                  .Text(r.organisation)
                                  .Text(r.contact)
                                  .Text(r.reference)
                                  .Text(Name(r.legal_basis))
                                  .Text(r.legal_basis_detail)
                                  .Text(r.description)
                                  .OptInt(r.requester_user_id)
                                  .Time(r.received)
                                  .OptTime(r.deadline)
                                  .Text(Name(r.state))
                                  .Int(r.logged_by)
                                  .Time(Now())
                                  .Time(Now())
                                  .Run());
    id = sqlite3_last_insert_rowid(conn_->db.get());
    for (const FootageRange& range : r.ranges) {
      RECORDS_ASSIGN_OR_RETURN(Statement ins,
                               Prepare("INSERT INTO request_ranges (request_id, camera_id, "
                                       "from_us, to_us) VALUES (?, ?, ?, ?)"));
      CUSTODIAN_RETURN_IF_ERROR(
          ins.Int(id).Text(range.camera_id).Time(range.from).Time(range.to).Run());
    }
    return AppendRequestEvent(id, r.logged_by, std::nullopt, r.state, "logged", "");
  });
  if (!status.ok()) return status;
  return id;
}

Result<std::optional<FootageRequestRow>> Database::GetFootageRequest(int64_t id) {
  Lock lock(mu_);
  std::vector<FootageRequestRow> rows;
  {
    RECORDS_ASSIGN_OR_RETURN(
        Statement st, Prepare("SELECT " + kRequestColumns + " FROM footage_requests WHERE id = ?"));
    st.Int(id);
    RECORDS_ASSIGN_OR_RETURN(rows, CollectRows<FootageRequestRow>(st, ReadRequest));
  }
  if (rows.empty()) return std::optional<FootageRequestRow>();
  RECORDS_ASSIGN_OR_RETURN(rows.front().ranges,
                           ReadRanges("SELECT camera_id, from_us, to_us FROM request_ranges "
                                      "WHERE request_id = ? ORDER BY camera_id, from_us",
                                      id));
  return std::optional<FootageRequestRow>(std::move(rows.front()));
}

Result<std::vector<FootageRequestRow>> Database::ListFootageRequests(const RequestFilter& f) {
  Lock lock(mu_);
  std::vector<FootageRequestRow> rows;
  {
    // Unset filters bind NULL and match everything; one statement serves every filter.
    RECORDS_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("SELECT " + kRequestColumns +
                " FROM footage_requests WHERE (?1 IS NULL OR state = ?1) AND "
                "(?2 IS NULL OR type = ?2) AND (?3 IS NULL OR received_us >= ?3) AND "
                "(?4 IS NULL OR received_us < ?4) ORDER BY received_us DESC, id DESC"));
    if (f.state) {
      st.Text(Name(*f.state));
    } else {
      st.Null();
    }
    if (f.type) {
      st.Text(Name(*f.type));
    } else {
      st.Null();
    }
    st.OptTime(f.received_from).OptTime(f.received_to);
    RECORDS_ASSIGN_OR_RETURN(rows, CollectRows<FootageRequestRow>(st, ReadRequest));
  }
  for (FootageRequestRow& r : rows) {
    RECORDS_ASSIGN_OR_RETURN(r.ranges,
                             ReadRanges("SELECT camera_id, from_us, to_us FROM request_ranges "
                                        "WHERE request_id = ? ORDER BY camera_id, from_us",
                                        r.id));
  }
  return rows;
}

namespace {

// Runs `update` (whose last bound parameters are id and the expected state) and turns
// "no row changed" into kNotFound or kFailedPrecondition.
Status CheckChanged(Statement& update, Statement& probe, int64_t id, RequestState from) {
  CUSTODIAN_RETURN_IF_ERROR(update.Run());
  if (update.Changes() == 1) return Status::Ok();
  probe.Int(id);
  RECORDS_ASSIGN_OR_RETURN(bool found, probe.Step());
  if (!found) return NotFound(RequestIdText(id) + " does not exist");
  return FailedPrecondition(RequestIdText(id) + " is " + probe.ColText(0) + ", not " + Name(from));
}

}  // namespace

Status Database::TransitionRequest(int64_t id, RequestState from, RequestState to, int64_t by,
                                   const std::string& action, const std::string& note) {
  return WithTransaction([&]() REQUIRES(mu_) -> Status {
    RECORDS_ASSIGN_OR_RETURN(Statement up,
                             Prepare("UPDATE footage_requests SET state = ?, updated_us = ? "
                                     "WHERE id = ? AND state = ?"));
    up.Text(Name(to)).Time(Now()).Int(id).Text(Name(from));
    RECORDS_ASSIGN_OR_RETURN(Statement probe,
                             Prepare("SELECT state FROM footage_requests WHERE id = ?"));
    CUSTODIAN_RETURN_IF_ERROR(CheckChanged(up, probe, id, from));
    return AppendRequestEvent(id, by, from, to, action, note);
  });
}

Status Database::RecordRequestDecision(int64_t id, const RequestDecision& d) {
  const RequestState to = d.approve ? RequestState::kApproved : RequestState::kRefused;
  return WithTransaction([&]() REQUIRES(mu_) -> Status {
    RECORDS_ASSIGN_OR_RETURN(
        Statement up, Prepare("UPDATE footage_requests SET state = ?, decided_by = ?, "
                              "decided_us = ?, decision_reason = ?, over_broad_justification = ?, "
                              "updated_us = ? WHERE id = ? AND state = ?"));
    up.Text(Name(to))
        .Int(d.decided_by)
        .Time(Now())
        .Text(d.reason)
        .OptText(d.over_broad_justification)
        .Time(Now())
        .Int(id)
        .Text(Name(d.from));
    RECORDS_ASSIGN_OR_RETURN(Statement probe,
                             Prepare("SELECT state FROM footage_requests WHERE id = ?"));
    CUSTODIAN_RETURN_IF_ERROR(CheckChanged(up, probe, id, d.from));
    return AppendRequestEvent(id, d.decided_by, d.from, to, d.approve ? "approved" : "refused",
                              d.reason);
  });
}

Status Database::ExtendRequestDeadline(int64_t id, const DeadlineExtension& e) {
  return WithTransaction([&]() REQUIRES(mu_) -> Status {
    RECORDS_ASSIGN_OR_RETURN(std::optional<FootageRequestRow> r, GetFootageRequest(id));
    if (!r) return NotFound(RequestIdText(id) + " does not exist");
    RECORDS_ASSIGN_OR_RETURN(
        Statement up, Prepare("UPDATE footage_requests SET deadline_us = ?, extension_months = ?, "
                              "extension_reason = ?, extension_told_us = ?, updated_us = ? "
                              "WHERE id = ? AND extension_months < ?"));
    CUSTODIAN_RETURN_IF_ERROR(up.Time(e.new_deadline)
                                  .Int(e.total_months)
                                  .Text(e.reason)
                                  .Time(e.told)
                                  .Time(Now())
                                  .Int(id)
                                  .Int(e.total_months)
                                  .Run());
    if (up.Changes() != 1) {
      return FailedPrecondition(RequestIdText(id) + " is already extended by " +
                                std::to_string(r->extension_months) + " months");
    }
    return AppendRequestEvent(id, e.by, r->state, r->state, "deadline_extended",
                              std::to_string(e.total_months) + " months: " + e.reason);
  });
}

Status Database::RecordSubjectNotification(int64_t id, const SubjectNotification& n) {
  return WithTransaction([&]() REQUIRES(mu_) -> Status {
    RECORDS_ASSIGN_OR_RETURN(std::optional<FootageRequestRow> r, GetFootageRequest(id));
    if (!r) return NotFound(RequestIdText(id) + " does not exist");
    RECORDS_ASSIGN_OR_RETURN(
        Statement up,
        Prepare("UPDATE footage_requests SET subject_notified = ?, subject_notified_us = ?, "
                "subject_notification_note = ?, updated_us = ? WHERE id = ?"));
    CUSTODIAN_RETURN_IF_ERROR(up.Bool(n.told).OptTime(n.at).Text(n.note).Time(Now()).Int(id).Run());
    return AppendRequestEvent(id, n.by, r->state, r->state,
                              n.told ? "subject_told" : "subject_not_told", n.note);
  });
}

Status Database::RecordDsarClockChange(int64_t id, const DsarClockChange& c) {
  return WithTransaction([&]() REQUIRES(mu_) -> Status {
    RECORDS_ASSIGN_OR_RETURN(std::optional<FootageRequestRow> r, GetFootageRequest(id));
    if (!r) return NotFound(RequestIdText(id) + " does not exist");
    RECORDS_ASSIGN_OR_RETURN(
        Statement up,
        Prepare("UPDATE footage_requests SET deadline_us = ?, updated_us = ? WHERE id = ?"));
    CUSTODIAN_RETURN_IF_ERROR(up.Time(c.deadline).Time(Now()).Int(id).Run());
    return AppendRequestEvent(id, c.by, r->state, r->state, c.action, c.note);
  });
}

Status Database::CloseFootageRequest(int64_t id, RequestState from, int64_t by,
                                     UtcMicros retain_until, const std::string& note) {
  return WithTransaction([&]() REQUIRES(mu_) -> Status {
    RECORDS_ASSIGN_OR_RETURN(Statement up,
                             Prepare("UPDATE footage_requests SET state = 'closed', closed_us = ?, "
                                     "closed_by = ?, retain_until_us = ?, updated_us = ? "
                                     "WHERE id = ? AND state = ?"));
    up.Time(Now()).Int(by).Time(retain_until).Time(Now()).Int(id).Text(Name(from));
    RECORDS_ASSIGN_OR_RETURN(Statement probe,
                             Prepare("SELECT state FROM footage_requests WHERE id = ?"));
    CUSTODIAN_RETURN_IF_ERROR(CheckChanged(up, probe, id, from));
    return AppendRequestEvent(id, by, from, RequestState::kClosed, "closed", note);
  });
}

Result<int64_t> Database::AddRequestVerification(const VerificationRow& v) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("INSERT INTO request_verifications (request_id, step, done_by, "
                                   "at_us, note) VALUES (?, ?, ?, ?, ?)"));
  CUSTODIAN_RETURN_IF_ERROR(
      st.Int(v.request_id).Text(Name(v.step)).Int(v.done_by).Time(Now()).Text(v.note).Run());
  return static_cast<int64_t>(sqlite3_last_insert_rowid(conn_->db.get()));
}

Result<std::vector<VerificationRow>> Database::ListRequestVerifications(int64_t request_id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT id, request_id, step, done_by, at_us, note "
                                   "FROM request_verifications WHERE request_id = ? ORDER BY id"));
  st.Int(request_id);
  return CollectRows<VerificationRow>(st, [](const Statement& s) {
    VerificationRow v;
    v.id = s.ColInt(0);
    v.request_id = s.ColInt(1);
    v.step = s.ColEnum<VerificationStep>(2, ParseVerificationStep);
    v.done_by = s.ColInt(3);
    v.at = s.ColTime(4);
    v.note = s.ColText(5);
    return v;
  });
}

Result<std::vector<RequestEventRow>> Database::ListRequestEvents(int64_t request_id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st, Prepare("SELECT id, request_id, at_us, user_id, from_state, to_state, "
                            "action, note FROM request_events WHERE request_id = ? ORDER BY id"));
  st.Int(request_id);
  return CollectRows<RequestEventRow>(st, [](const Statement& s) {
    RequestEventRow e;
    e.id = s.ColInt(0);
    e.request_id = s.ColInt(1);
    e.at = s.ColTime(2);
    e.user_id = s.ColInt(3);
    if (!s.ColNull(4)) e.from_state = s.ColEnum<RequestState>(4, ParseRequestState);
    e.to_state = s.ColEnum<RequestState>(5, ParseRequestState);
    e.action = s.ColText(6);
    e.note = s.ColText(7);
    return e;
  });
}

Result<std::vector<HoldRow>> Database::ListRequestHoldsDue() {
  return ListHoldsWhere(
      "released_us IS NULL AND request_id IN (SELECT id FROM footage_requests "
      "WHERE state = 'closed' AND retain_until_us <= ?)",
      Now().us);
}

}  // namespace custodian::records
