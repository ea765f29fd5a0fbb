// Removing an export package's files: a single file or a directory tree. Each file is
// hashed before it is unlinked, so that the deletion record can say what was deleted.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/filesystem.h"

namespace custodian::retention {

struct RemovedFiles {
  int64_t files = 0;
  int64_t bytes = 0;
  std::vector<std::string> sha256s;
  std::vector<std::string> failures;  // one line per file or directory that stayed
};

// Hashes and unlinks every file at abs_path (a missing path has nothing to remove),
// fsyncs each directory that lost an entry, and removes the emptied directories from the
// bottom up, abs_path included.
void RemoveExportFiles(Filesystem& fs, const std::string& abs_path, RemovedFiles* out);

}  // namespace custodian::retention
