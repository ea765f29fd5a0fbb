#include "api/hls.h"

#include <algorithm>
#include <cstdio>

namespace custodian::api {

namespace {

std::string Seconds(int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", static_cast<double>(us) / 1e6);
  return buf;
}

}  // namespace

std::string BuildHlsPlaylist(const std::vector<HlsSegment>& segments) {
  int64_t longest_us = 0;
  for (const auto& s : segments) longest_us = std::max(longest_us, s.duration_us);
  const int64_t target = (longest_us + kMicrosPerSecond - 1) / kMicrosPerSecond;
  std::string out = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:" +
                    std::to_string(target < 1 ? 1 : target) + "\n#EXT-X-MEDIA-SEQUENCE:0\n";
  bool first = true;
  for (const auto& s : segments) {
    if (!first) out += "#EXT-X-DISCONTINUITY\n";
    first = false;
    out +=
        "#EXT-X-MAP:URI=\"" + s.uri + "\",BYTERANGE=\"" + std::to_string(s.init_length) + "@0\"\n";
    out += "#EXT-X-PROGRAM-DATE-TIME:" + FormatUtc(s.start) + "\n";
    out += "#EXTINF:" + Seconds(s.duration_us) + ",\n";
    out += "#EXT-X-BYTERANGE:" + std::to_string(s.media_length) + "@" +
           std::to_string(s.media_offset) + "\n";
    out += s.uri + "\n";
  }
  out += "#EXT-X-ENDLIST\n";
  return out;
}

}  // namespace custodian::api
