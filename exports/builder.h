// BuildPackage: writes one export package from a plan, without transcoding.
//
// For each requested camera range, the segments are read whole and their fragments
// (one per GOP, each starting at a keyframe) spliced into MP4 files: the output starts at
// the keyframe at or before the requested start and ends with the fragment holding the
// requested end. A new output part begins where the codec parameters change (resolution,
// codec, parameter sets) or where the footage has a hole longer than the join tolerance;
// every hole in the requested range is reported in the manifest, never bridged. With
// include_originals the recorded segment files are copied bit for bit as well.
//
// Every file is hashed as it is written and every source segment as it is read (on worker
// threads), and a source whose bytes no longer match its recorded SHA-256 fails the build.
// Then README.txt, SHA256SUMS, the public key, manifest.json and its minisign signature.
//
// The package directory must not exist; it is created. On failure or cancellation it is
// left as far as it got, for the caller to remove. Not thread-safe per call; calls on
// different packages may run in parallel.
#pragma once

#include <functional>
#include <string>

#include "base/clock.h"
#include "base/filesystem.h"
#include "base/zoneinfo.h"
#include "exports/manifest.h"
#include "exports/plan.h"
#include "exports/recording_wait.h"
#include "exports/signing.h"

namespace custodian::exports {

// The package's two folders, as UK police guidance names them: the master exhibit (the
// recorded segment files, bit for bit, when the export includes them) and the working
// copies (one file per camera per continuous stretch, spliced from the recorded fragments
// with the wall-clock text track added; uniquely named by export, camera and start).
inline constexpr char kMasterDir[] = "master";
inline constexpr char kWorkingDir[] = "working";
// "working/export-12_door-1_20260115T090000Z" (the caller adds ".mp4" or a suffix).
std::string WorkingCopyStem(int64_t export_id, const std::string& camera_id, UtcMicros start);

struct BuildOptions {
  bool verify_sources = true;  // re-hash each source segment against its recorded SHA-256
  bool durable = true;         // fsync every file and directory before returning
  // One source segment in this many is hashed by the output's hash worker, interleaved with
  // the output stream over the same bytes; the others on a second worker, two at a time.
  // 0: chosen when the build starts (SourcesBesideOutputEvery).
  int sources_beside_output_every = 0;
  // Footage is treated as continuous across a hole up to this long (timestamp jitter at a
  // segment boundary); a longer hole starts a new part and is reported.
  int64_t join_tolerance_us = kMicrosPerSecond;
  // Before the build: how long to wait for ranges still being recorded (recording_wait.h).
  RecordingWaitOptions recording_wait;
  std::string software_version = "unknown";
  std::string software_revision = "unknown";
};

// options.sources_beside_output_every, or when it is 0 the split for the machine as it is:
// 1 (every source paired with the output on one worker, the least CPU: SHA-NI runs two
// streams for much less than twice the cost of one) when the load average is at least the
// number of cores, since then CPU time is what a build waits for; 3 otherwise (a second
// worker takes two thirds of the sources, shortening the output worker's critical path).
int SourcesBesideOutputEvery(const BuildOptions& options);

// Where a build's time went, in seconds. The building thread's steps are its CPU time
// (fsync and hash_wait, which wait, are wall time); the workers' are their threads' CPU time.
struct BuildSteps {
  double read = 0;              // mapping the source segments (their pages read into the mapping)
  double parse = 0;             // parsing their boxes, patching moofs
  double write = 0;             // appending to the package's files (the copy into the page cache)
  double text_track = 0;        // the timed-text track: its header, cues and fragments
  double sign = 0;              // player, README, SHA256SUMS, manifest and its signature
  double burned_in = 0;         // the burned-in copies, when asked for
  double build_cpu = 0;         // the building thread's CPU in all
  double hash_wait = 0;         // wall: waiting for the hash workers once the splice is done
  double fsync = 0;             // wall: fdatasync of each file, then of the directories
  double total = 0;             // wall: the whole build
  double hash_output_cpu = 0;   // the output's hash worker (and sources hashed beside it)
  double hash_sources_cpu = 0;  // the source hash worker
  double file_thread_cpu = 0;   // the file thread: direct writes, writeback of master files
};

struct BuildResult {
  Manifest manifest;
  std::string manifest_sha256;
  int64_t bytes = 0;  // every file in the package
  BuildSteps steps;
};

using ProgressFn = std::function<void(double fraction)>;
using CancelFn = std::function<bool()>;  // true: stop at the next segment boundary

// Status kinds: kFailedPrecondition "export cancelled" when cancelled() returned true;
// kDataLoss when a source does not match its recorded hash; kResourceExhausted when the
// disk fills; kIo for other file errors.
Result<BuildResult> BuildPackage(const ExportPlan& plan, const std::string& data_dir,
                                 const std::string& package_dir, const SigningKey& key,
                                 Filesystem& fs, const Clock& clock, const TimeZone& zone,
                                 const BuildOptions& options, const ProgressFn& progress,
                                 const CancelFn& cancelled);

}  // namespace custodian::exports
