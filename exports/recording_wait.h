// Waiting for footage that is still being recorded before it is exported.
//
// A segment is exported only once it is complete (closed, fsynced, its SHA-256 recorded):
// the manifest vouches for recorded hashes. An export whose range reaches into the segment
// a camera is writing now would otherwise leave that footage out and be signed without it.
// So before an export is built, its ranges are checked and, while any of them is still
// being recorded, the build waits (reporting how much of the range is recorded so far).
//
// A range is still being recorded when
//   (a) a segment in state `recording` overlaps it, or
//   (b) its camera's run is open and the range ends less than kRowLag before now: the
//       recorder writes a segment's row when the segment's first frame arrives, so footage
//       of the last few seconds may exist before any row says so.
// A range whose camera is not recording, or that ended long ago, is never waited for; its
// holes are reported as gaps by the build as before.
//
// Thread-safe as the Database is; AwaitRecorded blocks the calling thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/zoneinfo.h"
#include "records/database.h"

namespace custodian::exports {

// How long after a frame arrives its segment's row may still be missing (b above).
inline constexpr int64_t kRowLag = 10 * kMicrosPerSecond;

struct RecordingWaitOptions {
  int64_t poll_us = kMicrosPerSecond / 2;
  // Longer than the recorder's segment length (a minute) with room for a loaded machine;
  // past it the export fails without signing anything (a recorder that stopped writing).
  int64_t max_wait_us = 5 * 60 * kMicrosPerSecond;
};

// One range still being recorded.
struct RecordingInProgress {
  std::string camera_id;
  UtcMicros from;          // the range
  UtcMicros to;
  UtcMicros recorded_to;   // complete footage reaches this far into the range (>= from)
};

// The ranges still being recorded at `now`, with how far each is recorded.
Result<std::vector<RecordingInProgress>> FindRecordingInProgress(
    records::Database& db, const std::vector<records::FootageRange>& ranges, UtcMicros now);

// The share (0..1) of the ranges' time that is recorded, counting ranges not in `waiting`
// as recorded.
double RecordedFraction(const std::vector<records::FootageRange>& ranges,
                        const std::vector<RecordingInProgress>& waiting);

// "camera door-1 is still recording this range (recorded up to 2026-...+01:00)" and so on.
std::string DescribeWait(const std::vector<RecordingInProgress>& waiting, const TimeZone& zone);

using WaitProgressFn = std::function<void(double recorded_fraction, const std::string& what)>;

// Returns once nothing in the ranges is being recorded. Calls `progress` at each poll while
// waiting (not at all when nothing is pending). kFailedPrecondition "export cancelled" when
// cancelled() returns true; kUnavailable, naming the camera and time, after
// options.max_wait_us (nothing is built or signed; export again once it is recorded).
Status AwaitRecorded(records::Database& db, const Clock& clock, const TimeZone& zone,
                     const std::vector<records::FootageRange>& ranges,
                     const RecordingWaitOptions& options, const WaitProgressFn& progress,
                     const std::function<bool()>& cancelled);

}  // namespace custodian::exports
