// Workflow: the footage-request process applied to the records.
//
// A request is logged by any active user and at once places a hold on the footage it
// names (same transaction), so nothing asked for can expire while the request is open.
// Verification steps are recorded with who and when; a request goes to a manager only
// once the steps its type needs are on record. A decision is made by a manager or the DPO
// who is neither the person who logged the request nor its requester; refusals and
// approvals carry a reason, and an over-broad request needs a recorded justification to be
// approved. Handovers are recorded as disclosures on the authority of a manager or the DPO;
// a DSAR export is handed over only when redacted or with a recorded justification.
// Closing a request starts its own retention; its hold is released once that has passed
// (ReleaseDueHolds, called by the retention scheduler or the API's worker).
//
// Every method checks the actor (an active user with the role the step needs), the
// request's state against the transition table in rules.h, and writes through one records
// transaction. Errors: kNotFound (no such request, export or user), kPermissionDenied (the
// actor may not do this), kFailedPrecondition (the request is in the wrong state, or a
// step is missing), kInvalidArgument (bad input); records errors pass through.
//
// Thread-safe as far as records::Database is; a Workflow holds no mutable state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/zoneinfo.h"
#include "records/database.h"
#include "requests/rules.h"

namespace custodian::requests {

struct WorkflowOptions {
  MinimisationLimits limits;
  // How long after closing a request its footage stays held: time for a complaint about
  // the disclosure, or a follow-up request, to find the footage still there.
  int64_t retain_after_close_us = 31 * kMicrosPerDay;
  // When the hold placed on receipt is due for a person's review.
  int64_t hold_review_after_us = 90 * kMicrosPerDay;
};

struct NewRequest {
  RequestType type = RequestType::kPolice;
  std::string requester_name;
  std::string organisation;
  std::string contact;
  std::string reference;
  LegalBasis legal_basis = LegalBasis::kCrimePrevention;
  std::string legal_basis_detail;
  std::string description;
  std::optional<int64_t> requester_user_id;  // internal requests: the staff member asking
  std::optional<UtcMicros> received;         // default: now
  std::vector<FootageRange> ranges;
};

struct Decision {
  bool approve = false;
  int64_t decided_by = 0;
  std::string reason;
  std::optional<std::string> over_broad_justification;
};

struct Extension {
  int further_months = 1;  // added to any extension already in force; total at most 2
  std::string reason;
  UtcMicros requester_told;
  int64_t by = 0;
};

struct ClockStop {
  ClockStopReason reason = ClockStopReason::kIdentity;
  std::string asked;  // what the requester was asked for
  int64_t by = 0;
};

struct Handover {
  int64_t export_id = 0;
  std::string recipient_name;
  std::string organisation;
  std::string reference;  // badge or collar number, or the recipient's own reference
  records::DisclosureMethod method = records::DisclosureMethod::kDownload;
  std::optional<UtcMicros> at;  // default: now
  int64_t authorised_by = 0;
  int64_t recorded_by = 0;
  std::string note;
};

class Workflow {
 public:
  Workflow(records::Database& db, const Clock& clock, const TimeZone& zone = TimeZone::UkLocal(),
           WorkflowOptions options = {});

  // Logs a request (state received) and places its hold. Returns the request id.
  Result<int64_t> LogRequest(const NewRequest& request, int64_t logged_by);
  // Records a verification step; moves a received request to verifying.
  Status AddVerification(int64_t request_id, VerificationStep step, int64_t done_by,
                         const std::string& note);
  // received/verifying -> awaiting_decision, once the required steps are recorded.
  Status SubmitForDecision(int64_t request_id, int64_t by);
  Status Decide(int64_t request_id, const Decision& decision);
  // DSARs only, by a manager or the DPO.
  Status ExtendDsarDeadline(int64_t request_id, const Extension& extension);
  // Stops a DSAR's clock while the requester is asked for proof of identity or a
  // clarification (rules.h); manager or DPO, before the decision and the deadline, and
  // not when already stopped.
  Status StopDsarClock(int64_t request_id, const ClockStop& stop);
  // Restarts it when the requester has answered: the deadline moves on by the UK local
  // days it was stopped. Manager or DPO; kFailedPrecondition when it is not stopped.
  Status RestartDsarClock(int64_t request_id, int64_t by, const std::string& answer);
  // Whether and when the data subject was told, or why not; manager or DPO.
  Status RecordSubjectNotification(int64_t request_id, const records::SubjectNotification& n);
  Status Withdraw(int64_t request_id, int64_t by, const std::string& note);
  // approved -> export_prepared when an export of the request is ready; a no-op when
  // already export_prepared or disclosed (a rebuilt export).
  Status MarkExportPrepared(int64_t request_id, int64_t by, int64_t export_id);
  // Records that the data subject's footage may go out unredacted, and why (DSARs).
  Status JustifyUnredactedRelease(int64_t export_id, int64_t by, const std::string& why);
  // Records a handover of a ready export; export_prepared -> disclosed on the first.
  Result<int64_t> RecordDisclosure(const Handover& handover);
  // refused/disclosed/withdrawn -> closed; a disclosed request (other than a DSAR, whose
  // subject is the requester) needs its subject notification on record first.
  Status Close(int64_t request_id, int64_t by, const std::string& note);
  // Releases the holds of closed requests whose retention has passed; returns how many.
  Result<int> ReleaseDueHolds();

  // The over-broad assessment of a logged request.
  Result<RangeAssessment> Assess(int64_t request_id);
  const WorkflowOptions& options() const { return options_; }

 private:
  Result<records::UserRow> ActiveUser(int64_t user_id, const char* doing);
  Result<records::UserRow> Manager(int64_t user_id, const char* doing);
  Result<records::FootageRequestRow> Load(int64_t request_id);
  Status Move(const records::FootageRequestRow& r, RequestState to, int64_t by,
              const std::string& action, const std::string& note);

  records::Database& db_;
  const Clock& clock_;
  const TimeZone& zone_;
  const WorkflowOptions options_;
};

// Whether the role may decide requests, authorise handovers, extend deadlines and stop
// the DSAR clock.
bool CanDecide(records::Role role);

// The one rule for footage leaving the box as an export, applied by every way
// out: the download of its package (tar or encrypted zip), the removable-media copy
// (exports::MakeRemovableMediaCopy, API and CLI), and the recorded handover
// (Workflow::RecordDisclosure). Ok only when
//   - the export is ready, not deleted, and `now` is before its expiry (past it, its files
//     are due for deletion and the recipient gets a new export);
//   - its request is approved with a prepared export, or disclosed: not withdrawn, refused
//     or closed;
//   - for a DSAR, what goes out is a signed-off redacted package (`redacted`), or the
//     export carries a recorded justification for going out unredacted
//     (Workflow::JustifyUnredactedRelease): the original shows third parties.
// Otherwise kFailedPrecondition with the reason, written for the person asking; kNotFound
// when the export's request is missing; records errors pass through.
Status CheckExportMayLeave(records::Database& db, const records::ExportRow& e, bool redacted,
                           UtcMicros now);

}  // namespace custodian::requests
