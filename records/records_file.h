// Whole-file calls on a records database, for backup and restore: a consistent copy of the
// live file, and an inspection of a copy before it is restored. These open their own
// read-only SQLite connections and need no Database; nothing outside records/ touches
// SQLite (app/verb_backup.cpp uses these).
//
// Errors: kIo (a file cannot be opened or copied; SQLite's message), kDataLoss (damaged,
// or not a records database), kFailedPrecondition (a schema newer than this build knows).
#pragma once

#include <string>

#include "base/status.h"

namespace custodian::records {

// Copies the records database at `from` into a new file `to` with SQLite's online backup,
// in one read transaction: services may keep writing `from` meanwhile (WAL). Retried while
// another connection holds a conflicting lock, for about five seconds.
Status SnapshotRecordsFile(const std::string& from, const std::string& to);

struct RecordsFileInfo {
  int schema_version = 0;
  // The access log's newest entry as "ENTRY HASH"; "0 " and the genesis hash when empty.
  std::string access_log_head;
};

// Checks a records file read-only: SQLite finds it sound (quick_check), it is a records
// database, at a schema version this build knows; and reads its access log's head.
Result<RecordsFileInfo> InspectRecordsFile(const std::string& path);

}  // namespace custodian::records
