// Row types for people: users, their camera permissions and their login sessions.
//
// Password hashes and session token hashes are produced by the caller (api/); this module
// stores them and never sees a password or a raw session token.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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

struct SessionRow {
  std::string token_hash;  // SHA-256 hex of the cookie's token, never the token itself
  int64_t user_id = 0;
  UtcMicros created;    // stamped
  UtcMicros last_seen;  // stamped
  std::string csrf_token;
  std::string client;  // remote address and user agent, for the access log
};

}  // namespace custodian::records
