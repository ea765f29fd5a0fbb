#include "media/mp4_scan.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace custodian::media {

namespace {
struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

uint64_t ReadBe(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}
}  // namespace

Result<Mp4Layout> ScanFragmentedMp4(const std::string& path) {
  std::unique_ptr<FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) return ErrnoStatus("open " + path, errno);
  if (std::fseek(f.get(), 0, SEEK_END) != 0) return ErrnoStatus("seek " + path, errno);
  Mp4Layout out;
  out.file_size = static_cast<uint64_t>(std::ftell(f.get()));

  bool ftyp = false, pending_moof = false;
  uint64_t pos = 0;
  while (pos + 8 <= out.file_size) {
    unsigned char hdr[16];
    if (std::fseek(f.get(), static_cast<long>(pos), SEEK_SET) != 0) break;
    if (std::fread(hdr, 1, 8, f.get()) != 8) break;
    uint64_t size = ReadBe(hdr, 4);
    char type[5] = {0};
    std::memcpy(type, hdr + 4, 4);
    if (size == 1) {
      if (std::fread(hdr + 8, 1, 8, f.get()) != 8) break;
      size = ReadBe(hdr + 8, 8);
    }
    if (size < 8 || pos + size > out.file_size) break;  // torn or open-ended box
    const uint64_t end = pos + size;
    std::string t(type);
    if (t == "ftyp") {
      ftyp = true;
    } else if (t == "moov") {
      if (ftyp) {
        out.has_header = true;
        out.valid_end = end;
      }
    } else if (t == "moof") {
      pending_moof = true;
    } else if (t == "mdat") {
      if (pending_moof && out.has_header) {
        ++out.fragments;
        out.valid_end = end;
      }
      pending_moof = false;
    } else if (t == "mfra") {
      if (out.has_header && !pending_moof) {
        out.complete = true;
        out.valid_end = end;
      }
    }
    pos = end;
  }
  return out;
}

}  // namespace custodian::media
