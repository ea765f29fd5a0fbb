#include "base/zoneinfo.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "base/filesystem.h"
#include "base/log.h"

namespace custodian {

namespace {

constexpr int64_t kSecondsPerDay = 86'400;
// The UK rule since 1996, used when the tz database cannot be read.
constexpr const char* kUkRule = "GMT0BST,M3.5.0/1,M10.5.0";

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t ReadBigEndian(const std::string& data, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(data[pos + i]);
  if (bytes == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Seconds of [+-]hh[:mm[:ss]] at text[*i]; false when there is none.
bool ParseHms(const std::string& text, size_t* i, int* out) {
  int sign = 1;
  if (*i < text.size() && (text[*i] == '+' || text[*i] == '-')) {
    sign = text[*i] == '-' ? -1 : 1;
    ++*i;
  }
  int parts[3] = {0, 0, 0};
  for (int p = 0; p < 3; ++p) {
    if (p > 0) {
      if (*i >= text.size() || text[*i] != ':') break;
      ++*i;
    }
    size_t start = *i;
    while (*i < text.size() && text[*i] >= '0' && text[*i] <= '9') {
      parts[p] = parts[p] * 10 + (text[*i] - '0');
      ++*i;
    }
    if (*i == start) return false;
  }
  *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
  return true;
}

bool ParseAbbreviation(const std::string& text, size_t* i, std::string* out) {
  if (*i < text.size() && text[*i] == '<') {
    size_t close = text.find('>', *i);
    if (close == std::string::npos) return false;
    *out = text.substr(*i + 1, close - *i - 1);
    *i = close + 1;
    return !out->empty();
  }
  size_t start = *i;
  while (*i < text.size() &&
         ((text[*i] >= 'A' && text[*i] <= 'Z') || (text[*i] >= 'a' && text[*i] <= 'z'))) {
    ++*i;
  }
  *out = text.substr(start, *i - start);
  return out->size() >= 3;
}

// ",Mm.w.d[/time]" at text[*i] into {month, week, weekday, seconds}.
bool ParseMonthRule(const std::string& text, size_t* i, int out[4]) {
  int m = 0, w = 0, d = 0, n = 0;
  if (std::sscanf(text.c_str() + *i, ",M%d.%d.%d%n", &m, &w, &d, &n) != 3) return false;
  if (m < 1 || m > 12 || w < 1 || w > 5 || d < 0 || d > 6) return false;
  *i += static_cast<size_t>(n);
  int secs = 2 * 3600;
  if (*i < text.size() && text[*i] == '/') {
    ++*i;
    if (!ParseHms(text, i, &secs)) return false;
  }
  out[0] = m;
  out[1] = w;
  out[2] = d;
  out[3] = secs;
  return true;
}

// Local-time seconds since the epoch at which a month rule fires in `year`.
int64_t RuleLocalSeconds(int year, const int rule[4]) {
  const int month = rule[0], week = rule[1], weekday = rule[2];
  const int64_t first = DaysFromCivil({year, month, 1});
  const int first_weekday =
      static_cast<int>(((first % 7) + 7 + 4) % 7);  // 1970-01-01 was a Thursday
  int day = 1 + (weekday - first_weekday + 7) % 7 + (week - 1) * 7;
  while (day > DaysInMonth(year, month)) day -= 7;
  return (first + day - 1) * kSecondsPerDay + rule[3];
}

}  // namespace

int64_t DaysFromCivil(const CivilDate& d) {
  // Howard Hinnant's days_from_civil.
  const int y = d.year - (d.month <= 2);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned mp = static_cast<unsigned>(d.month + (d.month > 2 ? -3 : 9));
  const unsigned doy = (153 * mp + 2) / 5 + static_cast<unsigned>(d.day) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return int64_t{era} * 146097 + static_cast<int64_t>(doe) - 719468;
}

CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{static_cast<int>(y + (m <= 2)), static_cast<int>(m), static_cast<int>(d)};
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeap(year) ? 29 : kDays[month - 1];
}

CivilDate AddCalendarMonths(const CivilDate& d, int months) {
  int64_t index = int64_t{d.year} * 12 + (d.month - 1) + months;
  CivilDate out;
  out.year = static_cast<int>(FloorDiv(index, 12));
  out.month = static_cast<int>(index - int64_t{out.year} * 12) + 1;
  out.day = std::min(d.day, DaysInMonth(out.year, out.month));
  return out;
}

std::string FormatCivilDate(const CivilDate& d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

bool ParseCivilDate(const std::string& text, CivilDate* out) {
  int y = 0, m = 0, d = 0, n = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 ||
      n != 10) {
    return false;
  }
  if (m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, m)) return false;
  *out = CivilDate{y, m, d};
  return true;
}

std::string FormatUtcOffset(int offset_seconds) {
  const char sign = offset_seconds < 0 ? '-' : '+';
  const int a = offset_seconds < 0 ? -offset_seconds : offset_seconds;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", sign, a / 3600, (a / 60) % 60);
  return buf;
}

Status TimeZone::ParseFooter(const std::string& rule) {
  size_t i = 0;
  Type std_type, dst_type;
  int std_posix = 0;
  if (!ParseAbbreviation(rule, &i, &std_type.abbr) || !ParseHms(rule, &i, &std_posix)) {
    return InvalidArgument("zoneinfo: cannot read the standard time in TZ rule '" + rule + "'");
  }
  // POSIX offsets count hours west of Greenwich; TZif offsets count east.
  std_type.utoff = -std_posix;
  types_.push_back(std_type);
  std_type_ = static_cast<int>(types_.size()) - 1;
  if (i == rule.size()) return Status::Ok();

  if (!ParseAbbreviation(rule, &i, &dst_type.abbr)) {
    return InvalidArgument("zoneinfo: cannot read the summer time in TZ rule '" + rule + "'");
  }
  int dst_posix = std_posix - 3600;
  if (i < rule.size() && rule[i] != ',') {
    if (!ParseHms(rule, &i, &dst_posix)) {
      return InvalidArgument("zoneinfo: bad summer time offset in TZ rule '" + rule + "'");
    }
  }
  dst_type.utoff = -dst_posix;
  dst_type.dst = true;
  if (!ParseMonthRule(rule, &i, rule_start_) || !ParseMonthRule(rule, &i, rule_end_) ||
      i != rule.size()) {
    return InvalidArgument("zoneinfo: only Mm.w.d change rules are supported, not '" + rule + "'");
  }
  types_.push_back(dst_type);
  dst_type_ = static_cast<int>(types_.size()) - 1;
  has_rule_ = true;
  return Status::Ok();
}

Result<TimeZone> TimeZone::FromPosixRule(const std::string& name, const std::string& rule) {
  TimeZone zone;
  zone.name_ = name;
  CUSTODIAN_RETURN_IF_ERROR(zone.ParseFooter(rule));
  return zone;
}

Result<TimeZone> TimeZone::Load(const std::string& name, const std::string& zoneinfo_dir,
                                Filesystem* fs) {
  const std::string path = zoneinfo_dir + "/" + name;
  // A TZif file is a few kilobytes; anything near this bound is not one.
  constexpr uint64_t kMaxTzifBytes = 1 << 20;
  auto read =
      ReadFileToString(fs != nullptr ? *fs : PosixFilesystem::Instance(), path, kMaxTzifBytes);
  if (!read.ok()) return Status(read.status().kind(), "zoneinfo: " + read.status().message());
  const std::string& data = *read;
  auto bad = [&](const std::string& why) { return DataLoss("zoneinfo: " + path + ": " + why); };
  if (data.size() < 44 || data.compare(0, 4, "TZif") != 0) return bad("not a TZif file");
  if (data[4] < '2') return bad("TZif version 1 is not supported");

  // Skip the version 1 block (32-bit times) to reach the version 2 header.
  auto counts = [&](size_t header, int64_t c[6]) {
    for (int k = 0; k < 6; ++k) c[k] = ReadBigEndian(data, header + 20 + 4 * k, 4);
  };
  int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  counts(0, c);
  size_t pos = 44 + c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
  if (data.size() < pos + 44 || data.compare(pos, 4, "TZif") != 0) return bad("no v2 header");
  counts(pos, c);
  pos += 44;
  const int64_t timecnt = c[3], typecnt = c[4], charcnt = c[5];
  const size_t need = timecnt * 9 + typecnt * 6 + charcnt + c[2] * 12 + c[1] + c[0];
  if (typecnt < 1 || data.size() < pos + need) return bad("truncated");

  TimeZone zone;
  zone.name_ = name;
  const size_t idx_pos = pos + timecnt * 8;
  const size_t type_pos = idx_pos + timecnt;
  const size_t char_pos = type_pos + typecnt * 6;
  for (int64_t k = 0; k < typecnt; ++k) {
    Type t;
    t.utoff = static_cast<int32_t>(ReadBigEndian(data, type_pos + k * 6, 4));
    t.dst = data[type_pos + k * 6 + 4] != 0;
    size_t abbr = static_cast<uint8_t>(data[type_pos + k * 6 + 5]);
    if (abbr >= static_cast<size_t>(charcnt)) return bad("abbreviation out of range");
    t.abbr = data.substr(char_pos + abbr).c_str();
    zone.types_.push_back(t);
  }
  for (int64_t k = 0; k < timecnt; ++k) {
    int type = static_cast<uint8_t>(data[idx_pos + k]);
    if (type >= typecnt) return bad("transition type out of range");
    zone.transitions_.push_back({ReadBigEndian(data, pos + k * 8, 8), type});
  }
  // The footer, "\n<rule>\n", covers instants after the last transition.
  size_t footer = pos + need;
  if (footer < data.size() && data[footer] == '\n') {
    size_t end = data.find('\n', footer + 1);
    std::string rule = data.substr(footer + 1, end == std::string::npos ? 0 : end - footer - 1);
    if (!rule.empty()) {
      Status st = zone.ParseFooter(rule);
      if (!st.ok()) return bad(st.message());
    }
  }
  return zone;
}

const TimeZone& TimeZone::UkLocal() {
  static const TimeZone zone = [] {
    auto loaded = Load("Europe/London");
    if (loaded.ok()) return std::move(loaded).value();
    LogWarn("zoneinfo") << loaded.status().ToString() << "; using the built-in UK rule " << kUkRule;
    return FromPosixRule("Europe/London", kUkRule).value();
  }();
  return zone;
}

const TimeZone::Type& TimeZone::RuleTypeAt(int64_t t) const {
  if (!has_rule_) return types_[std_type_];
  const int year = CivilFromDays(FloorDiv(t, kSecondsPerDay)).year;
  const Type& st = types_[std_type_];
  const Type& dt = types_[dst_type_];
  const int64_t start = RuleLocalSeconds(year, rule_start_) - st.utoff;
  const int64_t end = RuleLocalSeconds(year, rule_end_) - dt.utoff;
  const bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
  return dst ? dt : st;
}

const TimeZone::Type& TimeZone::TypeAt(int64_t t) const {
  if (transitions_.empty() || t >= transitions_.back().at) {
    if (has_rule_ || transitions_.empty()) return RuleTypeAt(t);
    return types_[transitions_.back().type];
  }
  if (t < transitions_.front().at) {
    // Before the first transition: the first non-DST type, as RFC 8536 suggests.
    for (const Type& type : types_) {
      if (!type.dst) return type;
    }
    return types_[0];
  }
  size_t lo = 0, hi = transitions_.size() - 1;  // transitions_[lo].at <= t < [hi].at
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    (transitions_[mid].at <= t ? lo : hi) = mid;
  }
  return types_[transitions_[lo].type];
}

LocalTime TimeZone::ToLocal(UtcMicros t) const {
  int64_t secs = FloorDiv(t.us, kMicrosPerSecond);
  const Type& type = TypeAt(secs);
  LocalTime out;
  out.micros = t.us - secs * kMicrosPerSecond;
  out.utc_offset_s = type.utoff;
  out.is_dst = type.dst;
  out.abbreviation = type.abbr;
  const int64_t local = secs + type.utoff;
  const int64_t days = FloorDiv(local, kSecondsPerDay);
  out.date = CivilFromDays(days);
  const int64_t sod = local - days * kSecondsPerDay;
  out.hour = static_cast<int>(sod / 3600);
  out.minute = static_cast<int>((sod / 60) % 60);
  out.second = static_cast<int>(sod % 60);
  return out;
}

UtcMicros TimeZone::StartOfLocalDay(const CivilDate& d) const {
  const int64_t local_midnight = DaysFromCivil(d) * kSecondsPerDay;
  // Try the offsets in force around that day; the earliest UTC instant whose local date is d.
  int64_t best = INT64_MAX;
  for (int64_t probe :
       {local_midnight - kSecondsPerDay, local_midnight, local_midnight + kSecondsPerDay}) {
    const int64_t utc = local_midnight - TypeAt(probe).utoff;
    if (ToLocal(UtcMicros{utc * kMicrosPerSecond}).date == d && utc < best) best = utc;
  }
  if (best == INT64_MAX) {
    // Midnight does not exist (the clocks jumped over it): the day starts at the jump.
    best = local_midnight - TypeAt(local_midnight).utoff;
  }
  return UtcMicros{best * kMicrosPerSecond};
}

std::string TimeZone::FormatLocal(UtcMicros t) const {
  LocalTime l = ToLocal(t);
  char buf[64];
  if (l.micros == 0) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", l.date.year, l.date.month,
                  l.date.day, l.hour, l.minute, l.second);
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld", l.date.year,
                  l.date.month, l.date.day, l.hour, l.minute, l.second,
                  static_cast<long long>(l.micros));
  }
  return std::string(buf) + FormatUtcOffset(l.utc_offset_s);
}

std::string TimeZone::FormatOffset(UtcMicros t) const {
  LocalTime l = ToLocal(t);
  return FormatUtcOffset(l.utc_offset_s) + " (" + l.abbreviation + ")";
}

}  // namespace custodian
