// MediaSpec: the parameters of a pre-encoded test clip that the camera simulator loops.
//
// Clips are generated from Debian-shipped material (GStreamer's test sources, or
// opencv-doc's vtest.avi street scene) and never committed. A spec names its clip
// uniquely (MediaFileName), which is how the cache under the build directory finds a clip
// that was encoded earlier. The spec travels between processes as `custodian-sim` flags
// (ToMediaFlags / ParseMediaFlag), so the encoding itself lives in one binary.
//
// Plain data and pure functions: no GStreamer here, safe to use from any test.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace custodian::sim {

enum class VideoCodec { kH264, kH265 };

const char* VideoCodecName(VideoCodec codec);  // "h264" | "h265"
bool ParseVideoCodec(const std::string& text, VideoCodec* out);

// What the clip shows. "vtest" is Debian's opencv-doc street scene (768x576, 10 fps,
// scaled and frame-rate converted); "pattern" is videotestsrc's moving ball; anything
// else is a path to a video file that GStreamer can decode.
inline constexpr const char* kInputVtest = "vtest";
inline constexpr const char* kInputPattern = "pattern";
// A colour spectrum that never moves (no noise): a camera on an empty scene, for the
// activity index.
inline constexpr const char* kInputStill = "still";

struct MediaSpec {
  VideoCodec codec = VideoCodec::kH264;
  int width = 1280;
  int height = 720;
  int fps = 25;
  int bitrate_kbps = 2000;
  int gop_frames = 0;  // distance between keyframes; 0 means two seconds (2 * fps)
  int seconds = 10;    // clip length; streams loop it
  bool audio = false;  // adds an AAC-LC track (48 kHz mono, 440 Hz tone)
  // B-frames between references (0: none, as most cameras). With 2 or more, x264/x265
  // keep some as references (b-pyramid), so frames arrive up to two places out of order.
  int bframes = 0;
  std::string input = kInputVtest;
};

// gop_frames with the two-second default applied.
int EffectiveGop(const MediaSpec& spec);

Status ValidateMediaSpec(const MediaSpec& spec);

// A file name that identifies the clip (and the revision of the encoding recipe), e.g.
// "h264-1920x1080-25fps-4000k-gop50-20s-vtest.r1.mkv".
std::string MediaFileName(const MediaSpec& spec);

// The 1080p25 H.264 ~4 Mbit/s street-scene clip that benchmarks use (20 s, no audio).
MediaSpec Benchmark1080pSpec();

// Path of Debian's opencv-doc vtest.avi.
std::string VtestPath();
// kInputVtest -> VtestPath(); other inputs unchanged.
std::string ResolveInput(const std::string& input);

// custodian-sim flags describing the spec: {"--codec", "h264", "--width", "1920", ...}.
std::vector<std::string> ToMediaFlags(const MediaSpec& spec);
// Consumes one media flag (and its value) at argv[*i], advancing *i past what it used.
// Returns NotFound when argv[*i] is not a media flag, InvalidArgument on a bad value.
Status ParseMediaFlag(const std::vector<std::string>& argv, size_t* i, MediaSpec* spec);

}  // namespace custodian::sim
