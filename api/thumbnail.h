// A JPEG of the frame nearest a time in a recorded segment: a thumbnail, or a saved still.
//
// Seeks to the keyframe at or before the time, decodes forward, keeps the decoded frame
// whose timestamp is nearest, scales it to at most max_width pixels wide and encodes it
// with FFmpeg's MJPEG encoder. Costs one GOP of decoding; callers bound how many run at
// once. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace custodian::api {

inline constexpr int kThumbnailMaxWidth = 640;

// offset_us is wall time since the segment's start, taken as media time since the
// stream's first timestamp. kDataLoss when the file cannot be decoded.
Result<std::string> RenderThumbnailJpeg(const std::string& path, int64_t offset_us,
                                        int max_width = kThumbnailMaxWidth);

// A saved still: the frame nearest the time at the recording's full resolution, with
// `caption` (its date, time and camera) drawn into the picture (exports::DrawCaption).
Result<std::string> RenderStillJpeg(const std::string& path, int64_t offset_us,
                                    const std::string& caption);

}  // namespace custodian::api
