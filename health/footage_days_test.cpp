#include "health/footage_days.h"

#include <catch2/catch.hpp>

using namespace custodian::health;

namespace {
constexpr uint64_t kGb = 1'000'000'000;
}

TEST_CASE("footage may grow into the free space up to retention's high watermark") {
  CHECK(FootageRoom({1000 * kGb, 400 * kGb, 90}) == 300 * kGb);  // 600 used, 900 allowed
  CHECK(FootageRoom({1000 * kGb, 50 * kGb, 90}) == 0);           // already past it
  CHECK(FootageRoom({1000 * kGb, 1000 * kGb, 100}) == 1000 * kGb);
  CHECK(FootageRoom({UINT64_MAX, UINT64_MAX, 90}) > 0);  // no overflow
}

TEST_CASE(
    "each camera's days of footage are its stored footage and its share of the room, "
    "at its rate, against its retention") {
  // 300 GB of room, shared 2:1 by rate.
  DiskSpace disk{1000 * kGb, 400 * kGb, 90};
  std::vector<CameraFootage> cameras = {
      {"lobby", 20 * kGb, 100 * kGb, std::nullopt, 31},  // 100 + 200 GB at 20 GB/day = 15 days
      {"yard", 10 * kGb, 50 * kGb, std::nullopt, 7},     // 50 + 100 GB at 10 GB/day = 15 days
      {"door", 0, 5 * kGb, std::nullopt, 31},            // nothing written lately
  };
  auto days = FootageDays(disk, cameras);
  REQUIRE(days.at("lobby").days.has_value());
  CHECK(*days.at("lobby").days == Approx(15.0));
  CHECK(days.at("lobby").short_of_retention);
  CHECK(*days.at("yard").days == Approx(15.0));
  CHECK_FALSE(days.at("yard").short_of_retention);
  CHECK_FALSE(days.at("door").days.has_value());
  CHECK_FALSE(days.at("door").short_of_retention);
  CHECK(days.at("door").capacity_bytes == 5 * kGb);
}

TEST_CASE("a camera's quota caps its days of footage whatever the free space") {
  DiskSpace disk{1000 * kGb, 900 * kGb, 90};
  auto days = FootageDays(disk, {{"lobby", 10 * kGb, 20 * kGb, 70 * kGb, 14}});
  CHECK(*days.at("lobby").days == Approx(7.0));
  CHECK(days.at("lobby").capacity_bytes == 70 * kGb);
  CHECK(days.at("lobby").short_of_retention);
  // A retention not yet known is not judged.
  days = FootageDays(disk, {{"lobby", 10 * kGb, 20 * kGb, 70 * kGb, std::nullopt}});
  CHECK_FALSE(days.at("lobby").short_of_retention);
}
