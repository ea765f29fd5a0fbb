// The sign-off of a redacted package: the one way a redaction of an export becomes signed
// off, for the API (POST /api/v1/redactions/{id}/sign-off) and the CLI (`custodian redact
// sign-off`) alike, with the same manifest, signature and access-log row.
//
// A sign-off needs a note and every flagged range confirmed as checked. It writes into the
// redacted package redaction-manifest.json (what was redacted, from which signed export
// manifest, every file's hash and size, the reviewer's name and role, the time, the note and
// the ranges checked), its minisign signature (.minisig) and the public key, then records
// the sign-off. In order:
//
//   1. Check, with short reads: the reviewer's account is active and a manager's (with the
//      camera permission for every camera of the export) or the DPO's, the redaction exists, is
//      done and not signed off, the note is not blank, `checked` names exactly the flagged ranges.
//   2. Lock the package (flock on its directory): sign-offs of one package, from any thread
//      or process, run one at a time. Read the row again: still not signed off.
//   3. Outside the records lock: load the signing key, hash every file of the package
//      (read once, in pieces, through the Filesystem seam), build and sign the manifest,
//      write the manifest, signature and public key each atomically (temporary, fsync,
//      rename), fsync the package's directory, remove a tar made for an earlier download.
//   4. One short transaction: the record's sign_off (note, reviewer, ranges, the manifest's
//      hash), the row's sign-off, the export marked redacted, and the access-log row
//      (action redaction_sign_off, "redaction R of export E signed off").
//
// Invariants: a signed-off row's package holds the manifest whose hash its record names
// (after 4 nobody writes it again: step 2 refuses); a redacted package goes out only when
// its row is signed off and its manifest exists (SignedOffRedaction). A crash between 3
// and 4 leaves a manifest in an unsigned-off package, which nothing serves; the next
// sign-off replaces it.
//
// Errors: kNotFound (no such redaction or reviewer), kPermissionDenied (the reviewer's
// account is disabled, neither a manager's nor the DPO's, or a manager's without the
// permission for a camera of the export), kFailedPrecondition (not
// done, or signed off already), kInvalidArgument (blank note, a flagged range not confirmed, or a
// confirmed range that is not flagged), and the Filesystem's and records' own kinds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/filesystem.h"
#include "base/time.h"
#include "records/database.h"

namespace custodian::jobs {

// Who signs and what they checked. The manifest names the reviewer by the account's name
// and role as they are at the time.
struct RedactionSignOff {
  int64_t reviewer_id = 0;
  std::string note;
  std::vector<std::string> checked;  // FlaggedRangeId of each range confirmed as checked
  UtcMicros now;
  std::string client;  // the access-log row's client: an address, or the CLI
};

inline constexpr char kSignOffAction[] = "redaction_sign_off";

struct SignOffPaths {
  std::string data_dir;
  std::string keys_dir;
};

Status SignOffRedaction(records::Database& db, Filesystem& fs, const SignOffPaths& paths,
                        int64_t redaction_id, const RedactionSignOff& sign_off);

}  // namespace custodian::jobs
