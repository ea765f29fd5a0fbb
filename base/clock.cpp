#include "base/clock.h"

#include <sys/timex.h>
#include <time.h>

#include <cstdio>
#include <ctime>

#include "base/status.h"

namespace custodian {

namespace {
int64_t ReadClock(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return int64_t{ts.tv_sec} * kMicrosPerSecond + ts.tv_nsec / 1000;
}
}  // namespace

UtcMicros SystemClock::Now() const { return {ReadClock(CLOCK_REALTIME)}; }
MonoMicros SystemClock::Monotonic() const { return {ReadClock(CLOCK_MONOTONIC)}; }

bool SystemClock::Synchronized() const {
  timex tx{};
  int state = adjtimex(&tx);
  return state != TIME_ERROR && !(tx.status & STA_UNSYNC);
}

void SystemClock::SleepFor(int64_t d_us) const {
  if (d_us <= 0) return;
  timespec ts{static_cast<time_t>(d_us / kMicrosPerSecond),
              static_cast<long>((d_us % kMicrosPerSecond) * 1000)};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

static void SplitUtc(UtcMicros t, std::tm* tm, int64_t* frac) {
  int64_t secs = t.us / kMicrosPerSecond;
  *frac = t.us % kMicrosPerSecond;
  if (*frac < 0) {
    *frac += kMicrosPerSecond;
    secs -= 1;
  }
  time_t tt = static_cast<time_t>(secs);
  gmtime_r(&tt, tm);
}

std::string FormatUtc(UtcMicros t) {
  std::tm tm{};
  int64_t frac = 0;
  SplitUtc(t, &tm, &frac);
  char buf[128];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(frac));
  return buf;
}

std::string FormatUtcCompact(UtcMicros t) {
  std::tm tm{};
  int64_t frac = 0;
  SplitUtc(t, &tm, &frac);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string FormatUtcDate(UtcMicros t) {
  std::tm tm{};
  int64_t frac = 0;
  SplitUtc(t, &tm, &frac);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

std::string FormatUtcReadable(UtcMicros t) {
  std::tm tm{};
  int64_t frac = 0;
  SplitUtc(t, &tm, &frac);
  char buf[96];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string FormatUtcRfc5322(UtcMicros t) {
  std::tm tm{};
  int64_t frac = 0;
  SplitUtc(t, &tm, &frac);
  // strftime's %a and %b follow the locale; RFC 5322 wants the English names.
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

bool ParseUtc(const std::string& text, UtcMicros* out) {
  int y, mo, d, h, mi, s;
  int n = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6)
    return false;
  int64_t frac = 0;
  size_t pos = static_cast<size_t>(n);
  if (pos < text.size() && text[pos] == '.') {
    int digits = 0;
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 6) {
        frac = frac * 10 + (text[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (digits == 0) return false;
    while (digits++ < 6) frac *= 10;
  }
  if (pos + 1 != text.size() || text[pos] != 'Z') return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return false;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  time_t secs = timegm(&tm);
  out->us = int64_t{secs} * kMicrosPerSecond + frac;
  return true;
}

}  // namespace custodian
