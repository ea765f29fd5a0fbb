// Export jobs: starting, running, cancelling and recovering the export of an approved
// footage request, and the encrypted copy for removable media.
//
// RequestExport records an export (state building) and queues a job for it in one
// transaction. ExportJobRunner claims queued jobs and builds each package:
//
//   1. remove <data>/exports/<id>/ if an earlier attempt left it (a clean restart);
//   2. build into <data>/exports/<id>/export-<id>.partial/ (BuildPackage), checking the
//      job's cancel flag between segments and reporting progress;
//   3. rename the package to <data>/exports/<id>/export-<id>/ (fsynced);
//   4. in one transaction: the export becomes ready (path exports/<id>, bytes, manifest
//      hash, key id, expiry), the request becomes export_prepared, an access-log entry per
//      camera range records the export, and the job succeeds.
// A crash anywhere before 4 leaves the job running; RecoverAfterRestart (at start-up, before
// any RunNext) puts it back in the queue and the next attempt starts again at 1. A crash
// after 4 leaves nothing to redo. A failed or cancelled build removes its directory and
// marks the export failed with the reason.
//
// One runner per process; RunNext may be called from one worker thread while others call
// RequestExport and CancelExport (all state is in the records).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/filesystem.h"
#include "base/zoneinfo.h"
#include "exports/builder.h"
#include "records/database.h"

namespace custodian::exports {

inline constexpr char kExportJobKind[] = "export";

struct ExportServiceOptions {
  std::string data_dir;
  std::string keys_dir;
  std::string site_name;
  int64_t expiry_us = 30 * kMicrosPerDay;  // an export's files are deleted this long after
  BuildOptions build;
  std::string worker = "custodian";  // names the claimant in the jobs table
};

struct ExportTicket {
  int64_t export_id = 0;
  int64_t job_id = 0;
};

// Queues an export of every range of an approved request. kFailedPrecondition unless the
// request is approved (or already exported or disclosed: a fresh copy). burned_in_copy asks
// for a re-encoded copy of each working copy with the time drawn in (burned_copy.h); it is
// kept in the job's parameters.
Result<ExportTicket> RequestExport(records::Database& db, int64_t request_id, int64_t by,
                                   bool include_originals, bool burned_in_copy = false);
// Cancels the export's job: at once if queued, at the next segment if running.
Result<records::JobState> CancelExport(records::Database& db, int64_t export_id);

// The relative path of an export's directory, and of its package inside it.
std::string ExportDirRelative(int64_t export_id);  // "exports/12"
std::string PackageName(int64_t export_id);        // "export-12"

class ExportJobRunner {
 public:
  ExportJobRunner(records::Database& db, Filesystem& fs, const Clock& clock,
                  ExportServiceOptions options, const TimeZone& zone = TimeZone::UkLocal());

  // Requeues export jobs left running by a process that died; returns how many.
  Result<int> RecoverAfterRestart();
  // Claims and runs the oldest queued export job. Returns its id, or nullopt when the
  // queue is empty. A build that fails is recorded (job failed, export failed) and is not
  // an error here; errors are the records' own.
  Result<std::optional<int64_t>> RunNext();
  // Runs jobs until stop is set, sleeping idle_us (on the clock) when the queue is empty.
  void RunUntilStopped(const std::atomic<bool>& stop, int64_t idle_us = kMicrosPerSecond);

 private:
  Status Execute(const records::JobRow& job, int64_t export_id);
  Status Finish(const records::JobRow& job, const records::ExportRow& e, const ExportPlan& plan,
                const BuildResult& built);
  Status Fail(const records::JobRow& job, int64_t export_id, const Status& why, bool cancelled);

  records::Database& db_;
  Filesystem& fs_;
  const Clock& clock_;
  const ExportServiceOptions options_;
  const TimeZone& zone_;
};

struct RemovableMediaCopy {
  std::string zip_path;  // absolute
  std::string password;  // shown once to the caller, stored nowhere
};

// Makes (or remakes, with a new password) the AES-256 zip of a ready export, beside its
// package. Only a manager or the DPO may; the copy is recorded in the access log. The zip
// holds the folder `package` of the export's directory (default: the package itself); a
// `package` other than the default must be the export's signed-off redacted package
// (api/redaction_jobs.h). The copy leaves the box, so requests::CheckExportMayLeave decides
// (kFailedPrecondition with its reason): not for an expired export or a withdrawn, refused or
// closed request, and a DSAR's own package (third parties unredacted) only with a recorded
// justification (Workflow::JustifyUnredactedRelease).
Result<RemovableMediaCopy> MakeRemovableMediaCopy(records::Database& db, Filesystem& fs,
                                                  const std::string& data_dir, int64_t export_id,
                                                  int64_t by, const std::string& package = "");

// Removes a directory tree through the Filesystem seam (missing is fine).
Status RemoveTree(Filesystem& fs, const std::string& path);

}  // namespace custodian::exports
