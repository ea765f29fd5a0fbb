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

class SiteContext {
 public:
  // Loads the site file, creates data_dir and its footage/ if missing, opens records.db.
  static Result<std::unique_ptr<SiteContext>> Open(const GlobalOptions& opts);

  config::SiteConfig site;
  records::Database& db() { return *db_; }
  Filesystem& fs() { return PosixFilesystem::Instance(); }
  const Clock& clock() { return SystemClock::Instance(); }

 private:
  std::unique_ptr<records::Database> db_;
};

// Prints why a site could not be opened and returns the exit code for it.
int ReportOpenError(const Status& st);

}  // namespace custodian
