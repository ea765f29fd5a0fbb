// Redacting a video file: decode, detect, track, mask, encode H.264, mux MP4.
//
//   RedactionOptions o;                      // mode faces, solid masks
//   auto r = RedactVideo("in.mp4", "out.mp4", o, progress);
//
// The input is only read. The output is written under a temporary name in the output's
// directory and renamed to `out` only when every frame was decoded, analysed, masked and
// encoded, so a failure (detectors missing, a frame that does not decode, a full disk) leaves
// no output at all. The record (RedactionRecord::json) describes what was done; the caller
// writes it (see WriteRecordFile) beside the output.
//
// Three threads: the caller's encodes and writes, one decodes, one runs the detectors and
// the tracker a few frames ahead (Tracker::Lookahead). keep-subject mode reads the input
// twice: the subject, picked at one moment, is followed backwards as well as forwards.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "base/filesystem.h"
#include "base/status.h"
#include "redaction/options.h"

namespace custodian::redaction {

struct RedactionRecord {
  nlohmann::json json;      // the redaction record (OUT.redaction.json)
  std::string input_sha256;
  std::string output_sha256;
  int64_t frames = 0;
  int64_t frames_masked = 0;
  int64_t frames_flagged = 0;
  double seconds = 0;       // wall time of the run
};

// Called with frames done and frames expected (0 when unknown), from the encoding thread.
using ProgressFn = std::function<void(int64_t done, int64_t total)>;

Result<RedactionRecord> RedactVideo(const std::string& input, const std::string& output,
                                    const RedactionOptions& options,
                                    const ProgressFn& progress = nullptr);

// Writes the record to `path` through fs with WriteFileAtomically: on failure `path` is as it
// was and no temporary is left.
Status WriteRecordFile(const std::string& path, const nlohmann::json& record,
                       Filesystem& fs = PosixFilesystem::Instance());

}  // namespace custodian::redaction
