#include "api/fmp4_ranges.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace custodian::api {

namespace {

constexpr int kMaxBoxesBeforeMedia = 64;

uint64_t ReadBe(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

bool ReadAt(int fd, void* buf, size_t n, uint64_t offset) {
  ssize_t r = ::pread(fd, buf, n, static_cast<off_t>(offset));
  return r == static_cast<ssize_t>(n);
}

// The size of the trailing mfra box, from the mfro box that closes it; 0 if none.
uint64_t TrailingIndexSize(int fd, uint64_t file_size) {
  unsigned char tail[16];
  if (file_size < sizeof(tail) || !ReadAt(fd, tail, sizeof(tail), file_size - sizeof(tail))) {
    return 0;
  }
  if (ReadBe(tail, 4) != 16 || std::memcmp(tail + 4, "mfro", 4) != 0) return 0;
  uint64_t mfra = ReadBe(tail + 12, 4);
  return mfra <= file_size ? mfra : 0;
}

}  // namespace

Result<Fmp4Ranges> ReadFmp4Ranges(int fd, uint64_t file_size) {
  uint64_t pos = 0;
  bool moov = false;
  for (int i = 0; i < kMaxBoxesBeforeMedia && pos + 8 <= file_size; ++i) {
    unsigned char hdr[16];
    if (!ReadAt(fd, hdr, 8, pos)) return IoError(std::string("read: ") + std::strerror(errno));
    uint64_t size = ReadBe(hdr, 4);
    if (size == 1) {
      if (!ReadAt(fd, hdr + 8, 8, pos + 8)) return DataLoss("torn box header");
      size = ReadBe(hdr + 8, 8);
    }
    if (size < 8 || pos + size > file_size) break;
    if (std::memcmp(hdr + 4, "moov", 4) == 0) moov = true;
    if (std::memcmp(hdr + 4, "moof", 4) == 0) {
      if (!moov) break;
      uint64_t media_end = file_size - TrailingIndexSize(fd, file_size);
      if (media_end <= pos) media_end = file_size;
      return Fmp4Ranges{pos, media_end};
    }
    pos += size;
  }
  return DataLoss("not a fragmented MP4 with a moov before its first fragment");
}

}  // namespace custodian::api
