#include "config/checks.h"

#include <catch2/catch.hpp>
#include <string>

using namespace custodian;
using namespace custodian::config;

TEST_CASE("camera ids are lower-case letters, digits and hyphens, at most 64 long") {
  for (const char* id : {"lobby", "car-park-2", "1st-floor", "a"}) {
    INFO(id);
    CHECK_FALSE(CheckCameraId(id).has_value());
  }
  for (const char* id : {"", "Lobby", "car park", "car_park", "-lobby", "lobby/../x", "café"}) {
    INFO(id);
    CHECK(CheckCameraId(id).has_value());
  }
  CHECK_FALSE(CheckCameraId(std::string(64, 'a')).has_value());
  CHECK(CheckCameraId(std::string(65, 'a')).has_value());
}

TEST_CASE("camera URLs are rtsp or rtsps with a host and an optional port") {
  for (const char* url : {"rtsp://127.0.0.1:8554/lobby", "rtsps://cam.example/stream",
                          "RTSP://10.0.0.5/Streaming/Channels/101",
                          "rtsp://192.0.2.10:554/cam/realmonitor?channel=1&subtype=0",
                          "rtsp://[2001:db8::5]:554/live", "rtsp://camera-ip.invalid"}) {
    INFO(url);
    CHECK_FALSE(CheckCameraUrl(url).has_value());
  }
  for (const char* url : {"", "http://cam/x", "rtsp:/cam/x", "rtsp://", "rtsp://:554/x",
                          "rtsp://cam:0/x", "rtsp://cam:abc/x", "rtsp://[::1/x",
                          "rtsp://2001:db8::5/x", "rtsp://cam /x", "rtsp://bad..host/x"}) {
    INFO(url);
    CHECK(CheckCameraUrl(url).has_value());
  }
}

TEST_CASE("a URL with credentials is refused without repeating it") {
  for (const char* url : {"rtsp://admin:hunter2@cam/x", "rtsp://admin:hun/ter2@cam/x",
                          "admin:hunter2@cam/x", "http://admin:hunter2@cam/x"}) {
    INFO(url);
    std::optional<std::string> problem = CheckCameraUrl(url);
    REQUIRE(problem.has_value());
    CHECK(problem->find("hunter2") == std::string::npos);
    CHECK(problem->find("hun") == std::string::npos);
  }
}

TEST_CASE("listen addresses are host:port with IPv6 in brackets") {
  Result<ListenAddress> a = ParseListenAddress("127.0.0.1:8443");
  REQUIRE(a.ok());
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 8443);
  a = ParseListenAddress("[::]:443");
  REQUIRE(a.ok());
  CHECK(a->host == "::");
  CHECK(a->port == 443);
  a = ParseListenAddress("appliance.local:8443");
  REQUIRE(a.ok());
  CHECK(a->host == "appliance.local");
  for (const char* bad : {"", "8443", ":8443", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                          "[::1]", "::1:8443", "host:80:80", "256.1.1.1:80"}) {
    INFO(bad);
    CHECK_FALSE(ParseListenAddress(bad).ok());
  }
}
