#include "base/zoneinfo.h"

#include <catch2/catch.hpp>

#include "base/filesystem.h"

using namespace custodian;

namespace {

UtcMicros At(const std::string& text) {
  UtcMicros t;
  REQUIRE(ParseUtc(text, &t));
  return t;
}

}  // namespace

TEST_CASE("calendar months clamp to the end of a shorter month") {
  REQUIRE(AddCalendarMonths({2026, 1, 31}, 1) == CivilDate{2026, 2, 28});
  REQUIRE(AddCalendarMonths({2028, 1, 31}, 1) == CivilDate{2028, 2, 29});
  REQUIRE(AddCalendarMonths({2100, 1, 31}, 1) == CivilDate{2100, 2, 28});  // not a leap year
  REQUIRE(AddCalendarMonths({2000, 1, 30}, 1) == CivilDate{2000, 2, 29});
  REQUIRE(AddCalendarMonths({2026, 3, 31}, 1) == CivilDate{2026, 4, 30});
  REQUIRE(AddCalendarMonths({2026, 12, 15}, 1) == CivilDate{2027, 1, 15});
  REQUIRE(AddCalendarMonths({2026, 11, 30}, 3) == CivilDate{2027, 2, 28});
  REQUIRE(AddCalendarMonths({2026, 1, 15}, -1) == CivilDate{2025, 12, 15});
  REQUIRE(CivilFromDays(DaysFromCivil({2024, 2, 29})) == CivilDate{2024, 2, 29});
  REQUIRE(DaysFromCivil({1970, 1, 1}) == 0);
  CivilDate d;
  REQUIRE(ParseCivilDate("2028-02-29", &d));
  REQUIRE_FALSE(ParseCivilDate("2026-02-29", &d));
  REQUIRE(FormatCivilDate({2026, 2, 8}) == "2026-02-08");
}

TEST_CASE("UK local time follows GMT in winter and BST in summer from the tz database") {
  auto loaded = TimeZone::Load("Europe/London");
  INFO(loaded.status().ToString());
  REQUIRE(loaded.ok());
  const TimeZone& uk = *loaded;
  REQUIRE(uk.FormatLocal(At("2026-01-15T12:00:00Z")) == "2026-01-15T12:00:00+00:00");
  REQUIRE(uk.FormatOffset(At("2026-01-15T12:00:00Z")) == "+00:00 (GMT)");
  REQUIRE(uk.FormatLocal(At("2026-07-01T10:00:00Z")) == "2026-07-01T11:00:00+01:00");
  REQUIRE(uk.FormatOffset(At("2026-07-01T10:00:00Z")) == "+01:00 (BST)");
  // Clocks go forward at 01:00 GMT on the last Sunday of March, back at 01:00 GMT (02:00
  // BST) on the last Sunday of October.
  REQUIRE(uk.ToLocal(At("2026-03-29T00:59:59Z")).utc_offset_s == 0);
  REQUIRE(uk.ToLocal(At("2026-03-29T01:00:00Z")).utc_offset_s == 3600);
  REQUIRE(uk.ToLocal(At("2026-10-25T00:59:59Z")).utc_offset_s == 3600);
  REQUIRE(uk.ToLocal(At("2026-10-25T01:00:00Z")).utc_offset_s == 0);
  // A minute before midnight UTC in summer is already the next day in the UK.
  REQUIRE(uk.ToLocal(At("2026-06-30T23:30:00Z")).date == CivilDate{2026, 7, 1});
  REQUIRE(uk.StartOfLocalDay({2026, 7, 1}) == At("2026-06-30T23:00:00Z"));
  REQUIRE(uk.StartOfLocalDay({2026, 1, 1}) == At("2026-01-01T00:00:00Z"));
  // Past the file's last transition the footer rule answers.
  REQUIRE(uk.ToLocal(At("2045-07-01T10:00:00Z")).abbreviation == "BST");
  REQUIRE(uk.ToLocal(At("2045-12-01T10:00:00Z")).abbreviation == "GMT");
}

TEST_CASE("the built-in UK rule agrees with the tz database") {
  auto rule = TimeZone::FromPosixRule("Europe/London", "GMT0BST,M3.5.0/1,M10.5.0");
  REQUIRE(rule.ok());
  const TimeZone& db = TimeZone::UkLocal();
  for (int64_t t = At("2024-01-01T00:00:00Z").us; t < At("2027-01-01T00:00:00Z").us;
       t += 3 * 3600 * kMicrosPerSecond) {
    INFO(FormatUtc(UtcMicros{t}));
    REQUIRE(rule->FormatLocal(UtcMicros{t}) == db.FormatLocal(UtcMicros{t}));
  }
  REQUIRE(rule->ToLocal(At("2026-03-29T01:00:00Z")).abbreviation == "BST");
  REQUIRE(TimeZone::Load("No/Such_Zone").status().kind() == ErrorKind::kNotFound);
  // A database that cannot be read is an error naming the file, not a zone.
  FaultInjectingFilesystem failing(PosixFilesystem::Instance());
  failing.FailReads(true);
  Status unread = TimeZone::Load("Europe/London", "/usr/share/zoneinfo", &failing).status();
  REQUIRE(unread.kind() == ErrorKind::kIo);
  REQUIRE(unread.message().find("zoneinfo: open /usr/share/zoneinfo/Europe/London") == 0);
  REQUIRE_FALSE(TimeZone::FromPosixRule("x", "GMT0BST,J60,J300").ok());
}
