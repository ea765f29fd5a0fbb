// An HLS media playlist (RFC 8216, version 7) over recorded fragmented MP4 segments.
//
// Each segment file becomes one HLS segment: its ftyp+moov is the EXT-X-MAP
// initialisation section and its fragments one byte range of the same URI, so nothing is
// copied or transcoded. Every segment is preceded by EXT-X-DISCONTINUITY (each file has
// its own timeline and may have its own codec parameters) and EXT-X-PROGRAM-DATE-TIME,
// which carries the wall-clock UTC start, so a player shows real time across gaps.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/time.h"

namespace custodian::api {

struct HlsSegment {
  std::string uri;  // absolute path and query; fetched with byte ranges
  uint64_t init_length = 0;
  uint64_t media_offset = 0;
  uint64_t media_length = 0;
  UtcMicros start;
  int64_t duration_us = 0;
};

std::string BuildHlsPlaylist(const std::vector<HlsSegment>& segments);

}  // namespace custodian::api
