#include "api/passwords.h"

#include <sodium.h>

#include <cstdlib>
#include <vector>

#include "base/sha256.h"

namespace custodian::api {

namespace {

void InitSodium() {
  // sodium_init is idempotent and thread-safe; it fails only without an entropy source.
  static const int rc = sodium_init();
  if (rc < 0) std::abort();
}

}  // namespace

Status CheckNewPassword(std::string_view password) {
  size_t chars = 0;
  for (char c : password) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++chars;
  }
  if (chars < kMinPasswordChars) {
    return InvalidArgument("a password needs at least " + std::to_string(kMinPasswordChars) +
                           " characters");
  }
  if (password.size() > kMaxPasswordBytes) {
    return InvalidArgument("a password may have at most " + std::to_string(kMaxPasswordBytes) +
                           " bytes");
  }
  return Status::Ok();
}

Result<std::string> HashPassword(std::string_view password, PasswordCost cost) {
  InitSodium();
  const bool test = cost == PasswordCost::kTestMinimal;
  const unsigned long long ops =
      test ? crypto_pwhash_argon2id_OPSLIMIT_MIN : crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
  const size_t mem =
      test ? crypto_pwhash_argon2id_MEMLIMIT_MIN : crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
  char out[crypto_pwhash_argon2id_STRBYTES];
  if (crypto_pwhash_argon2id_str(out, password.data(), password.size(), ops, mem) != 0) {
    return ResourceExhausted("out of memory hashing a password");
  }
  return std::string(out);
}

bool VerifyPassword(const std::string& stored_hash, std::string_view password) {
  InitSodium();
  if (stored_hash.rfind("$argon2id$", 0) != 0) return false;
  return crypto_pwhash_argon2id_str_verify(stored_hash.c_str(), password.data(), password.size()) ==
         0;
}

std::string RandomHex(size_t bytes) {
  InitSodium();
  std::vector<uint8_t> buf(bytes);
  randombytes_buf(buf.data(), buf.size());
  return ToHex(buf.data(), buf.size());
}

}  // namespace custodian::api
