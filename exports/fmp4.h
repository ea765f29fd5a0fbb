// Fmp4: reads the box structure of a fragmented MP4 segment (as the recorder writes it:
// ftyp, moov with mvex, then moof+mdat pairs, optionally mfra) well enough to splice
// fragments from many segments into one file without touching a single media byte.
//
// A splice copies the first segment's ftyp+moov, then each wanted fragment with its moof
// patched (the sequence number in mfhd and the decode time in each tfdt) and its mdat
// copied verbatim. That is only valid between segments whose tracks are identical, which
// InitSignature captures: track ids, handler types, timescales and the full sample
// descriptions (codec, profile, parameter sets, picture size). A resolution or codec change
// changes the signature and starts a new output part.
//
// The parser works on a file held in memory and returns offsets into it; it never copies
// sample data. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace custodian::exports {

struct Fmp4Track {
  uint32_t track_id = 0;
  uint32_t timescale = 0;
  std::string handler;            // "vide", "soun"
  uint32_t default_duration = 0;  // trex
  uint32_t default_flags = 0;     // trex
};

struct TrafTiming {
  uint32_t track_id = 0;
  size_t tfdt_offset = 0;  // offset of the tfdt box within the moof
  int tfdt_version = 1;
  uint64_t decode_time = 0;  // tfdt baseMediaDecodeTime
  uint64_t duration = 0;     // sum of the fragment's sample durations, track timescale
  bool starts_with_sync = true;
};

struct Fmp4Fragment {
  size_t moof_offset = 0;  // in the file
  size_t moof_size = 0;
  size_t mdat_offset = 0;
  size_t mdat_size = 0;    // whole box, header included
  size_t mfhd_offset = 0;  // offset of the mfhd box within the moof
  std::vector<TrafTiming> trafs;
};

struct Fmp4File {
  size_t header_size = 0;  // ftyp + moov (+ anything between), copied as the output's header
  std::vector<Fmp4Track> tracks;
  int video_index = -1;       // into tracks
  int width = 0, height = 0;  // of the video sample entry
  std::string video_codec;    // sample entry type: "avc1", "hvc1", "hev1"
  std::string signature;      // InitSignature: equal for spliceable files
  std::vector<Fmp4Fragment> fragments;

  const Fmp4Track& video() const { return tracks[video_index]; }
  // The video traf of a fragment, or nullptr.
  const TrafTiming* VideoTiming(const Fmp4Fragment& f) const;
};

// Parses a whole fragmented MP4 held in memory. kDataLoss when the structure is broken
// (a truncated box, a fragment without mdat), kInvalidArgument when the file is not a
// fragmented MP4 with one video track.
Result<Fmp4File> ParseFmp4(const uint8_t* data, size_t size);

// A copy of the fragment's moof with the sequence number and each track's decode time
// replaced. decode_times[i] is for file.tracks[i]. kInvalidArgument when a time does not
// fit a version-0 tfdt.
Result<std::vector<uint8_t>> PatchMoof(const uint8_t* file_data, const Fmp4Fragment& fragment,
                                       const Fmp4File& file, uint32_t sequence,
                                       const std::vector<uint64_t>& decode_times);

}  // namespace custodian::exports
