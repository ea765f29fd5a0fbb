// FootageCheck: compares the records with the footage on disk, read-only. Used by
// `custodian check`: every complete segment must have its file with the recorded size (and,
// with verify_hashes, the recorded SHA-256); every footage file must have a row.
#pragma once

#include <string>
#include <vector>

#include "base/filesystem.h"
#include "records/database.h"

namespace custodian::recorder {

struct FootageCheckReport {
  int64_t segments = 0;
  int64_t files = 0;
  std::vector<std::string> problems;  // each a mismatch; empty means records and disk agree
  std::vector<std::string> notes;     // open segments, quarantined files: worth knowing
};

Result<FootageCheckReport> CheckFootage(records::Database& db, Filesystem& fs,
                                        const std::string& data_dir, bool verify_hashes);

}  // namespace custodian::recorder
