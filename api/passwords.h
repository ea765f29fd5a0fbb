// Password hashing with Argon2id (libsodium crypto_pwhash_str, ALG_ARGON2ID13).
//
// The stored string carries its own algorithm and cost parameters, so a hash made with one
// cost verifies whatever the current default is. Hashing and verifying at the interactive
// cost take about 64 MiB and tens of milliseconds each: callers that may run many at once
// (the login handler) bound their concurrency. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace custodian::api {

enum class PasswordCost {
  kInteractive,  // libsodium's OPSLIMIT/MEMLIMIT_INTERACTIVE: for every real account
  kTestMinimal,  // the lowest Argon2id allows: for tests only
};

inline constexpr size_t kMinPasswordChars = 10;
inline constexpr size_t kMaxPasswordBytes = 1024;

// kInvalidArgument naming the rule a new password breaks.
Status CheckNewPassword(std::string_view password);
// kResourceExhausted if memory for the hash cannot be had.
Result<std::string> HashPassword(std::string_view password,
                                 PasswordCost cost = PasswordCost::kInteractive);
bool VerifyPassword(const std::string& stored_hash, std::string_view password);

// Cryptographically random bytes as lowercase hex (2 * bytes characters).
std::string RandomHex(size_t bytes);

}  // namespace custodian::api
