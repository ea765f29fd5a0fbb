// Probe: what a recorded file holds, read with libavformat (and, on request, a full decode
// to count decoding errors). Used by crash recovery, `custodian check` and tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace custodian::media {

struct FileProbe {
  std::string video_codec;   // "h264", "hevc"
  int width = 0;
  int height = 0;
  std::string audio_codec;   // empty when there is no audio stream
  int64_t duration_us = 0;   // from the packets' timestamps (end of last frame)
  int64_t video_frames = 0;  // packets of the video stream
  int64_t keyframes = 0;
  int64_t decode_errors = -1;  // -1 unless a decode was asked for
  // When decoding: each decoded picture's presentation time, in output order, from the
  // file's start (the first video packet's presentation time).
  std::vector<int64_t> frame_times_us;
};

// Reads every packet (no decoding unless `decode` is true).
Result<FileProbe> ProbeFile(const std::string& path, bool decode = false);

}  // namespace custodian::media
