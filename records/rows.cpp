#include "records/rows.h"

#include <cstddef>
#include "records/enum_names.h"

namespace custodian::records {

namespace {

// Each table lists the stored names in enum order.
constexpr const char* kSegmentStates[] = {"recording", "complete", "deleting"};
constexpr const char* kGapReasons[] = {"camera_offline", "recorder_stopped", "crash",
                                       "stall",          "auth_failed",      "error"};
constexpr const char* kRoles[] = {"staff", "manager", "dpo", "admin"};
constexpr const char* kAccessResults[] = {"ok", "denied", "error"};
constexpr const char* kDeletionRules[] = {"max_age", "disk_pressure", "quota", "export_expiry",
                                          "manual"};

using internal::ParseName;

}  // namespace

const char* Name(SegmentState v) { return kSegmentStates[static_cast<int>(v)]; }
const char* Name(GapReason v) { return kGapReasons[static_cast<int>(v)]; }
const char* Name(Role v) { return kRoles[static_cast<int>(v)]; }
const char* Name(AccessResult v) { return kAccessResults[static_cast<int>(v)]; }
const char* Name(DeletionRule v) { return kDeletionRules[static_cast<int>(v)]; }

std::optional<SegmentState> ParseSegmentState(std::string_view s) {
  return ParseName<SegmentState>(kSegmentStates, s);
}
std::optional<GapReason> ParseGapReason(std::string_view s) {
  return ParseName<GapReason>(kGapReasons, s);
}
std::optional<Role> ParseRole(std::string_view s) { return ParseName<Role>(kRoles, s); }
std::optional<AccessResult> ParseAccessResult(std::string_view s) {
  return ParseName<AccessResult>(kAccessResults, s);
}
std::optional<DeletionRule> ParseDeletionRule(std::string_view s) {
  return ParseName<DeletionRule>(kDeletionRules, s);
}

}  // namespace custodian::records
