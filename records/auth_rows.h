// Row types for people: users, their camera permissions and their login sessions.
//
// Password hashes and session token hashes are produced by the caller (api/); this module
// stores them and never sees a password or a raw session token.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/time.h"
#include "records/rows.h"

namespace custodian::records {

struct UserRow {
  int64_t id = 0;
  std::string name;  // unique, compared case-insensitively
  Role role = Role::kStaff;
  std::string password_hash;
  bool disabled = false;
  bool must_change_password = true;
  int failed_logins = 0;
  std::optional<UtcMicros> locked_until;
  UtcMicros created;  // stamped
};

struct NewUser {
  std::string name;
  Role role = Role::kStaff;
  std::string password_hash;
  bool must_change_password = true;
};

// A grant of the manager, DPO or admin role made through the API: it takes effect only
// when a second privileged person confirms it (schema v5).
enum class GrantState { kPending, kConfirmed, kRefused, kSuperseded };
const char* Name(GrantState v);
std::optional<GrantState> ParseGrantState(std::string_view s);

struct RoleGrantRow {
  int64_t id = 0;
  int64_t user_id = 0;
  Role role = Role::kManager;
  int64_t requested_by = 0;
  UtcMicros requested;  // stamped
  GrantState state = GrantState::kPending;
  std::optional<int64_t> decided_by;  // none for a superseded grant
  std::optional<UtcMicros> decided;
};

struct SessionRow {
  std::string token_hash;  // SHA-256 hex of the cookie's token, never the token itself
  int64_t user_id = 0;
  UtcMicros created;    // stamped
  UtcMicros last_seen;  // stamped
  std::string csrf_token;
  std::string client;  // remote address and user agent, for the access log
};

}  // namespace custodian::records
