// FragmentedMp4Writer: stream-copies packets into one fragmented MP4 segment file.
//
// The file is written through a WritableFile (the Filesystem seam), with a SHA-256 and a
// byte count computed on the way, so a finished segment's hash needs no second read.
// Layout: ftyp + empty moov, then moof+mdat fragments (movflags
// frag_keyframe+empty_moov+default_base_moof). A keyframe always starts a fragment; with
// FragmentOptions::max_fragment_us a video frame also starts one once the fragment holds
// that much media time, so fragments stay short whatever the camera's GOP (live view reads
// them while the file is written). Each fragment is handed to the kernel as soon as it is
// closed, so a file cut short by a crash still plays up to its last whole fragment.
// Fragments carry consecutive mfhd sequence numbers from FragmentOptions::first_number,
// so a recorder can number the fragments of consecutive files as one sequence.
// Timestamps are shifted so that the file starts at zero: the first packet, which must be
// a video keyframe, is decoded and shown at time 0. Video with B-frames keeps its
// composition offsets (pts - dts) in each trun; they are stored relative to the first
// frame's (movflags negative_cts_offsets: version 1 trun, signed offsets), so that decode
// and presentation times agree at keyframes, as CMAF asks and as browsers play without an
// edit list. Audio is shifted by the first video frame's presentation time, to stay in sync.
//
// Not thread-safe: one writer belongs to one camera thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/filesystem.h"
#include "base/sha256.h"
#include "media/av_util.h"

namespace custodian::media {

struct StreamSpec {
  const AVCodecParameters* codecpar = nullptr;
  AVRational time_base{1, 90000};  // time base of the packets that will be written
};

struct FragmentOptions {
  // Cut a fragment before the video frame that would make it longer than this, even
  // between keyframes (0: at keyframes only).
  int64_t max_fragment_us = 0;
  // The mfhd sequence number of the file's first fragment.
  uint32_t first_number = 1;
};

// Whether a stream with these parameters can be stored in MP4 (G.711, for example, cannot).
bool Mp4CanStore(const AVCodecParameters* codecpar);

class FragmentedMp4Writer {
 public:
  ~FragmentedMp4Writer();

  // Writes the header. Stream i of the file is streams[i]; packets' stream_index refer to it.
  static Result<std::unique_ptr<FragmentedMp4Writer>> Open(std::unique_ptr<WritableFile> file,
                                                           const std::vector<StreamSpec>& streams,
                                                           const FragmentOptions& fragments = {});

  // Writes one packet (timestamps in the StreamSpec's time base; the packet is not consumed).
  Status Write(const AVPacket& pkt);

  // Writes the trailer, flushes, fsyncs and closes the file. The writer is done after this,
  // whatever the result.
  Status Finish();

  // Bytes handed to the file so far; the SHA-256 is valid after Finish().
  uint64_t bytes() const { return bytes_; }
  const std::string& sha256() const { return sha256_hex_; }
  // Presentation time covered so far by the first (video) stream, in microseconds.
  int64_t duration_us() const { return end_us_; }
  // Frames of stream 0 written.
  int64_t video_frames() const { return video_frames_; }
  // The sequence number the next fragment would get; final after Finish().
  uint32_t next_fragment_number() const;

 private:
  FragmentedMp4Writer() = default;
  static int OnWrite(void* self, uint8_t* buf, int size);
  // Writes a video packet; *closed_fragment tells whether it closed the fragment in
  // progress (at a keyframe, or because the fragment was long enough).
  int WriteVideo(AVPacket* pkt, bool* closed_fragment);

  std::unique_ptr<WritableFile> file_;
  OutputContext oc_;
  AVIOContext* pb_ = nullptr;
  std::vector<AVRational> in_tb_;
  std::vector<int64_t> last_dts_;  // in the output stream's time base
  Sha256 sha_;
  std::string sha256_hex_;
  Status write_error_;
  uint64_t bytes_ = 0;
  // The first video frame's decode and presentation times: what video decode times and
  // every presentation time are counted from.
  int64_t base_dts_us_ = AV_NOPTS_VALUE;
  int64_t base_pts_us_ = AV_NOPTS_VALUE;
  int64_t end_us_ = 0;
  int64_t video_frames_ = 0;
  int64_t max_fragment_us_ = 0;
  int64_t fragment_start_dts_ = AV_NOPTS_VALUE;  // of stream 0, in its output time base
  uint32_t next_fragment_number_ = 1;            // set by Finish()
  bool finished_ = false;
};

}  // namespace custodian::media
