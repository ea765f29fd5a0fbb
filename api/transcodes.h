// TranscodeCache: H.264 copies of recorded footage, made on demand for browsers that cannot
// decode a camera's own codec (H.265 in Debian's Chromium), and kept while viewers use them.
//
// A transcode is one segment file from one fragment on (the file's first for playback, the
// live playlist's first keyframe for live view), keyed by segment id and that fragment's
// number. Its output is a fragmented MP4 that only grows (media::H264Transcoder), read by
// byte offset: a client asks for the bytes from the offset it has, and gets what exists,
// after the transcode has been advanced when the client has caught up with it. So nothing
// is transcoded ahead of a viewer, a viewer who stops costs nothing, and a file still being
// recorded is followed as it grows (live view).
//
// Bounded CPU: one transcode works at a time in the whole server (kSlotWaitMs to get the
// slot, else kUnavailable: "busy"), and one request advances it by at most about a second
// of work. Bounded memory: outputs are dropped least recently used first beyond max_bytes,
// and after kIdleDropUs without a reader; a reader who comes back starts over.
//
// Thread-safe. Reading the footage is the caller's business: the handler has checked the
// permission and purpose and logs the viewing (api/viewings.h) before sending the bytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/mutex.h"
#include "base/status.h"
#include "media/h264_transcoder.h"

namespace custodian::api {

struct TranscodeKey {
  int64_t segment_id = 0;
  uint32_t first_fragment = 0;  // the moof number to start from; 0: the file's first
  auto operator<=>(const TranscodeKey&) const = default;
};

struct TranscodeChunk {
  uint64_t offset = 0;
  std::string bytes;      // output bytes [offset, offset + bytes.size())
  bool complete = false;  // nothing follows: the segment is closed and wholly transcoded
  // The input's media time (from the file's zero) that the output so far covers; the
  // output's own media time zero is input time from_us.
  int64_t from_us = 0;
  int64_t to_us = 0;
};

class TranscodeCache {
 public:
  static constexpr int kSlotWaitMs = 20000;
  static constexpr int64_t kIdleDropUs = 10LL * 60 * 1000 * 1000;
  static constexpr uint64_t kMaxChunkBytes = 16 * 1024 * 1024;

  TranscodeCache(media::TranscodeSize size, uint64_t max_bytes);
  ~TranscodeCache();

  // The output of key's transcode from offset. fd is the open segment file, file_size its
  // size now; closed says the file will not grow. Errors: kInvalidArgument when offset lies
  // past the output (a client that kept an offset across a dropped copy starts again from
  // 0); kUnavailable when the slot stays busy for kSlotWaitMs; kDataLoss when the file is
  // not a recording the decoder can read; the file's read errors.
  Result<TranscodeChunk> Read(const TranscodeKey& key, int fd, uint64_t file_size, bool closed,
                              uint64_t offset);

  // Outputs held now, and their bytes (for tests and metrics).
  size_t transcodes() const;
  uint64_t bytes() const;

 private:
  struct Transcode;
  std::shared_ptr<Transcode> Find(const TranscodeKey& key);
  void Trim();

  const media::TranscodeSize size_;
  const uint64_t max_bytes_;
  std::timed_mutex slot_;  // held while any transcode works: one at a time
  mutable Mutex mu_;
  std::map<TranscodeKey, std::shared_ptr<Transcode>> by_key_ GUARDED_BY(mu_);
};

}  // namespace custodian::api
