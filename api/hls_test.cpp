#include "api/hls.h"

#include <catch2/catch.hpp>

namespace custodian::api {
namespace {

TEST_CASE("api HLS playlist maps each segment's init section and fragments by byte range") {
  UtcMicros t0;
  REQUIRE(ParseUtc("2026-01-01T00:00:00Z", &t0));
  std::vector<HlsSegment> segs = {
      {"/api/v1/segments/1/file?purpose=request&purpose_text=x", 800, 800, 5000, t0, 4'000'000},
      {"/api/v1/segments/2/file?purpose=request&purpose_text=x", 810, 810, 4000,
       t0 + 20 * kMicrosPerSecond, 4'500'000}};
  std::string m3u8 = BuildHlsPlaylist(segs);
  CHECK(m3u8.rfind("#EXTM3U\n", 0) == 0);
  CHECK(m3u8.find("#EXT-X-TARGETDURATION:5\n") != std::string::npos);
  CHECK(m3u8.find("#EXT-X-MAP:URI=\"/api/v1/segments/1/file?purpose=request&purpose_text=x\","
                  "BYTERANGE=\"800@0\"") != std::string::npos);
  CHECK(m3u8.find("#EXT-X-BYTERANGE:5000@800\n") != std::string::npos);
  CHECK(m3u8.find("#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:20") != std::string::npos);
  CHECK(m3u8.find("#EXTINF:4.500,") != std::string::npos);
  CHECK(m3u8.find("#EXT-X-DISCONTINUITY") != std::string::npos);
  CHECK(m3u8.substr(m3u8.size() - 15) == "#EXT-X-ENDLIST\n");
}

}  // namespace
}  // namespace custodian::api
