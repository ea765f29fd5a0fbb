// Mp4Scan: reads the top-level box structure of a fragmented MP4 file without decoding, to
// find where its last whole fragment ends. Crash recovery trims a segment file to that
// offset, so that what remains is a valid file holding every complete GOP.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace custodian::media {

struct Mp4Layout {
  bool has_header = false;       // ftyp and moov both complete
  int64_t fragments = 0;         // complete moof+mdat pairs
  uint64_t valid_end = 0;        // offset just past the last complete box worth keeping
  uint64_t file_size = 0;
  bool complete = false;         // ends with an mfra box: the writer finished normally
};

Result<Mp4Layout> ScanFragmentedMp4(const std::string& path);

}  // namespace custodian::media
