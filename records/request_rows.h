// Row types for footage requests and what answers them: verification steps, the request's
// history, exports, disclosures (handovers) and background jobs.
//
// These are stored values only. The rules (who may decide, which transitions are allowed,
// when a hold is released) live in requests/ and exports/; the schema backs the most
// important of them with CHECK constraints (docs/design/schema.md, version 2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "records/rows.h"

namespace custodian::records {

enum class RequestType { kPolice, kDsar, kMissingPerson, kInsurer, kSolicitor, kInternal, kMedia };
// The lawful basis the requester relies on. Stored as the code; the detail (which order,
// which protocol, which section) is free text beside it.
enum class LegalBasis {
  kCrimePrevention,      // DPA 2018 Sch. 2 para 2: prevention or detection of crime
  kProductionOrder,      // PACE production order
  kWarrant,              // search warrant
  kCourtOrder,           // any other court order
  kCdaProtocol,          // Crime and Disorder Act 1998 s115 information-sharing protocol
  kRightOfAccess,        // UK GDPR Art. 15: the data subject's own request (DSAR)
  kVitalInterests,       // UK GDPR Art. 6(1)(d): a missing or endangered person
  kLegalProceedings,     // DPA 2018 Sch. 2 para 5: legal claims (insurers, solicitors)
  kLegitimateInterests,  // UK GDPR Art. 6(1)(f): the charity's own incident review
  kConsent,              // UK GDPR Art. 6(1)(a): media and publicity
};
enum class RequestState {
  kReceived,
  kVerifying,
  kAwaitingDecision,
  kApproved,
  kRefused,
  kExportPrepared,
  kDisclosed,
  kClosed,
  kWithdrawn,
};
enum class VerificationStep {
  kReceivedInWriting,      // the request arrived in writing (letter, email from a domain)
  kIdentityCallback,       // called back through the organisation's switchboard
  kIdentityDocumentsSeen,  // DSAR: the requester's identity documents were seen
  kLegalDocumentSeen,      // the order, warrant or protocol reference was seen
  kConsentObtained,        // media: consent of the people shown
  kOther,
};
enum class ExportState { kBuilding, kReady, kFailed, kExpired, kDeleted };
enum class DisclosureMethod { kDownload, kRemovableMedia, kEmail, kInPerson, kCourier, kOther };
enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };

const char* Name(RequestType v);
const char* Name(LegalBasis v);
const char* Name(RequestState v);
const char* Name(VerificationStep v);
const char* Name(ExportState v);
const char* Name(DisclosureMethod v);
const char* Name(JobState v);
std::optional<RequestType> ParseRequestType(std::string_view s);
std::optional<LegalBasis> ParseLegalBasis(std::string_view s);
std::optional<RequestState> ParseRequestState(std::string_view s);
std::optional<VerificationStep> ParseVerificationStep(std::string_view s);
std::optional<ExportState> ParseExportState(std::string_view s);
std::optional<DisclosureMethod> ParseDisclosureMethod(std::string_view s);
std::optional<JobState> ParseJobState(std::string_view s);

// A camera and a time range [from, to) named by a request or covered by an export.
using FootageRange = HoldRange;

struct FootageRequestRow {
  int64_t id = 0;
  RequestType type = RequestType::kPolice;
  std::string requester_name;
  std::string organisation;
  std::string contact;
  std::string reference;  // e.g. the crime reference
  LegalBasis legal_basis = LegalBasis::kCrimePrevention;
  std::string legal_basis_detail;
  std::string description;                   // what happened, why the footage is wanted
  std::optional<int64_t> requester_user_id;  // when the requester is a user (internal)
  UtcMicros received;
  std::optional<UtcMicros> deadline;  // DSARs: end of the due date, UK local time
  int extension_months = 0;           // 0..2, DSARs only
  std::optional<std::string> extension_reason;
  std::optional<UtcMicros> extension_told;  // when the requester was told of the extension
  RequestState state = RequestState::kReceived;
  int64_t logged_by = 0;
  std::optional<int64_t> decided_by;
  std::optional<UtcMicros> decided;
  std::optional<std::string> decision_reason;
  std::optional<std::string> over_broad_justification;  // why an over-broad request was approved
  std::optional<bool> subject_notified;
  std::optional<UtcMicros> subject_notified_at;
  std::optional<std::string> subject_notification_note;  // how, or why not
  std::optional<UtcMicros> closed;
  std::optional<int64_t> closed_by;
  std::optional<UtcMicros> retain_until;  // the request's hold is released after this
  UtcMicros created;                      // stamped
  UtcMicros updated;                      // stamped
  std::vector<FootageRange> ranges;
};

struct VerificationRow {
  int64_t id = 0;
  int64_t request_id = 0;
  VerificationStep step = VerificationStep::kOther;
  int64_t done_by = 0;
  UtcMicros at;  // stamped
  std::string note;
};

// One step in a request's history: a state change, or an action that kept the state
// (an extension, a notification), with who and when.
struct RequestEventRow {
  int64_t id = 0;
  int64_t request_id = 0;
  UtcMicros at;  // stamped
  int64_t user_id = 0;
  std::optional<RequestState> from_state;  // unset when the request was created
  RequestState to_state = RequestState::kReceived;
  std::string action;  // "logged", "verified", "approved", "extended", "notified", ...
  std::string note;
};

// What RecordRequestDecision writes.
struct RequestDecision {
  RequestState from = RequestState::kAwaitingDecision;
  bool approve = false;
  int64_t decided_by = 0;
  std::string reason;
  std::optional<std::string> over_broad_justification;
};

struct DeadlineExtension {
  int total_months = 0;  // the extension in force after this one, 1 or 2
  UtcMicros new_deadline;
  std::string reason;
  UtcMicros told;  // when the requester was told
  int64_t by = 0;
};

// A DSAR's clock stopped or restarted (requests/rules.h): the event's action and why,
// and the deadline in force afterwards.
struct DsarClockChange {
  std::string action;  // "clock_stopped_identity", "clock_stopped_clarification", ...
  std::string note;    // what was asked of the requester, or what they answered
  int64_t by = 0;
  UtcMicros deadline;
};

struct SubjectNotification {
  bool told = false;
  std::optional<UtcMicros> at;  // when told
  std::string note;             // how they were told, or why not
  int64_t by = 0;
};

struct RequestFilter {
  std::optional<RequestState> state;
  std::optional<RequestType> type;
  std::optional<UtcMicros> received_from;  // inclusive
  std::optional<UtcMicros> received_to;    // exclusive
};

struct ExportRow {
  int64_t id = 0;
  int64_t request_id = 0;
  std::optional<int64_t> job_id;
  ExportState state = ExportState::kBuilding;
  std::optional<std::string> path;  // the package directory, relative to data_dir
  UtcMicros created;                // stamped
  int64_t created_by = 0;
  bool redacted = false;
  int64_t bytes = 0;
  std::optional<std::string> manifest_sha256;
  std::optional<UtcMicros> expires;
  std::optional<UtcMicros> deleted;
  bool include_originals = false;
  std::optional<std::string> error;                     // why the last build failed
  std::optional<std::string> key_id;                    // the signing key's id, 16 hex digits
  std::optional<std::string> unredacted_justification;  // DSAR released without redaction
  std::optional<int64_t> justified_by;
  std::optional<UtcMicros> justified;
  std::vector<FootageRange> ranges;
};

// What MarkExportReady writes once the package is complete and durable.
struct ExportReady {
  std::string path;
  int64_t bytes = 0;
  std::string manifest_sha256;
  std::string key_id;
  std::optional<UtcMicros> expires;
};

struct DisclosureRow {
  int64_t id = 0;
  int64_t export_id = 0;
  int64_t request_id = 0;  // the export's request: read with the row, not stored in it
  std::string recipient_name;
  std::string organisation;
  std::string reference;  // badge number, collar number or the recipient's reference
  DisclosureMethod method = DisclosureMethod::kDownload;
  UtcMicros at;  // when handed over (given by the caller: a handover may be logged later)
  int64_t authorised_by = 0;
  int64_t recorded_by = 0;
  std::string manifest_sha256;  // of the export handed over; filled from the export
  std::string note;
};

struct JobRow {
  int64_t id = 0;
  std::string kind;  // "export", "redaction", ...
  JobState state = JobState::kQueued;
  double progress = 0;                // 0..1
  std::string params = "{}";          // JSON
  std::optional<std::string> result;  // JSON, when succeeded
  std::optional<int64_t> created_by;
  UtcMicros created;  // stamped
  UtcMicros updated;  // stamped
  bool cancel_requested = false;
  int attempts = 0;  // times claimed
  std::optional<std::string> worker;
  std::optional<UtcMicros> started;
  std::optional<UtcMicros> finished;
  std::optional<std::string> error;
};

// Counts for the anonymised monthly statistics: no names, references or ids.
struct ActivityCounts {
  int64_t holds_created = 0;
  int64_t holds_released = 0;
  int64_t holds_active_at_end = 0;
  int64_t exports_created = 0;
  int64_t exports_ready = 0;  // of those created in the period
  int64_t disclosures = 0;
  std::vector<std::pair<std::string, int64_t>> disclosures_by_method;
  int64_t deletions = 0;  // deletion records
  int64_t segments_deleted = 0;
  int64_t bytes_deleted = 0;
  std::vector<std::pair<std::string, int64_t>> deletions_by_rule;  // segments per rule
  int64_t viewings = 0;  // viewings of footage started (access log start entries)
  std::vector<std::pair<std::string, int64_t>> viewings_by_purpose;  // per purpose category
};

}  // namespace custodian::records
