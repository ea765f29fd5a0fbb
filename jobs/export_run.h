// ExportJobRunner: builds the packages of queued export jobs (exports/export_jobs.h queues
// and cancels them), one at a time, on the JobRunner skeleton (jobs/runner.h).
//
// For each job:
//   1. remove <data>/exports/<id>/ if an earlier attempt left it (a clean restart);
//   2. build into <data>/exports/<id>/export-<id>.partial/ (exports::BuildPackage), checking
//      the job's cancel flag between segments and reporting progress;
//   3. rename the package to <data>/exports/<id>/export-<id>/ (fsynced);
//   4. in one transaction: the export becomes ready (path exports/<id>, bytes, manifest
//      hash, key id, expiry), the request becomes export_prepared, an access-log entry per
//      camera range records the export, and the job succeeds.
// A crash anywhere before 4 leaves the job running; RecoverAfterRestart (at start-up, before
// any RunNext) puts it back in the queue and the next attempt starts again at 1. A crash
// after 4 leaves nothing to redo. A failed or cancelled build removes its directory and
// marks the export failed with the reason.
#pragma once

#include <cstdint>
#include <string>

#include "base/clock.h"
#include "base/filesystem.h"
#include "base/zoneinfo.h"
#include "exports/builder.h"
#include "exports/export_jobs.h"
#include "jobs/runner.h"
#include "records/database.h"

namespace custodian::jobs {

class ExportJobRunner final : public JobRunner {
 public:
  ExportJobRunner(records::Database& db, Filesystem& fs, const Clock& clock,
                  exports::ExportServiceOptions options,
                  const TimeZone& zone = TimeZone::UkLocal());

 private:
  Status Run(const records::JobRow& job, int64_t export_id) override;
  Status Finish(const records::JobRow& job, const records::ExportRow& e,
                const exports::ExportPlan& plan, const exports::BuildResult& built);
  Status Fail(const records::JobRow& job, int64_t export_id, const Status& why, bool cancelled);

  Filesystem& fs_;
  const Clock& clock_;
  const exports::ExportServiceOptions options_;
  const TimeZone& zone_;
};

}  // namespace custodian::jobs
