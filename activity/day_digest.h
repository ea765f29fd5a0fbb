// The day digest: one file per camera-day holding the activity indexes of that day's
// segments, so that a month of one camera is read in 31 opens, not 44,640.
//
// It is a cache of the per-segment index files ("<start>.activity", activity_file.h), never
// the only copy: it lies in the day's directory beside them ("footage/<camera>/<day>/
// day.activity"), is built by the reader (ReadDayIndexes) from the per-segment files, and is
// rebuilt (extended) when segments it lacks are asked for. The recorder runs the same reader
// over a camera-day's segments when that day closes (its first segment in the next day
// directory, or the recorder's stop), so that a closed day's first search reads one file.
// It lives and dies with the day's footage:
//   - a digest entry is made only from a per-segment index file read while it existed, and
//     retention unlinks the day's digest before and after it unlinks any segment's index of
//     that day (UnlinkDayDigest), so a digest never keeps a deleted segment's movement;
//   - a digest written while retention ran (the reader read an index retention then
//     deleted) is caught by the reader itself: after renaming a digest into place it checks
//     that every entry's index file still exists, and unlinks the digest if one does not;
//   - the reader returns entries only for the segments it was asked for (the rows the
//     records list now), so an entry of a segment no longer listed is never revealed.
// Reading a digest is footage access like reading an index: only the API's activity routes
// do it, with the camera permission, a purpose and an access-log entry.
//
// Format (little-endian), version 1: "CUSTDAY1" (8 bytes), entry count N (u32), then N
// entries: name length L (u8), the segment's file stem (L bytes, "20261207T090000.000Z"),
// index length B (u32), the index as EncodeActivity writes it (B bytes). A digest that does
// not decode is ignored and rebuilt.
//
// Thread-safety: free functions; concurrent readers may rebuild the same digest at once
// (each writes its own temporary and renames it; the last rename wins, both are valid).
#pragma once

#include <string>
#include <vector>

#include "activity/activity_file.h"
#include "base/filesystem.h"
#include "base/status.h"

namespace custodian::activity {

// The digest's file name in each day directory.
inline constexpr char kDayDigestName[] = "day.activity";

// "footage/lobby/2026-12-07/20261207T090000.000Z.mp4" -> "footage/lobby/2026-12-07/day.activity".
std::string DayDigestPathFor(const std::string& segment_path);

// The indexes of `segment_paths` (absolute or relative to the same root, all in one day
// directory), in the same order: each is the segment's index, or the error reading it gave
// (kNotFound when it has none). Read through the day's digest where it holds them, else from
// the per-segment files; when some were read from files, the digest is rewritten to hold
// them too. A digest that cannot be written is only a slower next read: no error.
std::vector<Result<SegmentActivity>> ReadDayIndexes(Filesystem& fs,
                                                    const std::vector<std::string>& segment_paths);

// The same for segments of any days: each run of segments in one directory (a day, when
// the segments are in time order) is read through that day's digest.
std::vector<Result<SegmentActivity>> ReadIndexes(Filesystem& fs,
                                                 const std::vector<std::string>& segment_paths);

// Unlinks the digest of the day directory holding `segment_path` (kNotFound is success).
Status UnlinkDayDigest(Filesystem& fs, const std::string& segment_path);

// True for the digest's name and its temporaries ("day.<n>.activity.tmp").
bool IsDayDigestName(const std::string& name);

}  // namespace custodian::activity
