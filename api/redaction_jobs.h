// Redaction jobs: a redacted copy of a ready export, made by `custodian serve`'s worker and
// signed off by a person before it may go out (docs/design/redaction.md, "Redacting an
// export").
//
// QueueRedaction records a redaction row (export_id set; input_sha256 = the export's
// manifest hash; record_json {"state": "queued", "job_id", "request"}) and a job of kind
// "redaction" in one transaction. RedactionJobRunner claims queued jobs and, for each video
// file listed in the export's manifest, runs the redaction pipeline (redaction/redactor.h)
// from the original package into a separate package beside it:
//
//   <data>/exports/<export>/export-<export>/                  the original, never changed
//   <data>/exports/<export>/export-<export>-redaction-<id>/   the redacted package:
//       redacted/<video path>                 H.264 MP4 with the masks burnt in
//       redacted/<video path>.redaction.json  the pipeline's record
//       redacted/<video path>.contact.jpg     the contact sheet for review
//       SHA256SUMS                            of the files above
// built under a ".partial" name and renamed when complete; the row's output_sha256 is the
// hash of SHA256SUMS. A crash before the rename leaves the job running: RecoverAfterRestart
// requeues it and the next attempt removes the partial directory and starts again.
//
// Sign-off (SignOffRedactionPackage here) needs a note and every flagged range confirmed as
// checked; it writes redaction-manifest.json (what was redacted, from which signed export
// manifest, every file's hash, the reviewer's name and role, the time, the note and the
// ranges checked) with its
// minisign signature and the public key into the redacted package, records the sign-off and
// marks the export redacted, all in one transaction. The download of a DSAR export then
// serves this package (RedactedPackageFor).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/filesystem.h"
#include "records/database.h"
#include "redaction/options.h"

namespace custodian::api {

inline constexpr char kRedactionJobKind[] = "redaction";
inline constexpr char kRedactionManifestName[] = "redaction-manifest.json";

// The request body of POST /api/v1/exports/{export}/redactions as redaction options;
// kInvalidArgument naming the bad member.
Result<redaction::RedactionOptions> ParseRedactionRequest(const nlohmann::json& body);

// "export-12-redaction-3"
std::string RedactedPackageName(int64_t export_id, int64_t redaction_id);

struct RedactionTicket {
  int64_t redaction_id = 0;
  int64_t job_id = 0;
};
// Queues a redaction of a ready export (kFailedPrecondition otherwise). The body must have
// passed ParseRedactionRequest.
Result<RedactionTicket> QueueRedaction(records::Database& db, const records::ExportRow& e,
                                       const nlohmann::json& body, int64_t by);

// The newest signed-off redaction of an export whose package exists, if any.
Result<std::optional<records::Database::RedactionRow>> SignedOffRedaction(
    records::Database& db, const std::string& data_dir, int64_t export_id);

// A flagged range's id, as the API lists it and a sign-off confirms it: "FILE:FROM-TO",
// the file's index in the record's `files` and the range's first and last frame
// ("0:120-160").
std::string FlaggedRangeId(size_t file_index, const nlohmann::json& range);

// What a reviewer signs: who (name and role as they were at the time), what they checked.
struct RedactionSignOff {
  int64_t reviewer_id = 0;
  std::string reviewer_name;
  records::Role reviewer_role = records::Role::kManager;
  std::string note;
  std::vector<std::string> checked;  // FlaggedRangeId of each range confirmed as checked
  UtcMicros now;
};

// Writes and signs the redaction manifest, records the sign-off and marks the export
// redacted (inside the caller's transaction). kFailedPrecondition unless the job is done
// and the redaction not yet signed off; kInvalidArgument when the note is blank, when a
// flagged range is not among `checked`, or when `checked` names a range that is not flagged.
Status SignOffRedactionPackage(records::Database& db, const std::string& data_dir,
                               const std::string& keys_dir, int64_t redaction_id,
                               const RedactionSignOff& sign_off);

class RedactionJobRunner {
 public:
  RedactionJobRunner(records::Database& db, Filesystem& fs, const Clock& clock,
                     std::string data_dir, std::string worker);
  // Requeues redaction jobs a dead process left running; returns how many.
  Result<int> RecoverAfterRestart();
  // Claims and runs the oldest queued redaction job; nullopt when there is none. A
  // redaction that fails is recorded (job failed, row state failed), not an error here.
  Result<std::optional<int64_t>> RunNext();

 private:
  Status Execute(const records::JobRow& job, int64_t redaction_id);
  Status Fail(const records::JobRow& job, const records::Database::RedactionRow& row,
              const std::string& partial, const Status& why);

  records::Database& db_;
  Filesystem& fs_;
  const Clock& clock_;
  const std::string data_dir_;
  const std::string worker_;
};

}  // namespace custodian::api
