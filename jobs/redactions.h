// Redactions of exports: a redacted copy of a ready export, made by a job in `custodian
// serve`'s worker (jobs/redaction_run.h) and signed off by a person before it may go out
// (jobs/sign_off.h; docs/design/redaction.md, "Redacting an export").
//
// QueueRedaction records a redaction row (export_id set; input_sha256 = the export's
// manifest hash; record_json {"state": "queued", "job_id", "request"}) and a job of kind
// "redaction" in one transaction; the caller may wrap it in its own transaction with its
// access-log row. The redacted package lies beside the original:
//
//   <data>/exports/<export>/export-<export>/                  the original, never changed
//   <data>/exports/<export>/export-<export>-redaction-<id>/   the redacted package
//
// The download of a DSAR export serves the newest signed-off one (SignedOffRedaction).
// Nothing here runs the redaction pipeline, so the API links this without OpenCV or dlib.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/filesystem.h"
#include "records/database.h"
#include "redaction/options.h"

namespace custodian::jobs {

inline constexpr char kRedactionJobKind[] = "redaction";
inline constexpr char kRedactionManifestName[] = "redaction-manifest.json";

// The request body of POST /api/v1/exports/{export}/redactions as redaction options;
// kInvalidArgument naming the bad member.
Result<redaction::RedactionOptions> ParseRedactionRequest(const nlohmann::json& body);

// "redaction 3", as log lines and messages name it.
std::string RedactionText(int64_t redaction_id);

// "export-12-redaction-3", and its absolute directory under data_dir.
std::string RedactedPackageName(int64_t export_id, int64_t redaction_id);
std::string RedactedPackageDir(const std::string& data_dir, int64_t export_id,
                               int64_t redaction_id);

// The row's record_json as an object (empty when it is not one).
nlohmann::json RedactionRecord(const records::Database::RedactionRow& row);

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
    records::Database& db, Filesystem& fs, const std::string& data_dir, int64_t export_id);

// A flagged range's id, as the API lists it and a sign-off confirms it: "FILE:FROM-TO",
// the file's index in the record's `files` and the range's first and last frame
// ("0:120-160").
std::string FlaggedRangeId(size_t file_index, const nlohmann::json& range);

}  // namespace custodian::jobs
