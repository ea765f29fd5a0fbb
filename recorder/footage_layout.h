// The footage directory's layout, walked the same way by recovery and `check`:
// <data_dir>/footage/<camera>/<YYYY-MM-DD>/<file>, and footage/quarantine/<file> for files
// that recovery found unplayable. Beside each segment "<start>.mp4" may lie its activity
// index "<start>.activity" (activity/activity_file.h), and in each day directory the day's
// digest of those indexes "day.activity" (activity/day_digest.h); neither is footage of its
// own.
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
// footage directory yields nothing. Activity indexes (and their temporaries) are not
// listed in files; they go to `indexes` when it is given.
void ListFootageFiles(Filesystem& fs, const std::string& data_dir, std::vector<FootageFile>* files,
                      std::vector<std::string>* quarantined,
                      std::vector<FootageFile>* indexes = nullptr);

// True for "<start>.activity", the day digest "day.activity" and their temporaries
// ("….activity.tmp").
bool IsActivityIndexName(const std::string& name);

}  // namespace custodian::recorder
