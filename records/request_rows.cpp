#include "records/request_rows.h"

#include <cstddef>
#include "records/enum_names.h"

namespace custodian::records {

namespace {

// Each table lists the stored names in enum order.
constexpr const char* kRequestTypes[] = {"police",    "dsar",     "missing_person", "insurer",
                                         "solicitor", "internal", "media"};
constexpr const char* kLegalBases[] = {
    "crime_prevention",     "production_order", "warrant",         "court_order",
    "cda_protocol",         "right_of_access",  "vital_interests", "legal_proceedings",
    "legitimate_interests", "consent"};
constexpr const char* kRequestStates[] = {"received",  "verifying", "awaiting_decision",
                                          "approved",  "refused",   "export_prepared",
                                          "disclosed", "closed",    "withdrawn"};
constexpr const char* kVerificationSteps[] = {"received_in_writing",     "identity_callback",
                                              "identity_documents_seen", "legal_document_seen",
                                              "consent_obtained",        "other"};
constexpr const char* kExportStates[] = {"building", "ready", "failed", "expired", "deleted"};
constexpr const char* kDisclosureMethods[] = {"download",  "removable_media", "email",
                                              "in_person", "courier",         "other"};
constexpr const char* kJobStates[] = {"queued", "running", "succeeded", "failed", "cancelled"};

using internal::ParseName;

}  // namespace

const char* Name(RequestType v) { return kRequestTypes[static_cast<int>(v)]; }
const char* Name(LegalBasis v) { return kLegalBases[static_cast<int>(v)]; }
const char* Name(RequestState v) { return kRequestStates[static_cast<int>(v)]; }
const char* Name(VerificationStep v) { return kVerificationSteps[static_cast<int>(v)]; }
const char* Name(ExportState v) { return kExportStates[static_cast<int>(v)]; }
const char* Name(DisclosureMethod v) { return kDisclosureMethods[static_cast<int>(v)]; }
const char* Name(JobState v) { return kJobStates[static_cast<int>(v)]; }

std::optional<RequestType> ParseRequestType(std::string_view s) {
  return ParseName<RequestType>(kRequestTypes, s);
}
std::optional<LegalBasis> ParseLegalBasis(std::string_view s) {
  return ParseName<LegalBasis>(kLegalBases, s);
}
std::optional<RequestState> ParseRequestState(std::string_view s) {
  return ParseName<RequestState>(kRequestStates, s);
}
std::optional<VerificationStep> ParseVerificationStep(std::string_view s) {
  return ParseName<VerificationStep>(kVerificationSteps, s);
}
std::optional<ExportState> ParseExportState(std::string_view s) {
  return ParseName<ExportState>(kExportStates, s);
}
std::optional<DisclosureMethod> ParseDisclosureMethod(std::string_view s) {
  return ParseName<DisclosureMethod>(kDisclosureMethods, s);
}
std::optional<JobState> ParseJobState(std::string_view s) {
  return ParseName<JobState>(kJobStates, s);
}

}  // namespace custodian::records
