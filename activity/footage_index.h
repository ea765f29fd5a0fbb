// Building a segment's activity index from its footage file, after the fact.
//
// The recorder builds each index while it records (activity/indexer.h) and writes it when it
// closes the segment; a segment cut by a crash, or closed just before one, has footage but no
// index. Recovery (recorder/recovery.h) then reads the file back and feeds its video access
// units, in file order with their presentation times from the first, through the same
// ActivityIndexer, so the rebuilt index is what the recorder would have written but for the
// state it carried over from the segment before: the still-scene baseline starts afresh
// (the first seconds' scores are measured against the segment's own first seconds) and the
// first keyframe has no earlier picture to compare with.
//
// Reads the file through libavformat by path, as media::ProbeFile does (recovery has
// already trimmed it to its last whole fragment). Errors: those of opening and reading the
// file (kNotFound, kDataLoss for a file that does not parse or has no video).
//
// Thread-safety: free function; no shared state.
#pragma once

#include <cstdint>
#include <string>

#include "activity/activity_file.h"
#include "base/status.h"

namespace custodian::activity {

// The index of the segment file at `path`, `duration_us` long (the segment's recorded
// duration: one score per second of it, rounded up).
Result<SegmentActivity> IndexFootageFile(const std::string& path, int64_t duration_us);

}  // namespace custodian::activity
