// Internal: enum <-> stored-name tables shared by the row files. Each enum's values are the
// indexes of its name table, in order.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace custodian::records::internal {

template <typename E, size_t N>
std::optional<E> ParseName(const char* const (&names)[N], std::string_view s) {
  for (size_t i = 0; i < N; ++i) {
    if (s == names[i]) return static_cast<E>(i);
  }
  return std::nullopt;
}

}  // namespace custodian::records::internal
