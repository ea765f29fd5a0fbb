// Clip: a pre-encoded media file held in memory as its demuxed, parsed samples, so that
// any number of streams can loop it without reading the disk or re-encoding.
//
// A Clip is immutable once loaded and shared (shared_ptr<const Clip>) by every stream
// and media pipeline that serves it; its GstBuffers are never written to (feeders push
// shallow copies carrying their own timestamps). Thread-safe for reading.
//
// Video is H.264 (avc, access units) or H.265 (hvc1, access units), the formats the RTP
// payloaders take without a parser; audio, when present, is raw AAC.
#pragma once

#include <gst/gst.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "tests/sim/gst_handles.h"
#include "tests/sim/media_spec.h"

namespace custodian::sim {

struct ClipSample {
  BufferPtr buffer;
  GstClockTimeDiff pts_ns = 0;  // from the clip's start
  GstClockTimeDiff dts_ns = 0;  // equals pts_ns when the file carries no decode times
};

struct ClipTrack {
  CapsPtr caps;
  std::vector<ClipSample> samples;
};

class Clip {
 public:
  // Reads and demuxes the whole file. Fails unless it holds one H.264/H.265 video track
  // starting with a keyframe; an AAC track is kept, other tracks are ignored.
  static Result<std::shared_ptr<const Clip>> Load(const std::string& path);

  const std::string& path() const { return path_; }
  VideoCodec codec() const { return codec_; }
  const ClipTrack& video() const { return video_; }
  const ClipTrack* audio() const { return audio_ ? &*audio_ : nullptr; }
  // Length of one loop: the video's frame count times its frame duration. Every sample
  // of every track starts and ends within it.
  GstClockTime loop_duration_ns() const { return loop_duration_ns_; }
  size_t total_bytes() const;

 private:
  Clip() = default;
  Status Finish();

  std::string path_;
  VideoCodec codec_ = VideoCodec::kH264;
  ClipTrack video_;
  std::optional<ClipTrack> audio_;
  GstClockTime loop_duration_ns_ = 0;
};

}  // namespace custodian::sim
