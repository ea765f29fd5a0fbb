// Signed checkpoints of the access log's head: the text and its minisign
// signature, made by `custodian audit checkpoint`, the retain service's daily one
// (app/access_checkpoint.h writes them to files) and the DPO's download from the web UI
// (POST /api/v1/access-log/checkpoint). A checkpoint is
//
//   custodian access-log checkpoint 1
//   site: NAME
//   entry: N
//   hash: SHA-256 hex of entry N
//   made_utc: 2026-...Z
//
// signed by the export-signing key (trusted comment: the entry and hash again).
// `custodian audit verify --checkpoint FILE` checks a log against it; `minisign -Vm FILE -p
// export-signing.pub` checks the signature alone.
#pragma once

#include <string>

#include "base/time.h"
#include "exports/signing.h"
#include "records/database.h"

namespace custodian::exports {

inline constexpr char kCheckpointTitle[] = "custodian access-log checkpoint 1";

struct AccessCheckpoint {
  records::AccessLogAnchor head;
  std::string text;     // the checkpoint file
  std::string minisig;  // its .minisig file
};

// Verifies the whole chain (a chain that does not verify is not vouched for: kDataLoss),
// then signs its head.
Result<AccessCheckpoint> MakeAccessCheckpoint(records::Database& db, const SigningKey& key,
                                              const std::string& site_name, UtcMicros now);

// Writes the checkpoint as path and its signature as path + ".minisig" through fs, each
// whole or not at all (WriteNewFileAtomically, mode 0644), the signature first so that a
// checkpoint file is never without one. Never replaces a file: kAlreadyExists when either
// exists. When the checkpoint cannot be written, the signature just written is removed.
Status WriteAccessCheckpointFiles(Filesystem& fs, const std::string& path,
                                  const AccessCheckpoint& checkpoint);

}  // namespace custodian::exports
