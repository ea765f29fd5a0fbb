// Parsing of the HTTP Range header (RFC 9110 section 14) for one byte range.
//
// Only a single range is served. A header that is not a byte range, or asks for several
// ranges, is ignored (the whole file is sent, as the RFC allows); a well-formed single
// range that lies wholly past the end is unsatisfiable (416).
#pragma once

#include <cstdint>
#include <string_view>

namespace custodian::api {

struct ByteRange {
  enum class Kind { kWhole, kPartial, kUnsatisfiable };
  Kind kind = Kind::kWhole;
  uint64_t offset = 0;
  uint64_t length = 0;  // for kWhole, the file size
};

ByteRange ParseByteRange(std::string_view header, uint64_t file_size);

}  // namespace custodian::api
