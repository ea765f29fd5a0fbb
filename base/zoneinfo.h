// TimeZone: civil (local) time from the system time-zone database, for the few places that
// must speak the UK's local time: a DSAR's deadline is a calendar date in the UK, and an
// export tells its recipient the GMT/BST offset of every time it names.
//
// Reads a TZif file (version 2 or later, /usr/share/zoneinfo from Debian's tzdata) and
// answers from its 64-bit transition table, then from its POSIX TZ footer for instants
// after the last transition. Needs no TZ environment variable and no global state, so it
// is safe to share between threads once loaded (all methods are const).
//
// CivilDate arithmetic is proleptic Gregorian, independent of any zone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace custodian {

class Filesystem;

struct CivilDate {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  auto operator<=>(const CivilDate&) const = default;
};

// Days since 1970-01-01 of a civil date, and back.
int64_t DaysFromCivil(const CivilDate& d);
CivilDate CivilFromDays(int64_t days);
int DaysInMonth(int year, int month);
// The same day `months` later, clamped to the end of a shorter month: 31 January plus one
// month is 28 (or, in a leap year, 29) February. months may be negative.
CivilDate AddCalendarMonths(const CivilDate& d, int months);
// "2026-02-28"
std::string FormatCivilDate(const CivilDate& d);
// Parses "YYYY-MM-DD" (a real date); false otherwise.
bool ParseCivilDate(const std::string& text, CivilDate* out);

struct LocalTime {
  CivilDate date;
  int hour = 0, minute = 0, second = 0;
  int64_t micros = 0;    // 0..999999
  int utc_offset_s = 0;  // local minus UTC: 0 for GMT, 3600 for BST
  bool is_dst = false;
  std::string abbreviation;  // "GMT", "BST"
};

class TimeZone {
 public:
  // Loads a zone by name ("Europe/London") from zoneinfo_dir, read through fs (the process's
  // PosixFilesystem when null): kNotFound when the file is missing, the read's error when it
  // cannot be read, kDataLoss when it is not a TZif file this reads.
  static Result<TimeZone> Load(const std::string& name,
                               const std::string& zoneinfo_dir = "/usr/share/zoneinfo",
                               Filesystem* fs = nullptr);
  // A zone from a POSIX TZ rule alone ("GMT0BST,M3.5.0/1,M10.5.0"), for when the database
  // is missing and for tests.
  static Result<TimeZone> FromPosixRule(const std::string& name, const std::string& rule);
  // Europe/London, loaded once; if the tz database cannot be read, the UK rule in force
  // since 1996 (logged once as a warning).
  static const TimeZone& UkLocal();

  const std::string& name() const { return name_; }
  LocalTime ToLocal(UtcMicros t) const;
  // The UTC instant at which the local date begins (local midnight; for a zone whose
  // clocks change at midnight, the first instant of that date).
  UtcMicros StartOfLocalDay(const CivilDate& d) const;
  // "2026-07-01T11:00:00+01:00" (with ".ffffff" when the instant has microseconds).
  std::string FormatLocal(UtcMicros t) const;
  // "+01:00 (BST)"
  std::string FormatOffset(UtcMicros t) const;

 private:
  struct Type {
    int32_t utoff = 0;
    bool dst = false;
    std::string abbr;
  };
  struct Transition {
    int64_t at = 0;  // seconds since the epoch, UTC
    int type = 0;
  };

  const Type& TypeAt(int64_t unix_seconds) const;
  const Type& RuleTypeAt(int64_t unix_seconds) const;
  Status ParseFooter(const std::string& rule);

  std::string name_;
  std::vector<Type> types_;
  std::vector<Transition> transitions_;
  // The footer: std type, dst type (or -1), and the two change rules as
  // {month, week, weekday, seconds-after-local-midnight} each.
  int std_type_ = 0;
  int dst_type_ = -1;
  int rule_start_[4] = {0, 0, 0, 0};
  int rule_end_[4] = {0, 0, 0, 0};
  bool has_rule_ = false;
};

// "+01:00" for 3600, "-05:30" for -19800.
std::string FormatUtcOffset(int offset_seconds);

}  // namespace custodian
