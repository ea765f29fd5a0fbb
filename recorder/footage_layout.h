// The footage directory's layout, walked the same way by recovery and `check`:
// <data_dir>/footage/<camera>/<YYYY-MM-DD>/<file>, and footage/quarantine/<file> for files
// that recovery found unplayable.
#pragma once

#include <string>
#include <vector>

#include "base/filesystem.h"

namespace custodian::recorder {

struct FootageFile {
  std::string rel;     // relative to data_dir: footage/<camera>/<day>/<name>
  std::string camera;
  std::string name;
};

// Every footage file, and every quarantined file (paths relative to data_dir). A missing
// footage directory yields nothing.
void ListFootageFiles(Filesystem& fs, const std::string& data_dir, std::vector<FootageFile>* files,
                      std::vector<std::string>* quarantined);

}  // namespace custodian::recorder
