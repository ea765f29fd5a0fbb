// Small text-parsing helpers shared by the simulator's spec and command parsers.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

namespace custodian::sim {

// Whole-string decimal integer in [min, max].
inline bool ParseIntInRange(const std::string& text, int min, int max, int* out) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max) return false;
  *out = v;
  return true;
}

// Non-negative seconds with an optional fraction ("3", "0.5"), at most a day, as microseconds.
inline bool ParseSecondsToMicros(const std::string& text, int64_t* out_us) {
  if (text.empty() || text.find_first_not_of("0123456789.") != std::string::npos) return false;
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v) || v > 86400) {
    return false;
  }
  *out_us = static_cast<int64_t>(std::llround(v * 1e6));
  return true;
}

}  // namespace custodian::sim
