// Live view: an HLS live playlist over the segment file a camera is recording now.
//
// The recorder closes a fragment (moof+mdat) at every keyframe and at least every second
// and hands it to the kernel at once (docs/design/recording.md), so the API can read the
// open file while it grows. ScanFragments lists the whole fragments in a file (never a
// partial one at the end) with their media time, keyframe flag and sequence number,
// reading only box headers and moof boxes. SelectLiveWindow picks the newest few across
// the rollover from one segment file to the next, and FormatLivePlaylist writes them as
// byte ranges of the files: a viewer gets the recorder's own bytes, with no second RTSP
// session and no re-encoding.
//
// Numbering, so that a reload gives every fragment the number it had before (RFC 8216
// section 6.2.2): the recorder numbers the fragments of one RTSP session (one run) as one
// sequence across its files (the moof's mfhd), and the media sequence number is
// run * kRunSequenceStride + that number. The discontinuity sequence (one discontinuity
// per file, since each file's media time starts at zero) is counted in memory by
// LiveDiscontinuities; it restarts with the server.
//
// Pure functions over file descriptors and values; LiveDiscontinuities is thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "base/time.h"

namespace custodian::api {

// How much media a live playlist lists at least (RFC 8216 asks for three target
// durations; more lets a player ride out a slow reload).
inline constexpr int64_t kLiveWindowUs = 6 * kMicrosPerSecond;
// A camera whose newest fragment ended longer ago than this has no live view.
inline constexpr int64_t kLiveStaleUs = 15 * kMicrosPerSecond;
inline constexpr uint64_t kRunSequenceStride = 1'000'000'000;

struct Fmp4Fragment {
  uint64_t offset = 0;      // of the moof
  uint64_t length = 0;      // moof and mdat together
  uint32_t number = 0;      // the moof's sequence number (mfhd)
  int64_t decode_us = 0;    // video decode time of its first frame, from the file's zero
  int64_t duration_us = 0;  // of its video
  bool starts_with_keyframe = false;
};

struct Fmp4Fragments {
  uint64_t init_length = 0;  // ftyp + moov: bytes [0, init_length)
  uint64_t whole_end = 0;    // end of the last whole fragment; init_length when there is none
  std::vector<Fmp4Fragment> fragments;
};

// The whole fragments of a fragmented MP4 file that may still be growing. Stops at the
// first box that is not yet whole or is not a moof+mdat pair (a trailing mfra, say).
// kDataLoss when the file has no moov with a video track before its fragments.
Result<Fmp4Fragments> ScanFragments(int fd, uint64_t file_size);

// One segment file as live view sees it.
struct LiveFile {
  int64_t segment_id = 0;
  std::string uri;  // absolute path and query of the file's bytes
  UtcMicros start;  // wall-clock UTC of media time zero (the segment's start)
  Fmp4Fragments parts;
};

struct LiveEntry {
  size_t file = 0;      // index into the files
  size_t fragment = 0;  // index into that file's fragments
};

// The newest fragments of files (consecutive files of one run, oldest first, whose
// fragment numbers continue one another): at least window_us of media, or everything
// there is, extended back to a fragment that starts with a keyframe when there is one,
// so that a player can start decoding at the first entry. Oldest first.
std::vector<LiveEntry> SelectLiveWindow(const std::vector<LiveFile>& files, int64_t window_us);

// EXT-X-TARGETDURATION for these files: the longest fragment, rounded to the nearest
// second as RFC 8216 compares them, and at least 1.
int64_t LiveTargetSeconds(const std::vector<LiveFile>& files);

// The playlist: no EXT-X-ENDLIST; an EXT-X-MAP per file, EXT-X-DISCONTINUITY where a file
// begins after the first, EXT-X-PROGRAM-DATE-TIME on every fragment. discontinuity is the
// discontinuity sequence number of the first entry's file.
std::string FormatLivePlaylist(const std::vector<LiveFile>& files,
                               const std::vector<LiveEntry>& entries, int64_t run,
                               uint64_t discontinuity);

// Discontinuity sequence numbers of the files that live playlists have listed, per
// camera, so that every viewer and every reload sees the same numbers.
class LiveDiscontinuities {
 public:
  // files: ids of consecutive segment files of one camera, oldest first. Returns the
  // number of the first; each later one is one more.
  uint64_t FirstNumber(const std::string& camera, const std::vector<int64_t>& files);

 private:
  static constexpr size_t kRememberedFiles = 16;
  Mutex mu_;
  std::map<std::string, std::map<int64_t, uint64_t>> numbers_ GUARDED_BY(mu_);
};

}  // namespace custodian::api
