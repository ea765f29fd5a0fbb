// Signing: the appliance's Ed25519 export-signing key and minisign-compatible signatures.
//
// An export's manifest.json is signed so that a recipient can check it with nothing but
// the minisign tool and the charity's published public key:
//
//   minisign -Vm manifest.json -P RWQ...
//
// Formats (https://jedisct1.github.io/minisign/):
//   public key  "untrusted comment: ...\n" + base64("Ed" || key_id[8] || pk[32]) + "\n"
//   signature   "untrusted comment: ...\n" + base64("ED" || key_id[8] || sig[64]) + "\n"
//               "trusted comment: TEXT\n" + base64(global_sig[64]) + "\n"
// where sig signs BLAKE2b-512(file) ("ED", pre-hashed: minisign's default since 0.10) and
// global_sig signs sig || TEXT, so the trusted comment cannot be changed either. Legacy
// "Ed" signatures (over the file itself) are verified too.
//
// The key pair lives in KeysDir: export-signing.key (ours, mode 0600: base64 of
// "Ed" || key_id || libsodium's 64-byte secret key) and export-signing.pub (minisign
// format). It is made on first use, through the Filesystem seam (WriteNewFileAtomically: a
// synced temporary linked into place, so a failed write leaves no key); two processes racing
// to make it agree on one (the link fails if the file exists).
//
// Thread-safe: a SigningKey is immutable after loading.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "base/filesystem.h"
#include "base/status.h"

namespace custodian::exports {

struct PublicKey {
  std::array<uint8_t, 8> key_id{};
  std::array<uint8_t, 32> pk{};

  // minisign's spelling of the key id: 16 upper-case hex digits.
  std::string KeyIdHex() const;
  // The base64 line, as given to `minisign -P`.
  std::string Base64() const;
  // The whole .pub file.
  std::string FileText() const;
};

// Accepts a .pub file's text or its base64 line alone.
Result<PublicKey> ParsePublicKey(const std::string& text);

class SigningKey {
 public:
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  SigningKey(SigningKey&&) noexcept;
  ~SigningKey();  // wipes the secret key

  // Loads the key from keys_dir, making the pair first if there is none. The key is read
  // through fs; a key that is there but cannot be read is an error, never replaced.
  static Result<SigningKey> LoadOrCreate(const std::string& keys_dir,
                                         Filesystem& fs = PosixFilesystem::Instance());
  // Loads an existing key; kNotFound if there is none, the read's own error (kIo, ...)
  // naming the file when it cannot be read, kDataLoss when it is not a key.
  static Result<SigningKey> Load(const std::string& keys_dir,
                                 Filesystem& fs = PosixFilesystem::Instance());

  const PublicKey& public_key() const { return public_; }
  // A minisign signature file (pre-hashed) of data. The trusted comment must be one line.
  std::string Sign(const std::string& data, const std::string& trusted_comment) const;

 private:
  SigningKey() = default;
  PublicKey public_;
  std::array<uint8_t, 64> secret_{};
};

std::string SecretKeyPath(const std::string& keys_dir);
std::string PublicKeyPath(const std::string& keys_dir);

struct SignatureCheck {
  bool ok = false;
  std::string reason;           // why it failed
  std::string trusted_comment;  // when ok
  std::string key_id;           // the key id named by the signature
};

// Checks a minisign signature of data. A malformed signature is an ok Result with
// ok == false and the reason.
SignatureCheck VerifyMinisign(const PublicKey& key, const std::string& data,
                              const std::string& signature_text);

}  // namespace custodian::exports
