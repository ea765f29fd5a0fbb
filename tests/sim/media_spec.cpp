#include "tests/sim/media_spec.h"

#include <cctype>
#include <cstdint>
#include <cstdio>

#include "tests/sim/parse_util.h"

namespace custodian::sim {

namespace {

// Limits keep a typo from asking x264 for an hour of 8K video.
constexpr int kMaxDimension = 4096;
constexpr int kMaxFps = 120;
constexpr int kMaxBitrateKbps = 100'000;
constexpr int kMaxClipSeconds = 600;
// x264 and x265 both take at most 16.
constexpr int kMaxBframes = 16;
// Part of every clip name: bump it when the encoding changes, so caches re-encode.
constexpr int kEncodingRevision = 1;

// FNV-1a, to tell apart clips made from different input files with the same base name.
uint32_t Fnv1a(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

std::string InputTag(const std::string& input) {
  if (input == kInputVtest || input == kInputPattern || input == kInputStill) return input;
  std::string base = input.substr(input.find_last_of('/') + 1);
  std::string tag;
  for (char c : base) tag += (isalnum(static_cast<unsigned char>(c)) ? c : '_');
  char hash[9];
  std::snprintf(hash, sizeof hash, "%08x", Fnv1a(input));
  return tag + "_" + hash;
}

}  // namespace

const char* VideoCodecName(VideoCodec codec) {
  return codec == VideoCodec::kH265 ? "h265" : "h264";
}

bool ParseVideoCodec(const std::string& text, VideoCodec* out) {
  if (text == "h264") {
    *out = VideoCodec::kH264;
    return true;
  }
  if (text == "h265" || text == "hevc") {
    *out = VideoCodec::kH265;
    return true;
  }
  return false;
}

int EffectiveGop(const MediaSpec& spec) {
  return spec.gop_frames > 0 ? spec.gop_frames : 2 * spec.fps;
}

Status ValidateMediaSpec(const MediaSpec& spec) {
  if (spec.width < 16 || spec.width > kMaxDimension || spec.width % 2 != 0 || spec.height < 16 ||
      spec.height > kMaxDimension || spec.height % 2 != 0) {
    return InvalidArgument("resolution must be even and within 16..4096 pixels");
  }
  if (spec.fps < 1 || spec.fps > kMaxFps) return InvalidArgument("fps must be within 1..120");
  if (spec.bitrate_kbps < 10 || spec.bitrate_kbps > kMaxBitrateKbps) {
    return InvalidArgument("bitrate must be within 10..100000 kbit/s");
  }
  if (spec.gop_frames < 0 || spec.gop_frames > 10 * kMaxFps) {
    return InvalidArgument("gop must be within 1..1200 frames");
  }
  if (spec.seconds < 1 || spec.seconds > kMaxClipSeconds) {
    return InvalidArgument("clip length must be within 1..600 seconds");
  }
  if (spec.bframes < 0 || spec.bframes > kMaxBframes) {
    return InvalidArgument("bframes must be within 0..16");
  }
  if (spec.input.empty())
    return InvalidArgument("input must be vtest, pattern, still or a file path");
  return Status::Ok();
}

std::string MediaFileName(const MediaSpec& spec) {
  char name[160];
  std::snprintf(name, sizeof name, "%s-%dx%d-%dfps-%dk-gop%d-%ds%s-", VideoCodecName(spec.codec),
                spec.width, spec.height, spec.fps, spec.bitrate_kbps, EffectiveGop(spec),
                spec.seconds, spec.audio ? "-aac" : "");
  // Clips without B-frames keep the names they had before B-frames could be asked for.
  const std::string bframes = spec.bframes > 0 ? "b" + std::to_string(spec.bframes) + "-" : "";
  return name + bframes + InputTag(spec.input) + ".r" + std::to_string(kEncodingRevision) + ".mkv";
}

MediaSpec Benchmark1080pSpec() {
  MediaSpec spec;
  spec.codec = VideoCodec::kH264;
  spec.width = 1920;
  spec.height = 1080;
  spec.fps = 25;
  spec.bitrate_kbps = 4000;
  spec.gop_frames = 50;
  spec.seconds = 20;
  spec.input = kInputVtest;
  return spec;
}

std::string VtestPath() { return "/usr/share/doc/opencv-doc/examples/data/vtest.avi"; }

std::string ResolveInput(const std::string& input) {
  return input == kInputVtest ? VtestPath() : input;
}

std::vector<std::string> ToMediaFlags(const MediaSpec& spec) {
  std::vector<std::string> flags = {
      "--codec",   VideoCodecName(spec.codec),        "--width", std::to_string(spec.width),
      "--height",  std::to_string(spec.height),       "--fps",   std::to_string(spec.fps),
      "--bitrate", std::to_string(spec.bitrate_kbps), "--gop",   std::to_string(EffectiveGop(spec)),
      "--seconds", std::to_string(spec.seconds),      "--input", spec.input,
  };
  if (spec.audio) flags.push_back("--audio");
  if (spec.bframes > 0) {
    flags.push_back("--bframes");
    flags.push_back(std::to_string(spec.bframes));
  }
  return flags;
}

Status ParseMediaFlag(const std::vector<std::string>& argv, size_t* i, MediaSpec* spec) {
  const std::string& flag = argv[*i];
  if (flag == "--audio") {
    spec->audio = true;
    ++*i;
    return Status::Ok();
  }
  struct IntFlag {
    const char* name;
    int* field;
  };
  const IntFlag int_flags[] = {
      {"--width", &spec->width},    {"--height", &spec->height},
      {"--fps", &spec->fps},        {"--bitrate", &spec->bitrate_kbps},
      {"--gop", &spec->gop_frames}, {"--seconds", &spec->seconds},
      {"--bframes", &spec->bframes},
  };
  bool known = flag == "--codec" || flag == "--input";
  for (const IntFlag& f : int_flags) known = known || flag == f.name;
  if (!known) return NotFound(flag + " is not a media flag");
  if (*i + 1 >= argv.size()) return InvalidArgument(flag + " needs a value");
  const std::string& value = argv[*i + 1];
  *i += 2;
  if (flag == "--codec") {
    if (!ParseVideoCodec(value, &spec->codec)) {
      return InvalidArgument("--codec must be h264 or h265");
    }
    return Status::Ok();
  }
  if (flag == "--input") {
    spec->input = value;
    return Status::Ok();
  }
  for (const IntFlag& f : int_flags) {
    if (flag == f.name && !ParseIntInRange(value, 0, kMaxBitrateKbps, f.field)) {
      return InvalidArgument(flag + " needs a non-negative integer, not '" + value + "'");
    }
  }
  return Status::Ok();
}

}  // namespace custodian::sim
