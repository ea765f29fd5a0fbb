// Test helpers for exports: real segment files made with the ffmpeg CLI (fragmented MP4,
// one fragment per one-second GOP, as the recorder writes them) and segment rows that
// point at copies of them in a site's data directory.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "base/sha256.h"
#include "exports/builder.h"
#include "records/database.h"
#include "requests/testing.h"
#include "requests/workflow.h"

namespace custodian::exports::testing {

using namespace custodian::requests::testing;

inline int Run(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Runs cmd and returns its standard output (stderr joined), and its exit status.
inline std::string RunOutput(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int rc = ::pclose(p);
  if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

// A fragmented-MP4 clip of `seconds` of ffmpeg's test pattern at width x height, 25 fps,
// a keyframe every second. Encoded once per process and shared.
inline std::string SegmentClip(int width, int height, int seconds) {
  static TempDir dir;  // removed at exit
  static std::map<std::string, std::string> made;
  const std::string key =
      std::to_string(width) + "x" + std::to_string(height) + "-" + std::to_string(seconds);
  auto it = made.find(key);
  if (it != made.end()) return it->second;
  const std::string path = dir.File("clip-" + key + ".mp4");
  const std::string cmd =
      std::string(CUSTODIAN_FFMPEG_CLI) +
      " -nostdin -v error -y -f lavfi -i testsrc=size=" + std::to_string(width) + "x" +
      std::to_string(height) + ":rate=25 -t " + std::to_string(seconds) +
      " -c:v libx264 -preset ultrafast -g 25 -keyint_min 25 -sc_threshold 0 -bf 0 "
      "-pix_fmt yuv420p -movflags frag_keyframe+empty_moov+default_base_moof -f mp4 '" +
      path + "'";
  REQUIRE(Run(cmd) == 0);
  made[key] = path;
  return path;
}

// Copies clip into data_dir as a segment of camera starting at start, with a complete row.
inline int64_t AddSegment(records::Database& db, const std::string& data_dir,
                          const std::string& camera, UtcMicros start, int width, int height,
                          int seconds, bool clock_synced = true) {
  const std::string clip = SegmentClip(width, height, seconds);
  const std::string rel = "footage/" + camera + "/" + FormatUtcCompact(start) + ".mp4";
  const std::string abs = data_dir + "/" + rel;
  std::filesystem::create_directories(std::filesystem::path(abs).parent_path());
  std::filesystem::copy_file(clip, abs, std::filesystem::copy_options::overwrite_existing);
  records::SegmentRow row;
  row.camera_id = camera;
  row.start = start;
  row.path = rel;
  row.video_codec = "h264";
  row.width = width;
  row.height = height;
  row.clock_synced = clock_synced;
  row.clock_offset_us = 12'000;
  auto id = db.BeginSegment(row);
  REQUIRE(id.ok());
  records::SegmentFinish fin;
  fin.end = start + int64_t{seconds} * kMicrosPerSecond;
  fin.bytes = static_cast<int64_t>(std::filesystem::file_size(abs));
  fin.duration_us = int64_t{seconds} * kMicrosPerSecond;
  auto sha = Sha256File(abs);
  REQUIRE(sha.ok());
  fin.sha256 = *sha;
  fin.video_codec = "h264";
  fin.width = width;
  fin.height = height;
  fin.audio_note = "test clip has no audio";
  REQUIRE(db.FinishSegment(*id, fin).ok());
  return *id;
}

// ffprobe's view of a video file: "WIDTHxHEIGHT packets".
inline std::string ProbeVideo(const std::string& path) {
  std::string ffprobe = CUSTODIAN_FFMPEG_CLI;
  ffprobe.replace(ffprobe.rfind("ffmpeg"), 6, "ffprobe");
  std::string out = RunOutput(ffprobe +
                              " -v error -select_streams v:0 -count_packets "
                              "-show_entries stream=width,height,nb_read_packets "
                              "-of csv=p=0:s=x '" +
                              path + "'");
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// Whether ffmpeg decodes the whole file without a single error.
inline bool DecodesCleanly(const std::string& path) {
  int status = 0;
  std::string out = RunOutput(
      std::string(CUSTODIAN_FFMPEG_CLI) + " -nostdin -v error -i '" + path + "' -f null -",
      &status);
  INFO(out);
  return status == 0 && out.empty();
}

// Logs a police request for `ranges`, verifies it and has a second manager approve it;
// returns the request id. `over_broad_justification` is recorded with the decision.
inline int64_t ApprovedPoliceRequest(Site& s, const std::vector<records::FootageRange>& ranges,
                                     const std::string& reference,
                                     std::optional<std::string> over_broad_justification = {}) {
  requests::Workflow w(*s.db, s.clock);
  requests::NewRequest r;
  r.type = records::RequestType::kPolice;
  r.requester_name = "DC Example";
  r.reference = reference;
  r.legal_basis = records::LegalBasis::kCrimePrevention;
  r.ranges = ranges;
  auto id = w.LogRequest(r, s.staff);
  REQUIRE(id.ok());
  REQUIRE(w.AddVerification(*id, records::VerificationStep::kReceivedInWriting, s.staff, "").ok());
  REQUIRE(w.AddVerification(*id, records::VerificationStep::kIdentityCallback, s.staff, "").ok());
  REQUIRE(w.SubmitForDecision(*id, s.staff).ok());
  REQUIRE(w.Decide(*id, {true, s.manager_b, "lawful", std::move(over_broad_justification)}).ok());
  return *id;
}

// An approved police request for `ranges`, and an export of it; returns the export id.
inline int64_t ApprovedExport(Site& s, const std::vector<records::FootageRange>& ranges,
                       bool originals = false) {
  const int64_t id = ApprovedPoliceRequest(s, ranges, "CR/1", "test");
  records::ExportRow e;
  e.request_id = id;
  e.created_by = s.staff;
  e.include_originals = originals;
  e.ranges = ranges;
  auto ex = s.db->CreateExport(e);
  REQUIRE(ex.ok());
  return *ex;
}

struct Built {
  Result<BuildResult> result = Internal("not built");
  std::string dir;
};

inline Built Build(Site& s, int64_t export_id, const CancelFn& cancel = {}) {
  auto plan = PlanExport(*s.db, export_id, "Test site");
  REQUIRE(plan.ok());
  auto key = SigningKey::LoadOrCreate(s.dir.File("keys"));
  REQUIRE(key.ok());
  Built b;
  b.dir = s.dir.File("out-" + std::to_string(export_id));
  b.result = BuildPackage(*plan, s.dir.path(), b.dir, *key, PosixFilesystem::Instance(), s.clock,
                          TimeZone::UkLocal(), BuildOptions{}, {}, cancel);
  return b;
}

}  // namespace custodian::exports::testing
