// Export jobs: queueing and cancelling the export of an approved footage request, and the
// encrypted copy for removable media.
//
// RequestExport records an export (state building) and queues a job of kind "export" for it
// in one transaction. The job is built by jobs::ExportJobRunner (jobs/export_run.h) in
// `custodian serve`'s worker or `custodian export run`; CancelExport asks it to stop.
// These calls may be made from any thread while a runner works (all state is in the
// records).
#pragma once

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

struct RemovableMediaCopy {
  std::string zip_path;  // absolute
  std::string password;  // shown once to the caller, stored nowhere
};

// Makes (or remakes, with a new password) the AES-256 zip of a ready export, beside its
// package. Only a manager or the DPO may; the copy is recorded in the access log. The zip
// holds the folder `package` of the export's directory (default: the package itself); a
// `package` other than the default must be the export's signed-off redacted package
// (jobs/redactions.h). The copy leaves the box, so requests::CheckExportMayLeave decides
// (kFailedPrecondition with its reason): not for an expired export or a withdrawn, refused or
// closed request, and a DSAR's own package (third parties unredacted) only with a recorded
// justification (Workflow::JustifyUnredactedRelease).
Result<RemovableMediaCopy> MakeRemovableMediaCopy(records::Database& db, Filesystem& fs,
                                                  const std::string& data_dir, int64_t export_id,
                                                  int64_t by, const std::string& package = "");

// Removes a directory tree through the Filesystem seam (missing is fine).
Status RemoveTree(Filesystem& fs, const std::string& path);

// Whether an export job's parameters ask for a burned-in working copy (RequestExport).
bool BurnedInCopyAsked(const std::string& params);

}  // namespace custodian::exports
