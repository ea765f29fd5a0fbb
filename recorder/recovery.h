// Recovery: run once when the recorder starts, before any camera records, to put records and
// disk back in agreement after a crash or power loss (docs/design/recording.md).
//   1. Each row left `recording` is finished from its file: the file is trimmed to its last
//      whole fragment, read back for duration and codec, hashed, and the row finalised.
//      A row whose file holds no whole fragment, or has no file, has no footage: its file
//      (if any) is moved to <footage>/quarantine/ and the row removed, and this is reported.
//   2. Each footage file without a row is adopted (trimmed, probed, hashed, inserted as
//      `complete`) when it plays, or moved to quarantine when it does not. Nothing is
//      deleted.
//   3. Each segment that recorded footage but may lack its activity index (one finished in
//      step 1, one adopted in step 2, and each camera's newest complete segment, which a crash
//      may have cut between closing it and writing its index) gets its index rebuilt from
//      the file when it has none that reads (activity/footage_index.h). An index that cannot
//      be rebuilt is reported in the notes; the footage is kept either way.
#pragma once

#include <string>
#include <vector>

#include "base/filesystem.h"
#include "records/database.h"

namespace custodian::recorder {

struct RecoveryReport {
  int finished = 0;        // `recording` rows finalised from their files
  int emptied = 0;         // `recording` rows with no footage, removed (files quarantined)
  int adopted = 0;         // files without rows, now indexed
  int quarantined = 0;     // files moved to quarantine/
  int indexed = 0;         // activity indexes rebuilt from footage
  int64_t trimmed_bytes = 0;
  std::vector<std::string> notes;  // one line per action, for the log and `check`
};

struct RecoveryOptions {
  // Rebuild missing activity indexes (step 3); the site's recorder.activity_index.
  bool activity_index = true;
};

// data_dir holds footage/; segment paths in the records are relative to data_dir.
Result<RecoveryReport> RecoverFootage(records::Database& db, Filesystem& fs,
                                      const std::string& data_dir,
                                      const RecoveryOptions& options = {});

// Parses "20261125T035752.123Z.mp4" (or without millis) into its UTC start.
bool ParseSegmentFileName(const std::string& name, UtcMicros* start);

}  // namespace custodian::recorder
