#include "requests/workflow.h"

#include <algorithm>
#include <utility>

#include "base/log.h"

namespace custodian::requests {

using records::FootageRequestRow;
using records::UserRow;

namespace {

std::string RequestText(int64_t id) { return "request " + std::to_string(id); }

std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

}  // namespace

bool CanDecide(records::Role role) {
  return role == records::Role::kManager || role == records::Role::kDpo;
}

Status CheckExportMayLeave(records::Database& db, const records::ExportRow& e, bool redacted,
                           UtcMicros now) {
  const std::string what = "export " + std::to_string(e.id);
  if (e.state != records::ExportState::kReady) {
    return FailedPrecondition(what + " is " + records::Name(e.state) +
                              "; only a ready export leaves the box");
  }
  if (e.deleted) {
    return FailedPrecondition(what + " was deleted at " + FormatUtc(*e.deleted) +
                              "; make a new export of the request");
  }
  // Past its expiry the export is only waiting for retention to delete it: what the
  // retention schedule promised is already owed, so nothing more of it goes out.
  if (e.expires && now >= *e.expires) {
    return FailedPrecondition(what + " expired at " + FormatUtc(*e.expires) +
                              "; make a new export of the request if it is still needed");
  }
  auto request = db.GetFootageRequest(e.request_id);
  if (!request.ok()) return request.status();
  if (!*request) return NotFound("no " + RequestText(e.request_id) + " for " + what);
  const records::FootageRequestRow& r = **request;
  if (r.state != RequestState::kExportPrepared && r.state != RequestState::kDisclosed) {
    return FailedPrecondition(RequestText(r.id) + " is " + records::Name(r.state) + "; " + what +
                              " leaves the box only while its request is approved (export "
                              "prepared) or disclosed");
  }
  if (r.type == RequestType::kDsar && !redacted && !e.unredacted_justification) {
    return FailedPrecondition(what +
                              " answers a subject access request and is not redacted (the "
                              "original shows third parties); redact it and sign the redaction "
                              "off, or record why it may go out unredacted first");
  }
  return Status::Ok();
}

Workflow::Workflow(records::Database& db, const Clock& clock, const TimeZone& zone,
                   WorkflowOptions options)
    : db_(db), clock_(clock), zone_(zone), options_(std::move(options)) {}

Result<UserRow> Workflow::ActiveUser(int64_t user_id, const char* doing) {
  auto user = db_.GetUserById(user_id);
  if (!user.ok()) return user.status();
  if (!user->has_value()) return NotFound("no user " + std::to_string(user_id));
  if ((*user)->disabled) {
    return PermissionDenied("user " + (*user)->name + " is disabled and cannot " + doing);
  }
  return **user;
}

Result<UserRow> Workflow::Manager(int64_t user_id, const char* doing) {
  auto user = ActiveUser(user_id, doing);
  if (!user.ok()) return user;
  if (!CanDecide(user->role)) {
    return PermissionDenied("only a manager or the DPO can " + std::string(doing) + "; " +
                            user->name + " is " + records::Name(user->role));
  }
  return user;
}

Result<FootageRequestRow> Workflow::Load(int64_t request_id) {
  auto r = db_.GetFootageRequest(request_id);
  if (!r.ok()) return r.status();
  if (!r->has_value()) return NotFound("no " + RequestText(request_id));
  return **r;
}

Status Workflow::Move(const FootageRequestRow& r, RequestState to, int64_t by,
                      const std::string& action, const std::string& note) {
  if (!TransitionAllowed(r.state, to)) {
    return FailedPrecondition(RequestText(r.id) + " is " + records::Name(r.state) +
                              " and cannot become " + records::Name(to));
  }
  return db_.TransitionRequest(r.id, r.state, to, by, action, note);
}

Result<int64_t> Workflow::LogRequest(const NewRequest& in, int64_t logged_by) {
  auto logger = ActiveUser(logged_by, "log a request");
  if (!logger.ok()) return logger.status();
  if (in.requester_name.empty()) return InvalidArgument("a request names its requester");
  CUSTODIAN_RETURN_IF_ERROR(ValidateRanges(in.ranges));
  CUSTODIAN_RETURN_IF_ERROR(RefuseFutureRanges(in.ranges, clock_.Now()));
  if (!LegalBasisFits(in.type, in.legal_basis)) {
    return InvalidArgument(std::string("legal basis ") + records::Name(in.legal_basis) +
                           " does not fit a " + records::Name(in.type) + " request");
  }
  FootageRequestRow row;
  row.type = in.type;
  row.requester_name = in.requester_name;
  row.organisation = in.organisation;
  row.contact = in.contact;
  row.reference = in.reference;
  row.legal_basis = in.legal_basis;
  row.legal_basis_detail = in.legal_basis_detail;
  row.description = in.description;
  row.requester_user_id = in.requester_user_id;
  row.received = in.received.value_or(clock_.Now());
  if (in.type == RequestType::kDsar) row.deadline = DsarDeadline(row.received, 0, zone_);
  row.state = RequestState::kReceived;
  row.logged_by = logged_by;
  row.ranges = in.ranges;

  int64_t id = 0;
  Status st = db_.WithTransaction([&]() -> Status {
    auto inserted = db_.InsertFootageRequest(row);
    if (!inserted.ok()) return inserted.status();
    id = *inserted;
    records::HoldRow hold;
    hold.reason =
        std::string("footage request ") + std::to_string(id) + " (" + records::Name(in.type) + ")";
    hold.owner_user_id = logged_by;
    hold.request_id = id;
    hold.review = clock_.Now() + options_.hold_review_after_us;
    hold.ranges = in.ranges;
    return db_.CreateHold(hold).status();
  });
  if (!st.ok()) return st;
  LogInfo("requests") << RequestText(id) << " (" << records::Name(in.type) << ") logged by user "
                      << logged_by << "; its footage is held until the request is closed";
  return id;
}

Status Workflow::AddVerification(int64_t request_id, VerificationStep step, int64_t done_by,
                                 const std::string& note) {
  auto user = ActiveUser(done_by, "record a verification step");
  if (!user.ok()) return user.status();
  auto r = Load(request_id);
  if (!r.ok()) return r.status();
  if (!IsOpen(r->state) || r->state == RequestState::kApproved ||
      r->state == RequestState::kExportPrepared) {
    return FailedPrecondition(RequestText(request_id) + " is " + records::Name(r->state) +
                              "; verification happens before the decision");
  }
  if (step == VerificationStep::kOther && note.empty()) {
    return InvalidArgument("an 'other' verification step needs a note saying what was done");
  }
  return db_.WithTransaction([&]() -> Status {
    records::VerificationRow v;
    v.request_id = request_id;
    v.step = step;
    v.done_by = done_by;
    v.note = note;
    CUSTODIAN_RETURN_IF_ERROR(db_.AddRequestVerification(v).status());
    if (r->state != RequestState::kReceived) return Status::Ok();
    return Move(*r, RequestState::kVerifying, done_by, "verifying", records::Name(step));
  });
}

Status Workflow::SubmitForDecision(int64_t request_id, int64_t by) {
  auto user = ActiveUser(by, "submit a request for decision");
  if (!user.ok()) return user.status();
  auto r = Load(request_id);
  if (!r.ok()) return r.status();
  auto done = db_.ListRequestVerifications(request_id);
  if (!done.ok()) return done.status();
  std::vector<std::string> missing;
  for (VerificationStep need : RequiredVerifications(r->type)) {
    bool found = std::any_of(done->begin(), done->end(),
                             [&](const records::VerificationRow& v) { return v.step == need; });
    if (!found) missing.push_back(records::Name(need));
  }
  if (!missing.empty()) {
    return FailedPrecondition(RequestText(request_id) + " is not verified: missing " +
                              Join(missing, ", "));
  }
  return Move(*r, RequestState::kAwaitingDecision, by, "submitted", "");
}

Status Workflow::Decide(int64_t request_id, const Decision& d) {
  auto decider = Manager(d.decided_by, "decide a request");
  if (!decider.ok()) return decider.status();
  auto r = Load(request_id);
  if (!r.ok()) return r.status();
  if (d.decided_by == r->logged_by) {
    return PermissionDenied("the person who logged " + RequestText(request_id) +
                            " cannot decide it; another manager must");
  }
  if (r->requester_user_id && d.decided_by == *r->requester_user_id) {
    return PermissionDenied("the requester cannot decide their own request");
  }
  const RequestState to = d.approve ? RequestState::kApproved : RequestState::kRefused;
  if (!TransitionAllowed(r->state, to)) {
    return FailedPrecondition(RequestText(request_id) + " is " + records::Name(r->state) +
                              (d.approve ? "; only a verified request awaiting decision can be "
                                           "approved"
                                         : "; it can no longer be refused"));
  }
  if (d.reason.empty()) return InvalidArgument("a decision records its reason");
  records::RequestDecision rec;
  rec.from = r->state;
  rec.approve = d.approve;
  rec.decided_by = d.decided_by;
  rec.reason = d.reason;
  if (d.approve) {
    RangeAssessment a = AssessRanges(r->ranges, options_.limits);
    if (a.over_broad) {
      if (!d.over_broad_justification || d.over_broad_justification->empty()) {
        return FailedPrecondition(RequestText(request_id) + " is over-broad (" +
                                  Join(a.reasons, "; ") +
                                  "); approving it needs a recorded justification");
      }
      rec.over_broad_justification = d.over_broad_justification;
    }
  }
  CUSTODIAN_RETURN_IF_ERROR(db_.RecordRequestDecision(request_id, rec));
  LogInfo("requests") << RequestText(request_id) << (d.approve ? " approved" : " refused")
                      << " by user " << d.decided_by;
  return Status::Ok();
}

Status Workflow::ExtendDsarDeadline(int64_t request_id, const Extension& e) {
  auto user = Manager(e.by, "extend a DSAR deadline");
  if (!user.ok()) return user.status();
  auto r = Load(request_id);
  if (!r.ok()) return r.status();
  if (r->type != RequestType::kDsar) {
    return FailedPrecondition(RequestText(request_id) +
                              " is not a DSAR; only DSARs have a "
                              "statutory deadline to extend");
  }
  if (!IsOpen(r->state)) {
    return FailedPrecondition(RequestText(request_id) + " is " + records::Name(r->state));
  }
  if (e.further_months < 1) return InvalidArgument("an extension adds at least one month");
  const int total = r->extension_months + e.further_months;
  if (total > kMaxDsarExtensionMonths) {
    return FailedPrecondition(
        "a DSAR can be extended by at most " + std::to_string(kMaxDsarExtensionMonths) +
        " further months; this one is already extended by " + std::to_string(r->extension_months));
  }
  if (e.reason.empty()) return InvalidArgument("an extension records its reason");
  records::DeadlineExtension rec;
  rec.total_months = total;
  auto events = db_.ListRequestEvents(request_id);
  if (!events.ok()) return events.status();
  rec.new_deadline =
      DsarDeadline(r->received, total, zone_, DsarClockFromEvents(*events, zone_).paused_days);
  rec.reason = e.reason;
  rec.told = e.requester_told;
  rec.by = e.by;
  return db_.ExtendRequestDeadline(request_id, rec);
}

Status Workflow::StopDsarClock(int64_t request_id, const ClockStop& stop) {
  auto user = Manager(stop.by, "stop a DSAR's clock");
  if (!user.ok()) return user.status();
  if (stop.asked.empty()) {
    return InvalidArgument("stopping the clock records what the requester was asked for");
  }
  return db_.WithTransaction([&]() -> Status {
    auto r = Load(request_id);
    if (!r.ok()) return r.status();
    auto events = db_.ListRequestEvents(request_id);
    if (!events.ok()) return events.status();
    const std::string blocker =
        ClockStopBlocker(*r, DsarClockFromEvents(*events, zone_), clock_.Now());
    if (!blocker.empty()) return FailedPrecondition(RequestText(request_id) + blocker);
    records::DsarClockChange c;
    c.action = ClockStoppedAction(stop.reason);
    c.note = stop.asked;
    c.by = stop.by;
    c.deadline = *r->deadline;
    return db_.RecordDsarClockChange(request_id, c);
  });
}

Status Workflow::RestartDsarClock(int64_t request_id, int64_t by, const std::string& answer) {
  auto user = Manager(by, "restart a DSAR's clock");
  if (!user.ok()) return user.status();
  if (answer.empty()) return InvalidArgument("restarting the clock records what was answered");
  return db_.WithTransaction([&]() -> Status {
    auto r = Load(request_id);
    if (!r.ok()) return r.status();
    auto events = db_.ListRequestEvents(request_id);
    if (!events.ok()) return events.status();
    const DsarClock clock = DsarClockFromEvents(*events, zone_);
    if (!clock.stopped_since) {
      return FailedPrecondition(RequestText(request_id) + "'s clock is not stopped");
    }
    const int64_t this_stop = DaysFromCivil(zone_.ToLocal(clock_.Now()).date) -
                              DaysFromCivil(zone_.ToLocal(*clock.stopped_since).date);
    records::DsarClockChange c;
    c.action = kClockRestartedAction;
    c.note = answer;
    c.by = by;
    c.deadline =
        DsarDeadline(r->received, r->extension_months, zone_, clock.paused_days + this_stop);
    return db_.RecordDsarClockChange(request_id, c);
  });
}

Status Workflow::RecordSubjectNotification(int64_t request_id,
                                           const records::SubjectNotification& n) {
  auto user = Manager(n.by, "record whether the data subject was told");
  if (!user.ok()) return user.status();
  auto r = Load(request_id);
  if (!r.ok()) return r.status();
  if (r->state == RequestState::kClosed) {
    return FailedPrecondition(RequestText(request_id) + " is closed");
  }
  if (n.told && !n.at) return InvalidArgument("say when the data subject was told");
  if (!n.told && n.note.empty()) {
    return InvalidArgument("record why the data subject was not told");
  }
  return db_.RecordSubjectNotification(request_id, n);
}

Status Workflow::Withdraw(int64_t request_id, int64_t by, const std::string& note) {
  auto user = ActiveUser(by, "withdraw a request");
  if (!user.ok()) return user.status();
  auto r = Load(request_id);
  if (!r.ok()) return r.status();
  return Move(*r, RequestState::kWithdrawn, by, "withdrawn", note);
}

Status Workflow::MarkExportPrepared(int64_t request_id, int64_t by, int64_t export_id) {
  auto r = Load(request_id);
  if (!r.ok()) return r.status();
  if (r->state == RequestState::kExportPrepared || r->state == RequestState::kDisclosed) {
    return Status::Ok();
  }
  return Move(*r, RequestState::kExportPrepared, by, "export_prepared",
              "export " + std::to_string(export_id));
}

Status Workflow::JustifyUnredactedRelease(int64_t export_id, int64_t by, const std::string& why) {
  auto user = Manager(by, "justify releasing unredacted footage");
  if (!user.ok()) return user.status();
  if (why.empty()) return InvalidArgument("the justification cannot be empty");
  return db_.JustifyUnredactedExport(export_id, by, why);
}

Result<int64_t> Workflow::RecordDisclosure(const Handover& h) {
  auto authority = Manager(h.authorised_by, "authorise a handover");
  if (!authority.ok()) return authority.status();
  auto recorder = ActiveUser(h.recorded_by, "record a handover");
  if (!recorder.ok()) return recorder.status();
  if (h.recipient_name.empty()) return InvalidArgument("a handover names its recipient");
  auto e = db_.GetExport(h.export_id);
  if (!e.ok()) return e.status();
  if (!e->has_value()) return NotFound("no export " + std::to_string(h.export_id));
  const records::ExportRow& ex = **e;
  auto r = Load(ex.request_id);
  if (!r.ok()) return r.status();
  // Redacted: the export's flag (set when a redaction of it is signed off) or any
  // signed-off redaction recorded against it (jobs/sign_off.h: the web UI and `custodian
  // redact sign-off`).
  bool redacted = ex.redacted;
  if (r->type == RequestType::kDsar && !redacted) {
    auto redactions = db_.ListRedactionsForExport(ex.id);
    if (!redactions.ok()) return redactions.status();
    for (const auto& red : *redactions) redacted = redacted || red.signed_off.has_value();
  }
  CUSTODIAN_RETURN_IF_ERROR(CheckExportMayLeave(db_, ex, redacted, clock_.Now()));
  records::DisclosureRow d;
  d.export_id = h.export_id;
  d.recipient_name = h.recipient_name;
  d.organisation = h.organisation;
  d.reference = h.reference;
  d.method = h.method;
  d.at = h.at.value_or(clock_.Now());
  d.authorised_by = h.authorised_by;
  d.recorded_by = h.recorded_by;
  d.note = h.note;
  int64_t id = 0;
  Status st = db_.WithTransaction([&]() -> Status {
    auto inserted = db_.RecordDisclosure(d);
    if (!inserted.ok()) return inserted.status();
    id = *inserted;
    if (r->state == RequestState::kDisclosed) return Status::Ok();
    return Move(*r, RequestState::kDisclosed, h.recorded_by, "disclosed",
                "disclosure " + std::to_string(id));
  });
  if (!st.ok()) return st;
  LogInfo("requests") << "export " << h.export_id << " of " << RequestText(r->id)
                      << " handed over (disclosure " << id << ", " << records::Name(h.method)
                      << ")";
  return id;
}

Status Workflow::Close(int64_t request_id, int64_t by, const std::string& note) {
  auto user = Manager(by, "close a request");
  if (!user.ok()) return user.status();
  auto r = Load(request_id);
  if (!r.ok()) return r.status();
  if (!TransitionAllowed(r->state, RequestState::kClosed)) {
    return FailedPrecondition(RequestText(request_id) + " is " + records::Name(r->state) +
                              "; only a refused, disclosed or withdrawn request is closed");
  }
  if (r->state == RequestState::kDisclosed && r->type != RequestType::kDsar &&
      !r->subject_notified.has_value()) {
    return FailedPrecondition(RequestText(request_id) +
                              " was disclosed; record whether the data subject was told (or "
                              "why not) before closing it");
  }
  const UtcMicros retain_until = clock_.Now() + options_.retain_after_close_us;
  CUSTODIAN_RETURN_IF_ERROR(db_.CloseFootageRequest(request_id, r->state, by, retain_until, note));
  LogInfo("requests") << RequestText(request_id) << " closed; its hold is released after "
                      << FormatUtc(retain_until);
  return ReleaseDueHolds().status();
}

Result<int> Workflow::ReleaseDueHolds() {
  auto due = db_.ListRequestHoldsDue();
  if (!due.ok()) return due.status();
  int released = 0;
  for (const records::HoldRow& hold : *due) {
    auto r = Load(*hold.request_id);
    if (!r.ok()) return r.status();
    CUSTODIAN_RETURN_IF_ERROR(db_.ReleaseHold(hold.id, r->closed_by.value_or(hold.owner_user_id)));
    LogInfo("requests") << "hold " << hold.id << " of closed " << RequestText(*hold.request_id)
                        << " released: the request's retention has passed";
    ++released;
  }
  return released;
}

Result<RangeAssessment> Workflow::Assess(int64_t request_id) {
  auto r = Load(request_id);
  if (!r.ok()) return r.status();
  return AssessRanges(r->ranges, options_.limits);
}

}  // namespace custodian::requests
