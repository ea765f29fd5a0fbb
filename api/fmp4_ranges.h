// Where the parts of a fragmented MP4 segment file lie, for HLS byte ranges: the
// initialisation section (ftyp + moov, before the first moof) and the media (the
// moof/mdat pairs, up to the trailing mfra index if there is one). Reads box headers
// only, never media data.
#pragma once

#include <cstdint>

#include "base/status.h"

namespace custodian::api {

struct Fmp4Ranges {
  uint64_t init_length = 0;  // bytes [0, init_length) are ftyp + moov
  uint64_t media_end = 0;    // bytes [init_length, media_end) are the fragments
};

// kDataLoss when the file has no moov followed by a moof.
Result<Fmp4Ranges> ReadFmp4Ranges(int fd, uint64_t file_size);

}  // namespace custodian::api
