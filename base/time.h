// Time in Custodian. Wall-clock time in the records is UTC in integer microseconds since the
// Unix epoch (UtcMicros); durations are integer microseconds with `_us` in their names.
// Media time stays in each stream's own timebase inside media/ and recorder/ and is
// converted to microseconds only when it is written to the records. Monotonic time
// (MonoMicros) is for timeouts and rates and never stored.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace custodian {

struct UtcMicros {
  int64_t us = 0;
  auto operator<=>(const UtcMicros&) const = default;
  UtcMicros operator+(int64_t d_us) const { return {us + d_us}; }
  UtcMicros operator-(int64_t d_us) const { return {us - d_us}; }
  int64_t operator-(UtcMicros o) const { return us - o.us; }
};

struct MonoMicros {
  int64_t us = 0;
  auto operator<=>(const MonoMicros&) const = default;
  int64_t operator-(MonoMicros o) const { return us - o.us; }
};

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

// "2026-11-25T03:57:52.123456Z"
std::string FormatUtc(UtcMicros t);
// "20261125T035752Z" (second precision; used in file names)
std::string FormatUtcCompact(UtcMicros t);
// "2026-11-25"
std::string FormatUtcDate(UtcMicros t);
// Parses "YYYY-MM-DDTHH:MM:SS[.ffffff]Z"; false on anything else.
bool ParseUtc(const std::string& text, UtcMicros* out);

}  // namespace custodian
