#include "exports/readme.h"

#include <catch2/catch.hpp>

using namespace custodian;
using namespace custodian::exports;

namespace {

ManifestSegment Segment(const std::string& camera, std::optional<int64_t> offset_us) {
  ManifestSegment s;
  s.camera_id = camera;
  s.clock_offset_us = offset_us;
  return s;
}

}  // namespace

TEST_CASE(
    "the README says the times are the appliance's and gives each camera's own clock, "
    "or that it is unknown") {
  std::string text = CameraClockLines({Segment("lobby", 30'200'000), Segment("lobby", 29'800'000),
                                       Segment("yard", std::nullopt), Segment("door", -400'000)});
  CHECK(text.find("every time here is the appliance's clock") != std::string::npos);
  CHECK(text.find("camera lobby: +29.8 s to +30.2 s\n") != std::string::npos);
  CHECK(text.find("camera door: -0.4 s\n") != std::string::npos);
  CHECK(text.find("camera yard: camera clock unknown") != std::string::npos);
}
