// SiteContext: what every verb that works on a site opens first: the checked site config,
// the records database (migrated), and the clock and filesystem seams.
#pragma once

#include <memory>
#include <string>

#include "app/verbs.h"
#include "base/clock.h"
#include "base/filesystem.h"
#include "config/site_config.h"
#include "records/database.h"

namespace custodian {

// <data_dir>/records.lock: every process that opens a site's records holds a shared flock
// on it for as long as it has them open, and `custodian restore` holds it exclusively while
// it switches the data directory, so that a service started during a restore
// waits for it instead of opening records that are about to be replaced.
inline constexpr char kRecordsLockName[] = "records.lock";

// Takes the shared lock, waiting while a restore holds it; the descriptor to keep open.
// Locks the file at the path when the lock is granted: if the data directory was switched
// while this waited, the new one's.
Result<int> TakeRecordsLock(const std::string& data_dir);

class SiteContext {
 public:
  // Loads the site file, creates data_dir and its footage/ if missing, takes the records
  // lock and opens records.db.
  static Result<std::unique_ptr<SiteContext>> Open(const GlobalOptions& opts);
  ~SiteContext();

  config::SiteConfig site;
  records::Database& db() { return *db_; }
  Filesystem& fs() { return PosixFilesystem::Instance(); }
  const Clock& clock() { return SystemClock::Instance(); }

 private:
  int records_lock_ = -1;  // declared before db_: released after the records are closed
  std::unique_ptr<records::Database> db_;
};

// Prints why a site could not be opened and returns the exit code for it.
int ReportOpenError(const Status& st);

}  // namespace custodian
