// VerifyPackage: checks an export package as `custodian export verify` does: the minisign
// signature of manifest.json, then the size and SHA-256 of every file it lists. Files in
// the package that the manifest does not list are reported as warnings (an operating
// system may add its own), never as verified.
//
// Which public key: the caller's (the appliance's own key, or one given on the command
// line) when there is one; otherwise the copy in the package, which proves only that the
// package is self-consistent, and the report says so.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "exports/signing.h"

namespace custodian::exports {

struct PackageVerification {
  bool ok = false;
  bool signature_ok = false;
  std::string key_id;  // of the key the signature was checked against
  bool key_from_package = false;
  std::string trusted_comment;
  std::string reference;  // the request reference in the manifest
  std::string created_utc;
  int files_checked = 0;
  int64_t bytes_checked = 0;
  std::vector<std::string> problems;  // each a reason the package does not verify
  std::vector<std::string> warnings;
};

// Files are read through fs. A file that cannot be read is a problem naming it and the
// reason (a read error is never taken for a missing or altered file). A non-ok Result only
// when the package cannot be examined at all (no such directory).
Result<PackageVerification> VerifyPackage(const std::string& dir,
                                          const std::optional<PublicKey>& trusted_key,
                                          Filesystem& fs = PosixFilesystem::Instance());

}  // namespace custodian::exports
