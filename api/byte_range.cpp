#include "api/byte_range.h"

#include <optional>

namespace custodian::api {

namespace {

// Digits only, no sign, no overflow past 2^63.
std::optional<uint64_t> ParseCount(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

ByteRange ParseByteRange(std::string_view header, uint64_t size) {
  const ByteRange whole{ByteRange::Kind::kWhole, 0, size};
  constexpr std::string_view kUnit = "bytes=";
  header = Trim(header);
  if (header.substr(0, kUnit.size()) != kUnit) return whole;
  std::string_view spec = Trim(header.substr(kUnit.size()));
  if (spec.find(',') != spec.npos) return whole;
  size_t dash = spec.find('-');
  if (dash == spec.npos) return whole;
  std::string_view first = Trim(spec.substr(0, dash)), last = Trim(spec.substr(dash + 1));
  const ByteRange unsatisfiable{ByteRange::Kind::kUnsatisfiable, 0, 0};
  if (first.empty()) {  // suffix range: the last N bytes
    auto n = ParseCount(last);
    if (!n) return whole;
    if (*n == 0 || size == 0) return unsatisfiable;
    uint64_t len = *n < size ? *n : size;
    return {ByteRange::Kind::kPartial, size - len, len};
  }
  auto start = ParseCount(first);
  if (!start) return whole;
  std::optional<uint64_t> end;
  if (!last.empty()) {
    end = ParseCount(last);
    if (!end || *end < *start) return whole;  // invalid: ignored, per the RFC
  }
  if (*start >= size) return unsatisfiable;
  uint64_t stop = end && *end < size - 1 ? *end : size - 1;
  return {ByteRange::Kind::kPartial, *start, stop - *start + 1};
}

}  // namespace custodian::api
