// Test helpers for jobs/: a redaction as the worker leaves it when done, without running
// the pipeline, so that tests of the sign-off (and of the API around it) need neither
// OpenCV nor minutes of decoding. The files are stand-ins of the given sizes; the sign-off
// hashes and signs them as it would real ones.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "jobs/redactions.h"
#include "records/database.h"

namespace custodian::jobs::testing {

// The flagged range ids that DoneRedaction's record lists.
inline const std::vector<std::string> kFlaggedRanges = {"0:10-20", "0:40-55"};

// Writes `bytes` of a repeating pattern to path (whole megabytes at a time).
inline void WriteStandIn(const std::string& path, uint64_t bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::string block(1 << 20, '\0');
  for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>(i * 131 + 7);
  for (uint64_t left = bytes; left > 0;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, block.size()));
    out.write(block.data(), static_cast<std::streamsize>(n));
    left -= n;
  }
  REQUIRE(out.good());
}

// Queues a redaction of the ready export e (QueueRedaction) and makes it done: its package
// with one redacted video of video_bytes, its record file and contact sheet, and the
// row's record naming them with the two flagged ranges of kFlaggedRanges.
inline int64_t DoneRedaction(records::Database& db, const std::string& data_dir,
                             const records::ExportRow& e, int64_t by, uint64_t video_bytes) {
  auto ticket = QueueRedaction(db, e, nlohmann::json{{"mode", "faces"}}, by);
  INFO(ticket.status().ToString());
  REQUIRE(ticket.ok());
  const int64_t id = ticket->redaction_id;
  const std::string package = RedactedPackageDir(data_dir, e.id, id);
  const std::string rel = "redacted/video/door-1.mp4";
  WriteStandIn(package + "/" + rel, video_bytes);
  WriteStandIn(package + "/" + rel + ".redaction.json", 2000);
  WriteStandIn(package + "/" + rel + ".contact.jpg", 30000);
  auto row = db.GetRedaction(id);
  REQUIRE(row.ok());
  nlohmann::json record = RedactionRecord(**row);
  record["state"] = "done";
  record["package"] = RedactedPackageName(e.id, id);
  record["files"] = {{{"source", "video/door-1.mp4"},
                      {"output", rel},
                      {"record_file", rel + ".redaction.json"},
                      {"contact_sheet", rel + ".contact.jpg"},
                      {"input_sha256", std::string(64, 'a')},
                      {"frames", 100},
                      {"frames_flagged", 27},
                      {"flagged",
                       {{{"from_frame", 10}, {"to_frame", 20}, {"reason", "track lost"}},
                        {{"from_frame", 40}, {"to_frame", 55}, {"reason", "low confidence"}}}}}};
  REQUIRE(db.UpdateRedactionRecord(id, std::string(64, 'b'), record.dump()).ok());
  return id;
}

}  // namespace custodian::jobs::testing
