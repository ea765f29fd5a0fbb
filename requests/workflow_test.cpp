#include "requests/workflow.h"

#include <catch2/catch.hpp>

#include "requests/testing.h"

using namespace custodian;
using namespace custodian::requests;
using namespace custodian::requests::testing;
using records::RequestState;
using records::VerificationStep;

namespace {

NewRequest Police() {
  NewRequest r;
  r.type = records::RequestType::kPolice;
  r.requester_name = "DC Jo Example";
  r.organisation = "Example Constabulary";
  r.contact = "via force switchboard";
  r.reference = "CR/2026/0042";
  r.legal_basis = records::LegalBasis::kCrimePrevention;
  r.legal_basis_detail = "DPA 2018 Sch. 2 para 2, form 1 signed by an inspector";
  r.description = "assault outside the front door";
  r.ranges = {{"door-1", kT0 - 2 * kHour, kT0 - kHour}};
  return r;
}

NewRequest Dsar() {
  NewRequest r;
  r.type = records::RequestType::kDsar;
  r.requester_name = "A Resident";
  r.legal_basis = records::LegalBasis::kRightOfAccess;
  r.ranges = {{"yard", kT0 - 3 * kHour, kT0 - 2 * kHour}};
  return r;
}

// Logs and verifies a police request, ready for a decision; logged by manager_a.
int64_t Verified(Site& s, Workflow& w, NewRequest r = Police()) {
  auto id = w.LogRequest(r, s.manager_a);
  INFO(id.status().ToString());
  REQUIRE(id.ok());
  for (VerificationStep step : RequiredVerifications(r.type)) {
    REQUIRE(w.AddVerification(*id, step, s.staff, "done").ok());
  }
  REQUIRE(w.SubmitForDecision(*id, s.staff).ok());
  return *id;
}

// Creates a ready export for the request and marks the request export_prepared.
int64_t ReadyExport(Site& s, Workflow& w, int64_t request_id) {
  records::ExportRow e;
  e.request_id = request_id;
  e.created_by = s.staff;
  e.ranges = (*s.db->GetFootageRequest(request_id))->ranges;
  auto id = s.db->CreateExport(e);
  REQUIRE(id.ok());
  REQUIRE(s.db->MarkExportReady(*id, {"exports/x", 1, std::string(64, 'c'), "K", {}}).ok());
  REQUIRE(w.MarkExportPrepared(request_id, s.staff, *id).ok());
  return *id;
}

Handover ToOfficer(const Site& s, int64_t export_id) {
  Handover h;
  h.export_id = export_id;
  h.recipient_name = "DC Jo Example";
  h.organisation = "Example Constabulary";
  h.reference = "badge 4471";
  h.method = records::DisclosureMethod::kInPerson;
  h.authorised_by = s.manager_b;
  h.recorded_by = s.staff;
  return h;
}

}  // namespace

TEST_CASE("logging a request places a hold on its footage at once") {
  Site s;
  Workflow w(*s.db, s.clock);
  REQUIRE_FALSE(*s.db->IsSegmentHeld("door-1", kT0 - 90 * kMinute, kT0 - 89 * kMinute));
  auto id = w.LogRequest(Police(), s.staff);
  REQUIRE(id.ok());
  REQUIRE(*s.db->IsSegmentHeld("door-1", kT0 - 90 * kMinute, kT0 - 89 * kMinute));
  auto holds = *s.db->ListActiveHolds();
  REQUIRE(holds.size() == 1);
  REQUIRE(holds.front().request_id == *id);
  auto r = **s.db->GetFootageRequest(*id);
  REQUIRE(r.state == RequestState::kReceived);
  REQUIRE_FALSE(r.deadline.has_value());

  NewRequest bad = Police();
  bad.legal_basis = records::LegalBasis::kConsent;
  REQUIRE(w.LogRequest(bad, s.staff).status().kind() == ErrorKind::kInvalidArgument);
  bad = Police();
  bad.ranges.clear();
  REQUIRE(w.LogRequest(bad, s.staff).status().kind() == ErrorKind::kInvalidArgument);
  bad = Police();
  bad.ranges = {{"no-such-camera", kT0 - kHour, kT0}};
  REQUIRE_FALSE(w.LogRequest(bad, s.staff).ok());
  REQUIRE(s.db->ListFootageRequests({})->size() == 1);  // the failed one left nothing
  REQUIRE(s.db->ListActiveHolds()->size() == 1);
}

TEST_CASE("a police request goes to a manager only once written and called back") {
  Site s;
  Workflow w(*s.db, s.clock);
  auto id = *w.LogRequest(Police(), s.staff);
  Status early = w.SubmitForDecision(id, s.staff);
  REQUIRE(early.kind() == ErrorKind::kFailedPrecondition);
  REQUIRE(early.message().find("received_in_writing, identity_callback") != std::string::npos);
  REQUIRE(w.AddVerification(id, VerificationStep::kReceivedInWriting, s.staff,
                            "email from @example.police.uk")
              .ok());
  REQUIRE((*s.db->GetFootageRequest(id))->state == RequestState::kVerifying);
  REQUIRE(w.SubmitForDecision(id, s.staff).kind() == ErrorKind::kFailedPrecondition);
  REQUIRE(w.AddVerification(id, VerificationStep::kIdentityCallback, s.staff,
                            "rang 101, put through to CID, confirmed DC Example")
              .ok());
  REQUIRE(w.AddVerification(id, VerificationStep::kOther, s.staff, "").kind() ==
          ErrorKind::kInvalidArgument);
  REQUIRE(w.SubmitForDecision(id, s.staff).ok());
  auto steps = *s.db->ListRequestVerifications(id);
  REQUIRE(steps.size() == 2);
  REQUIRE(steps[1].done_by == s.staff);
  REQUIRE(steps[1].at == kT0);
}

TEST_CASE("the person who logged a request cannot approve it; staff cannot approve at all") {
  Site s;
  Workflow w(*s.db, s.clock);
  const int64_t id = Verified(s, w);  // logged by manager_a
  Decision d{true, s.manager_a, "lawful: Sch. 2 para 2", std::nullopt};
  Status own = w.Decide(id, d);
  REQUIRE(own.kind() == ErrorKind::kPermissionDenied);
  REQUIRE(own.message().find("logged") != std::string::npos);
  d.decided_by = s.staff;
  REQUIRE(w.Decide(id, d).kind() == ErrorKind::kPermissionDenied);
  d.decided_by = s.admin;
  REQUIRE(w.Decide(id, d).kind() == ErrorKind::kPermissionDenied);
  const int64_t disabled = s.AddUser("gone", records::Role::kManager);
  REQUIRE(s.db->SetUserDisabled(disabled, true).ok());
  d.decided_by = disabled;
  REQUIRE(w.Decide(id, d).kind() == ErrorKind::kPermissionDenied);
  d.decided_by = s.manager_b;
  d.reason = "";
  REQUIRE(w.Decide(id, d).kind() == ErrorKind::kInvalidArgument);
  REQUIRE((*s.db->GetFootageRequest(id))->state == RequestState::kAwaitingDecision);
  d.reason = "lawful: Sch. 2 para 2; proportionate";
  REQUIRE(w.Decide(id, d).ok());
  auto r = **s.db->GetFootageRequest(id);
  REQUIRE(r.state == RequestState::kApproved);
  REQUIRE(r.decided_by == s.manager_b);
  REQUIRE(w.Decide(id, d).kind() == ErrorKind::kFailedPrecondition);  // already decided
}

TEST_CASE("a staff member's own internal request is decided by someone else") {
  Site s;
  Workflow w(*s.db, s.clock);
  NewRequest r;
  r.type = records::RequestType::kInternal;
  r.requester_name = "blake";
  r.requester_user_id = s.manager_b;
  r.legal_basis = records::LegalBasis::kLegitimateInterests;
  r.ranges = {{"yard", kT0 - kHour, kT0}};
  auto id = *w.LogRequest(r, s.staff);
  REQUIRE(w.SubmitForDecision(id, s.staff).ok());
  REQUIRE(w.Decide(id, {true, s.manager_b, "incident review", {}}).kind() ==
          ErrorKind::kPermissionDenied);
  REQUIRE(w.Decide(id, {true, s.dpo, "incident review", {}}).ok());
}

TEST_CASE("approval waits for verification; a refusal can come at any point before it") {
  Site s;
  Workflow w(*s.db, s.clock);
  auto id = *w.LogRequest(Police(), s.staff);
  REQUIRE(w.Decide(id, {true, s.manager_b, "ok", {}}).kind() == ErrorKind::kFailedPrecondition);
  REQUIRE(w.Decide(id, {false, s.manager_b, "could not verify the caller", {}}).ok());
  auto r = **s.db->GetFootageRequest(id);
  REQUIRE(r.state == RequestState::kRefused);
  REQUIRE(r.decision_reason == "could not verify the caller");
  REQUIRE(w.Close(id, s.staff, "").kind() == ErrorKind::kPermissionDenied);
  REQUIRE(w.Close(id, s.manager_b, "refused").ok());
  REQUIRE((*s.db->GetFootageRequest(id))->state == RequestState::kClosed);
}

TEST_CASE("an over-broad request is approved only with a recorded justification") {
  Site s;
  Workflow w(*s.db, s.clock);
  NewRequest wide = Police();
  wide.ranges = {{"door-1", kT0 - 48 * kHour, kT0}};
  const int64_t id = Verified(s, w, wide);
  REQUIRE(w.Assess(id)->over_broad);
  Status st = w.Decide(id, {true, s.manager_b, "lawful", {}});
  REQUIRE(st.kind() == ErrorKind::kFailedPrecondition);
  REQUIRE(st.message().find("over-broad") != std::string::npos);
  REQUIRE(w.Decide(id, {true, s.manager_b, "lawful", "suspect's movements over two days"}).ok());
  REQUIRE((*s.db->GetFootageRequest(id))->over_broad_justification ==
          "suspect's movements over two days");
}

TEST_CASE("a DSAR deadline is set on receipt and extended by at most two months") {
  Site s;
  Workflow w(*s.db, s.clock);
  NewRequest dsar = Dsar();
  dsar.received = Utc("2026-01-31T15:00:00Z");
  auto id = *w.LogRequest(dsar, s.staff);
  REQUIRE((*s.db->GetFootageRequest(id))->deadline == Utc("2026-03-01T00:00:00Z"));

  Extension e{1, "complex: many cameras to review", Utc("2026-02-10T12:00:00Z"), s.staff};
  REQUIRE(w.ExtendDsarDeadline(id, e).kind() == ErrorKind::kPermissionDenied);
  e.by = s.dpo;
  e.reason = "";
  REQUIRE(w.ExtendDsarDeadline(id, e).kind() == ErrorKind::kInvalidArgument);
  e.reason = "complex: many cameras to review";
  REQUIRE(w.ExtendDsarDeadline(id, e).ok());
  auto r = **s.db->GetFootageRequest(id);
  REQUIRE(r.extension_months == 1);
  REQUIRE(r.deadline == Utc("2026-03-31T23:00:00Z"));  // end of 31 March, BST
  REQUIRE(r.extension_told == Utc("2026-02-10T12:00:00Z"));
  e.further_months = 2;
  REQUIRE(w.ExtendDsarDeadline(id, e).kind() == ErrorKind::kFailedPrecondition);
  e.further_months = 1;
  REQUIRE(w.ExtendDsarDeadline(id, e).ok());
  REQUIRE((*s.db->GetFootageRequest(id))->deadline == Utc("2026-04-30T23:00:00Z"));
  REQUIRE(w.ExtendDsarDeadline(id, e).kind() == ErrorKind::kFailedPrecondition);
  REQUIRE((*s.db->GetFootageRequest(id))->extension_months == 2);

  auto police = *w.LogRequest(Police(), s.staff);
  REQUIRE(w.ExtendDsarDeadline(police, e).kind() == ErrorKind::kFailedPrecondition);
}

TEST_CASE("a DSAR's clock stops while the requester is asked and the deadline moves on") {
  Site s;
  Workflow w(*s.db, s.clock);
  auto id = *w.LogRequest(Dsar(), s.staff);  // received 15 January: due 15 February
  REQUIRE((*s.db->GetFootageRequest(id))->deadline == Utc("2026-02-16T00:00:00Z"));

  s.clock.SetWall(Utc("2026-01-20T09:00:00Z"));
  ClockStop stop{ClockStopReason::kIdentity, "asked for photo ID by letter", s.staff};
  REQUIRE(w.StopDsarClock(id, stop).kind() == ErrorKind::kPermissionDenied);
  stop.by = s.manager_a;
  stop.asked = "";
  REQUIRE(w.StopDsarClock(id, stop).kind() == ErrorKind::kInvalidArgument);
  stop.asked = "asked for photo ID by letter";
  REQUIRE(w.RestartDsarClock(id, s.manager_a, "ID seen").kind() == ErrorKind::kFailedPrecondition);
  REQUIRE(w.StopDsarClock(id, stop).ok());
  REQUIRE(w.StopDsarClock(id, stop).kind() == ErrorKind::kFailedPrecondition);
  auto events = *s.db->ListRequestEvents(id);
  DsarClock clock = DsarClockFromEvents(events, TimeZone::UkLocal());
  REQUIRE(clock.stopped_since == Utc("2026-01-20T09:00:00Z"));
  REQUIRE(clock.stopped_for == ClockStopReason::kIdentity);
  REQUIRE(events.back().action == "clock_stopped_identity");
  REQUIRE(events.back().user_id == s.manager_a);
  REQUIRE(events.back().note == "asked for photo ID by letter");

  // Answered a week later (by the local date): due 22 February.
  s.clock.SetWall(Utc("2026-01-27T18:00:00Z"));
  REQUIRE(w.RestartDsarClock(id, s.staff, "passport seen").kind() == ErrorKind::kPermissionDenied);
  REQUIRE(w.RestartDsarClock(id, s.dpo, "").kind() == ErrorKind::kInvalidArgument);
  REQUIRE(w.RestartDsarClock(id, s.dpo, "passport seen").ok());
  REQUIRE((*s.db->GetFootageRequest(id))->deadline == Utc("2026-02-23T00:00:00Z"));
  events = *s.db->ListRequestEvents(id);
  REQUIRE(events.back().action == "clock_restarted");
  REQUIRE(events.back().user_id == s.dpo);
  clock = DsarClockFromEvents(events, TimeZone::UkLocal());
  REQUIRE_FALSE(clock.stopped_since);
  REQUIRE(clock.paused_days == 7);
  REQUIRE(clock.stops == 1);

  // An extension counts from receipt and keeps the stopped days: 15 March + 7.
  Extension e{1, "complex", Utc("2026-01-28T12:00:00Z"), s.manager_b};
  REQUIRE(w.ExtendDsarDeadline(id, e).ok());
  REQUIRE((*s.db->GetFootageRequest(id))->deadline == Utc("2026-03-23T00:00:00Z"));

  // Stopped again across the change to BST: 20 March to 2 April is 13 more days, due
  // 4 April, whose end is in BST.
  s.clock.SetWall(Utc("2026-03-20T12:00:00Z"));
  REQUIRE(w.StopDsarClock(id, {ClockStopReason::kClarification, "which evening?", s.dpo}).ok());
  s.clock.SetWall(Utc("2026-04-02T08:00:00Z"));
  REQUIRE(w.RestartDsarClock(id, s.dpo, "the evening of 3 January").ok());
  REQUIRE((*s.db->GetFootageRequest(id))->deadline == Utc("2026-04-04T23:00:00Z"));

  // Past the deadline the clock can no longer stop.
  s.clock.SetWall(Utc("2026-04-05T09:00:00Z"));
  REQUIRE(w.StopDsarClock(id, stop).kind() == ErrorKind::kFailedPrecondition);

  auto police = *w.LogRequest(Police(), s.staff);
  REQUIRE(w.StopDsarClock(police, stop).kind() == ErrorKind::kFailedPrecondition);
}

TEST_CASE("a DSAR's clock stops only before the decision") {
  Site s;
  Workflow w(*s.db, s.clock);
  const int64_t id = Verified(s, w, Dsar());
  REQUIRE(w.Decide(id, {true, s.manager_b, "identity confirmed; own footage", {}}).ok());
  Status st = w.StopDsarClock(id, {ClockStopReason::kClarification, "which day?", s.manager_b});
  REQUIRE(st.kind() == ErrorKind::kFailedPrecondition);
  REQUIRE(st.message().find("before the decision") != std::string::npos);
}

TEST_CASE("a DSAR export is handed over only redacted or with a recorded justification") {
  Site s;
  Workflow w(*s.db, s.clock);
  const int64_t id = Verified(s, w, Dsar());
  REQUIRE(w.Decide(id, {true, s.manager_b, "identity confirmed; own footage", {}}).ok());
  const int64_t ex = ReadyExport(s, w, id);
  Handover h = ToOfficer(s, ex);
  h.recipient_name = "A Resident";
  Status st = w.RecordDisclosure(h).status();
  REQUIRE(st.kind() == ErrorKind::kFailedPrecondition);
  REQUIRE(st.message().find("redact") != std::string::npos);
  REQUIRE(w.JustifyUnredactedRelease(ex, s.staff, "alone in view").kind() ==
          ErrorKind::kPermissionDenied);
  REQUIRE(w.JustifyUnredactedRelease(ex, s.dpo, "only the requester is in view").ok());
  REQUIRE(w.RecordDisclosure(h).ok());
  REQUIRE((*s.db->GetFootageRequest(id))->state == RequestState::kDisclosed);
  // A DSAR's subject is the requester: closing needs no separate notification.
  REQUIRE(w.Close(id, s.dpo, "answered").ok());
}

TEST_CASE("the police flow ends closed, and the hold goes only after the request's retention") {
  Site s;
  Workflow w(*s.db, s.clock, TimeZone::UkLocal(), WorkflowOptions{});
  const int64_t id = Verified(s, w);
  REQUIRE(w.Decide(id, {true, s.manager_b, "lawful: Sch. 2 para 2", {}}).ok());
  Handover early = ToOfficer(s, 0);
  REQUIRE_FALSE(w.RecordDisclosure(early).ok());
  const int64_t ex = ReadyExport(s, w, id);
  REQUIRE((*s.db->GetFootageRequest(id))->state == RequestState::kExportPrepared);
  Handover h = ToOfficer(s, ex);
  h.authorised_by = s.staff;
  REQUIRE(w.RecordDisclosure(h).status().kind() == ErrorKind::kPermissionDenied);
  h.authorised_by = s.manager_b;
  auto disclosure = w.RecordDisclosure(h);
  REQUIRE(disclosure.ok());
  REQUIRE((*s.db->GetFootageRequest(id))->state == RequestState::kDisclosed);
  REQUIRE(w.RecordDisclosure(h).ok());  // a second copy, same request
  REQUIRE(s.db->ListDisclosuresForExport(ex)->size() == 2);

  Status close = w.Close(id, s.manager_b, "");
  REQUIRE(close.kind() == ErrorKind::kFailedPrecondition);
  REQUIRE(close.message().find("data subject") != std::string::npos);
  records::SubjectNotification n;
  n.told = false;
  n.by = s.manager_b;
  REQUIRE(w.RecordSubjectNotification(id, n).kind() == ErrorKind::kInvalidArgument);
  n.note = "not told: would prejudice the investigation (police advice)";
  REQUIRE(w.RecordSubjectNotification(id, n).ok());
  REQUIRE(w.Close(id, s.manager_b, "handed over").ok());

  auto r = **s.db->GetFootageRequest(id);
  REQUIRE(r.state == RequestState::kClosed);
  REQUIRE(r.retain_until == kT0 + w.options().retain_after_close_us);
  REQUIRE(s.db->ListActiveHolds()->size() == 1);
  s.clock.Advance(w.options().retain_after_close_us - 1);
  REQUIRE(*w.ReleaseDueHolds() == 0);
  s.clock.Advance(1);
  REQUIRE(*w.ReleaseDueHolds() == 1);
  REQUIRE(s.db->ListActiveHolds()->empty());
  REQUIRE(*w.ReleaseDueHolds() == 0);

  auto events = s.db->ListRequestEvents(id);
  REQUIRE(events.ok());
  std::vector<std::string> actions;
  for (const records::RequestEventRow& e : events.value()) actions.push_back(e.action);
  REQUIRE(actions == std::vector<std::string>{"logged", "verifying", "submitted", "approved",
                                              "export_prepared", "disclosed", "subject_not_told",
                                              "closed"});
}

TEST_CASE("a withdrawn request closes, and with no retention its hold goes at once") {
  Site s;
  WorkflowOptions o;
  o.retain_after_close_us = 0;
  Workflow w(*s.db, s.clock, TimeZone::UkLocal(), o);
  auto id = *w.LogRequest(Police(), s.staff);
  REQUIRE(w.Close(id, s.manager_b, "").kind() == ErrorKind::kFailedPrecondition);
  REQUIRE(w.Withdraw(id, s.staff, "officer no longer needs it").ok());
  REQUIRE(w.Withdraw(id, s.staff, "").kind() == ErrorKind::kFailedPrecondition);
  REQUIRE(w.Close(id, s.manager_b, "").ok());
  REQUIRE(s.db->ListActiveHolds()->empty());
}

TEST_CASE("a request for footage that has not been recorded yet is refused, saying why") {
  Site s;
  Workflow w(*s.db, s.clock);
  NewRequest r = Police();
  r.ranges = {{"door-1", kT0 + kHour, kT0 + 2 * kHour}};
  auto id = w.LogRequest(r, s.manager_a);
  REQUIRE(!id.ok());
  CHECK(id.status().kind() == ErrorKind::kInvalidArgument);
  CHECK(id.status().message().find("reaches into the future") != std::string::npos);
  // Up to the present (a browser's clock a minute ahead included) is fine.
  r.ranges = {{"door-1", kT0 - kHour, kT0 + kMinute}};
  CHECK(w.LogRequest(r, s.manager_a).ok());
}
