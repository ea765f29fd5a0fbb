#include "health/footage_days.h"

#include <catch2/catch.hpp>

using namespace custodian::health;

namespace {
constexpr uint64_t kGb = 1'000'000'000;
constexpr int64_t kHour = 3600 * custodian::kMicrosPerSecond;
constexpr int64_t kDay = custodian::kMicrosPerDay;
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
      {"lobby", 20 * kGb, 100 * kGb, std::nullopt, 31, kDay},  // 100 + 200 GB at 20 GB/day: 15 days
      {"yard", 10 * kGb, 50 * kGb, std::nullopt, 7, kDay},     // 50 + 100 GB at 10 GB/day: 15 days
      {"door", 0, 5 * kGb, std::nullopt, 31, 0},               // nothing written lately
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
  auto days = FootageDays(disk, {{"lobby", 10 * kGb, 20 * kGb, 70 * kGb, 14, kDay}});
  CHECK(*days.at("lobby").days == Approx(7.0));
  CHECK(days.at("lobby").capacity_bytes == 70 * kGb);
  CHECK(days.at("lobby").short_of_retention);
  // A retention not yet known is not judged.
  days = FootageDays(disk, {{"lobby", 10 * kGb, 20 * kGb, 70 * kGb, std::nullopt, kDay}});
  CHECK_FALSE(days.at("lobby").short_of_retention);
}

// Found in a user trial: on a new box the days left were the free space over a few minutes'
// bytes, as if they were a day's, and swung with every segment.
TEST_CASE("a daily rate is measured over the hours recorded, and not given from minutes") {
  CHECK_FALSE(BytesPerDay(kGb, 10 * 60 * custodian::kMicrosPerSecond).has_value());
  CHECK_FALSE(BytesPerDay(kGb, kMinRateSpanUs - 1).has_value());
  CHECK(*RateDueInUs(10 * 60 * custodian::kMicrosPerSecond) == kMinRateSpanUs - 10 * 60'000'000);
  CHECK(*RateDueInUs(5 * kHour) == 0);
  CHECK_FALSE(RateDueInUs(0).has_value());
  // A steady gigabyte an hour is 24 GB a day whether measured over 4 hours or a whole day.
  CHECK(*BytesPerDay(4 * kGb, 4 * kHour) == Approx(24.0 * kGb));
  CHECK(*BytesPerDay(24 * kGb, kDay) == Approx(24.0 * kGb));
  // Never more than a day: the bytes are the last day's.
  CHECK(*BytesPerDay(24 * kGb, 3 * kDay) == Approx(24.0 * kGb));
}

TEST_CASE("a new camera's days of footage wait for hours of recording, then are steady") {
  DiskSpace disk{1000 * kGb, 900 * kGb, 90};  // 800 GB of room
  // Ten minutes of a camera writing 24 GB a day: 10 minutes' bytes.
  const uint64_t ten_minutes = 24 * kGb / 144;
  auto early = FootageDays(disk, {{"porch", ten_minutes, ten_minutes, std::nullopt, 31,
                                   10 * 60 * custodian::kMicrosPerSecond}});
  CHECK_FALSE(early.at("porch").days.has_value());
  CHECK_FALSE(early.at("porch").short_of_retention);
  REQUIRE(early.at("porch").estimate_in_us.has_value());
  CHECK(*early.at("porch").estimate_in_us == kMinRateSpanUs - 10 * 60'000'000);
  // Four hours in: (4 GB stored + 800 GB room) at 24 GB a day.
  auto later = FootageDays(disk, {{"porch", 4 * kGb, 4 * kGb, std::nullopt, 31, 4 * kHour}});
  REQUIRE(later.at("porch").days.has_value());
  CHECK(*later.at("porch").days == Approx(804.0 / 24.0));
  CHECK(*later.at("porch").bytes_per_day == Approx(24.0 * kGb));
  CHECK(*later.at("porch").estimate_in_us == 0);
  CHECK(later.at("porch").short_of_retention == false);  // 33.5 days >= 31
}

TEST_CASE("the disk's days left are given only when every recording camera's rate is measured") {
  // Two cameras a day old at 10 and 20 GB a day, and 600 GB free: 20 days.
  std::vector<CameraFootage> cameras = {
      {"lobby", 10 * kGb, 10 * kGb, std::nullopt, 31, kDay},
      {"yard", 20 * kGb, 20 * kGb, std::nullopt, 31, kDay},
      {"door", 0, 5 * kGb, std::nullopt, 31, 0},  // not recording: no part in it
  };
  DiskOutlook d = DiskDaysLeft(600 * kGb, cameras);
  REQUIRE(d.days_left.has_value());
  CHECK(*d.days_left == Approx(20.0));
  CHECK(*d.bytes_per_day == Approx(30.0 * kGb));
  CHECK(*d.estimate_in_us == 0);
  // A camera added an hour ago: no figure (leaving it out would promise too many days)
  // until it has recorded for kMinRateSpanUs.
  cameras.push_back({"porch", kGb / 2, kGb / 2, std::nullopt, 31, kHour});
  d = DiskDaysLeft(600 * kGb, cameras);
  CHECK_FALSE(d.days_left.has_value());
  CHECK_FALSE(d.bytes_per_day.has_value());
  REQUIRE(d.estimate_in_us.has_value());
  CHECK(*d.estimate_in_us == kMinRateSpanUs - kHour);
  // A box that has recorded nothing says nothing.
  d = DiskDaysLeft(600 * kGb, {{"door", 0, 0, std::nullopt, 31, 0}});
  CHECK_FALSE(d.days_left.has_value());
  CHECK_FALSE(d.estimate_in_us.has_value());
}
