// RedactionJobRunner: runs queued redaction jobs (jobs/redactions.h queues them) on the
// JobRunner skeleton (jobs/runner.h). This is the part of jobs/ that links the redaction
// pipeline (OpenCV, dlib): only `custodian serve`'s worker needs it, not the API.
//
// For each job, for each video file listed in the export's manifest, the pipeline
// (redaction/redactor.h) reads the original package and writes into a separate package:
//
//   <data>/exports/<export>/export-<export>-redaction-<id>/   the redacted package:
//       redacted/<video path>                 H.264 MP4 with the masks burnt in, and the
//                                             working copy's wall-clock subtitle track
//                                             (UK local time once a second, as
//                                             exports/timed_text.h makes it)
//       redacted/<video path>.redaction.json  the pipeline's record
//       redacted/<video path>.contact.jpg     the contact sheet for review
//       player.html                           the recipient's player (exports/player.h),
//                                             checking against redaction-manifest.json
//       README.txt                            what the recipient has; playing, checking
//       SHA256SUMS                            of the files above
//
// built under a ".partial" name and renamed when complete; then one transaction records
// the row's output_sha256 (the hash of SHA256SUMS), its record (state "done", the files and
// their flagged ranges, `package_files`: player, README and SHA256SUMS for the sign-off's
// manifest) and the job's success. A crash before that leaves the job running:
// RecoverAfterRestart requeues it and the next attempt removes the partial directory and
// starts again. A redaction that fails removes its partial directory and records the
// reason (row state failed, job failed).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/filesystem.h"
#include "base/zoneinfo.h"
#include "jobs/runner.h"
#include "records/database.h"
#include "redaction/options.h"

namespace custodian::jobs {

class RedactionJobRunner final : public JobRunner {
 public:
  RedactionJobRunner(records::Database& db, Filesystem& fs, const Clock& clock,
                     std::string data_dir, std::string worker,
                     const TimeZone& zone = TimeZone::UkLocal());

 private:
  // Where one job reads and writes.
  struct Work {
    const records::JobRow& job;
    const records::Database::RedactionRow& row;
    std::string original;  // the export's package
    std::string partial;   // the redacted package while it is built
    std::string final_dir;
  };
  Status Run(const records::JobRow& job, int64_t redaction_id) override;
  // One video: redacted into work.partial, its record and contact sheet beside it; appends
  // its entry to files and its lines to sums.
  Status RedactOne(const Work& work, const redaction::RedactionOptions& options,
                   const std::string& video, size_t index, size_t count, ProgressThrottle& progress,
                   nlohmann::json* files, std::string* sums);
  Status Finish(const Work& work, nlohmann::json record, const nlohmann::json& files,
                const std::string& sums, size_t videos);
  Status Fail(const Work& work, const Status& why);

  Filesystem& fs_;
  const Clock& clock_;
  const std::string data_dir_;
  const TimeZone& zone_;  // the cues' and README's local time
};

}  // namespace custodian::jobs
