// Signed checkpoints of the access log's head (`custodian audit checkpoint`, and the daily
// one the retain service writes). A checkpoint is a small text file
//
//   custodian access-log checkpoint 1
//   site: NAME
//   entry: N
//   hash: SHA-256 hex of entry N
//   made_utc: 2026-...Z
//
// and beside it FILE.minisig, its minisign signature by the export-signing key (trusted
// comment: the entry and hash again). `custodian audit verify --checkpoint FILE` checks a log
// against it; `minisign -Vm FILE -p export-signing.pub` checks the signature alone.
#pragma once

#include <string>

#include "app/site_context.h"
#include "exports/access_checkpoint.h"
#include "records/access_log.h"

namespace custodian {

using exports::kCheckpointTitle;

struct CheckpointWritten {
  std::string path;
  records::AccessLogAnchor head;
};

// Verifies the whole chain (a chain that does not verify is not vouched for), then writes
// the head's checkpoint to out, or to <data_dir>/checkpoints/access-log-<UTC time>.txt when
// out is empty. Never overwrites a file. kNotFound when there is no signing key.
Result<CheckpointWritten> WriteAccessCheckpoint(SiteContext& ctx, std::string out);

// The day's checkpoint, <data_dir>/checkpoints/access-log-daily-<UTC date>.txt, unless it
// exists already; the path written, or "" when there was nothing to do.
Result<std::string> WriteDailyCheckpoint(SiteContext& ctx);

}  // namespace custodian
