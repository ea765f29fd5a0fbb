// StreamSpec: one simulated camera, as given to `custodian-sim --stream`.
//
//   NAME[:KEY=VALUE[,KEY=VALUE...]]
//
// Keys (unknown keys are rejected; defaults in brackets):
//   codec=h264|h265 [h264]     width=PIXELS [1280]    height=PIXELS [720]
//   fps=N [25]                 bitrate=KBIT_PER_S [2000]
//   gop=FRAMES [2 s = 2*fps]   audio=aac|none [none]
//   bframes=N [0]              B-frames between references (pyramid from 2 on)
//   source=file|pattern [file]
//       file:    a pre-encoded clip looped without re-encoding (cheap: use for many streams)
//       pattern: a live videotestsrc encoded in real time (costly: use for a handful)
//   clip=SECONDS [10]          length of the generated clip a file source loops
//   input=vtest|pattern|PATH [vtest]   what the generated clip shows
//   file=PATH                  loop this existing MKV/MP4 (H.264/H.265, optional AAC) instead
//                              of generating a clip; codec, size and the like come from it
//   user=NAME,password=SECRET  require RTSP digest authentication
//   clock_offset=SECONDS [0]   the camera's clock is this far ahead (negative: behind) of the
//                              host's: the NTP time of its RTCP sender reports is moved by it
//
// The stream is served at rtsp://ADDRESS:PORT/NAME. NAME is [A-Za-z0-9_-]+.
#pragma once

#include <string>

#include "base/status.h"
#include "tests/sim/media_spec.h"

namespace custodian::sim {

enum class SourceKind { kFile, kPattern };

struct StreamSpec {
  std::string name;
  SourceKind source = SourceKind::kFile;
  MediaSpec media;        // encoding parameters (for file sources: of the generated clip)
  std::string file_path;  // non-empty: serve this file instead of a generated clip
  std::string user;       // non-empty: digest authentication required
  std::string password;
  int clock_offset_s = 0;
};

Result<StreamSpec> ParseStreamSpec(const std::string& text);

}  // namespace custodian::sim
