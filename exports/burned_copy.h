// The burned-in working copy: for recipients whose players ignore subtitle tracks, a
// re-encoded H.264 copy of a working copy with the UK local date and time (GMT or BST), the
// camera's name and "WORKING COPY - export N" drawn into every picture (libavfilter's
// drawtext, shifted by the UK offset that our zone rules give for each stretch of the copy,
// so the process's TZ plays no part).
//
// It is derived, never evidence of what was recorded: the manifest lists it with the file
// it was made from and that file's source segments, and the master and working copies stay
// in the package beside it.
//
// The output is a fragmented MP4 written through `sink` as it is produced (so the package
// writer hashes and syncs it like every other file). Decoding and encoding run on the
// calling thread; libx264 may use its own threads. Not re-entrant per call; calls on
// different files may run in parallel.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "base/time.h"
#include "base/zoneinfo.h"
#include "media/av_util.h"

namespace custodian::exports {

struct BurnInText {
  UtcMicros origin;  // wall time of the input's media time 0
  UtcMicros end;     // wall time of its end
  std::string camera_name;
  int64_t export_id = 0;
};

// Receives the output's bytes in order; a non-OK status stops the transcode with it.
using ByteSink = std::function<Status(const uint8_t* data, size_t size)>;

// Transcodes the video of `input` (an MP4 file) with the text drawn in. kInvalidArgument when
// the input has no decodable video; kUnavailable when this libav has no H.264 encoder or no
// drawtext filter; kFailedPrecondition "export cancelled" when cancelled() returned true
// (checked every 25 packets).
Status WriteBurnedInCopy(const std::string& input, const BurnInText& text, const TimeZone& zone,
                         const ByteSink& sink, const std::function<bool()>& cancelled);

// `picture` with `caption` (literal text; a newline starts a line) drawn into it as the
// burned-in copy draws its text: a saved still carries its date, time and camera. The result
// is YUV 4:2:0 at the picture's size. kUnavailable when this libavfilter has no drawtext.
Result<media::FramePtr> DrawCaption(const AVFrame* picture, const std::string& caption);

}  // namespace custodian::exports
