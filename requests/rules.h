// The rules of the footage-request workflow as pure functions: which state changes are
// allowed, which verification steps each type of request needs before a decision, which
// legal bases fit which type, when a range is too broad, and when a DSAR is due.
//
// Nothing here touches the records; requests/workflow.h applies these rules to them.
// docs/design/requests.md explains each rule and where it comes from in the policy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "base/zoneinfo.h"
#include "records/request_rows.h"

namespace custodian::requests {

using records::FootageRange;
using records::LegalBasis;
using records::RequestState;
using records::RequestType;
using records::VerificationStep;

// The transition table: every allowed (from, to) pair.
//   received          -> verifying, awaiting_decision, refused, withdrawn
//   verifying         -> awaiting_decision, refused, withdrawn
//   awaiting_decision -> approved, refused, withdrawn
//   approved          -> export_prepared, withdrawn
//   export_prepared   -> disclosed, withdrawn
//   refused, disclosed, withdrawn -> closed
bool TransitionAllowed(RequestState from, RequestState to);
// States in which nothing is left to decide or hand over: refused, disclosed, withdrawn,
// closed. An open request is any other.
bool IsOpen(RequestState s);
// Before the decision: received, verifying, awaiting_decision. The request can still be
// refused, and the person who asked for it can withdraw it.
bool IsUndecided(RequestState s);
// Footage may be exported for the request: approved, export_prepared, disclosed.
bool MayExport(RequestState s);
// Every state, in the order of records::RequestState.
std::vector<RequestState> AllStates();

// Steps that must be on record before a request can go to a manager for decision.
//   police, insurer, solicitor: received in writing; identity called back
//   dsar: received in writing; identity documents seen
//   missing person: identity called back (vital interests: writing may follow)
//   media: received in writing; consent obtained
//   internal: none (the requester is a logged-in user)
std::vector<VerificationStep> RequiredVerifications(RequestType type);
// The legal bases a type of request may rely on (the first is the usual one).
std::vector<LegalBasis> AllowedLegalBases(RequestType type);
bool LegalBasisFits(RequestType type, LegalBasis basis);
// The basis in words, for people: "DPA 2018 Sch. 2 para 2 (prevention or detection of
// crime)".
const char* LegalBasisText(LegalBasis basis);

// Data minimisation: a request is flagged over-broad when it asks for more than these.
// A flagged request can still be approved, but only with a recorded justification.
struct MinimisationLimits {
  int64_t max_per_camera_us = 24 * 3600 * kMicrosPerSecond;  // total asked of any one camera
  int max_cameras = 4;
};

struct RangeAssessment {
  bool over_broad = false;
  std::vector<std::string> reasons;  // one line per limit exceeded
  int cameras = 0;
  int64_t longest_camera_us = 0;  // the most asked of one camera (overlaps counted once)
};

RangeAssessment AssessRanges(const std::vector<FootageRange>& ranges,
                             const MinimisationLimits& limits = {});
// Ranges must be non-empty, each with from < to and a camera id.
Status ValidateRanges(const std::vector<FootageRange>& ranges);
// A range ending later than now (plus kFutureToleranceUs, for a browser's clock a little
// ahead of the appliance's) is refused: a request is for footage that exists, and a hold
// placed "from now on" would keep recording indefinitely without a decision about it.
inline constexpr int64_t kFutureToleranceUs = 5 * 60 * kMicrosPerSecond;
Status RefuseFutureRanges(const std::vector<FootageRange>& ranges, UtcMicros now);

// A DSAR is due one calendar month after the UK local date of receipt, clamped to the end
// of a shorter month (31 January -> 28 or 29 February), plus any extension (at most two
// further months, counted from the date of receipt, not from the first due date).
constexpr int kMaxDsarExtensionMonths = 2;
CivilDate DsarDueDate(const CivilDate& received_local, int extension_months);
// The deadline instant: the end of the due date in UK local time (the first instant of
// the next local day), so "on or before the due date" is "before the deadline".
// paused_days (the clock below) move the due date on by that many days.
UtcMicros DsarDeadline(UtcMicros received, int extension_months, const TimeZone& zone,
                       int64_t paused_days = 0);

// The DSAR clock can stop (UK GDPR Art. 12 as amended by the Data (Use and Access) Act
// 2025, and the ICO's "stop the clock"): while the controller waits for information it
// reasonably asked for, proof of identity or a clarification of what is wanted, the month
// does not run. It restarts when the requester answers, and the due date moves on by the
// UK local days it was stopped (asked on the 5th, answered on the 10th: five days later).
// Stops and restarts are request events (records::RequestEventRow) whose action names
// them, so the history says who stopped and restarted the clock, when and why.
enum class ClockStopReason { kIdentity, kClarification };
const char* Name(ClockStopReason r);  // "identity", "clarification"
bool ParseClockStopReason(const std::string& text, ClockStopReason* out);
// The event actions: "clock_stopped_identity", "clock_stopped_clarification",
// "clock_restarted".
std::string ClockStoppedAction(ClockStopReason r);
inline constexpr const char* kClockRestartedAction = "clock_restarted";

struct DsarClock {
  int64_t paused_days = 0;                 // days of every stop that has ended
  std::optional<UtcMicros> stopped_since;  // set while the clock is stopped
  std::optional<ClockStopReason> stopped_for;
  int stops = 0;  // how many times it was stopped
};
// Reads the clock from a request's events, in the order they were recorded.
DsarClock DsarClockFromEvents(const std::vector<records::RequestEventRow>& events,
                              const TimeZone& zone);
// Why the request's clock cannot stop at `now`, to follow "request N" in a message, or ""
// when it can: only a DSAR's, before the decision, before its deadline, and not twice.
// (Who may stop it is the workflow's rule: a manager or the DPO.)
std::string ClockStopBlocker(const records::FootageRequestRow& r, const DsarClock& clock,
                             UtcMicros now);

}  // namespace custodian::requests
