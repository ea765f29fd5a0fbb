#include <catch2/catch.hpp>

#include "base/clock.h"
#include "base/log.h"
#include "base/sha256.h"

using namespace custodian;

TEST_CASE("UTC formatting and parsing round-trip to the microsecond") {
  UtcMicros t{1764043072123456};  // 2025-11-25T03:57:52.123456Z
  REQUIRE(FormatUtc(t) == "2025-11-25T03:57:52.123456Z");
  UtcMicros back;
  REQUIRE(ParseUtc(FormatUtc(t), &back));
  REQUIRE(back == t);
  REQUIRE(FormatUtcCompact(t) == "20251125T035752Z");
  REQUIRE(FormatUtcDate(t) == "2025-11-25");
  REQUIRE(FormatUtcReadable(t) == "2025-11-25 03:57:52 UTC");
  REQUIRE(FormatUtcRfc5322(t) == "Tue, 25 Nov 2025 03:57:52 +0000");
  REQUIRE(FormatUtcReadable(UtcMicros{-1}) == "1969-12-31 23:59:59 UTC");
}

TEST_CASE("UTC parsing rejects malformed times") {
  UtcMicros t;
  REQUIRE_FALSE(ParseUtc("2025-11-25 03:57:52Z", &t));
  REQUIRE_FALSE(ParseUtc("2025-13-25T03:57:52Z", &t));
  REQUIRE_FALSE(ParseUtc("2025-11-25T03:57:52", &t));
  REQUIRE_FALSE(ParseUtc("2025-11-25T03:57:52.Z", &t));
  REQUIRE(ParseUtc("2025-11-25T03:57:52.5Z", &t));
  REQUIRE(t.us % kMicrosPerSecond == 500000);
}

TEST_CASE("a manual clock moves only when told, and may go backwards") {
  ManualClock c(UtcMicros{1000});
  REQUIRE(c.Now().us == 1000);
  c.Advance(500);
  REQUIRE(c.Now().us == 1500);
  REQUIRE(c.Monotonic().us == 500);
  c.SetWall(UtcMicros{10});
  REQUIRE(c.Now().us == 10);
  REQUIRE(c.Monotonic().us == 500);
}

TEST_CASE("credentials are removed from URLs before logging") {
  REQUIRE(RedactUrl("rtsp://admin:s3cret@10.0.0.2:554/stream1") == "rtsp://***@10.0.0.2:554/stream1");
  REQUIRE(RedactUrl("rtsp://10.0.0.2/a@b") == "rtsp://10.0.0.2/a@b");
}

TEST_CASE("SHA-256 matches the standard test vector") {
  REQUIRE(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
