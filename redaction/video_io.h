// Decoding the input video to raw frames and encoding the redacted frames to H.264 in MP4,
// through libavformat/libavcodec (libx264 for the encoding).
//
// VideoReader yields every video frame as planar YUV 4:2:0 (converting other pixel
// formats), in presentation order, and fails, rather than concealing, when a frame cannot
// be decoded: a redaction must never pass a frame that was not looked at. Audio packets
// are kept for the writer only when asked for. VideoWriter encodes with the presets a
// person would use by hand (`-c:v libx264 -preset veryfast`, CRF 23) and copies audio
// packets unchanged; it can add a timed-text track whose cues the caller gives (TextTrack).
// Each object is used by one thread at a time.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "redaction/options.h"

struct SwsContext;

namespace custodian::redaction {

struct FrameFreer {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
using Frame = std::unique_ptr<AVFrame, FrameFreer>;

struct PacketFreer {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
using Packet = std::unique_ptr<AVPacket, PacketFreer>;

struct VideoInfo {
  int width = 0;
  int height = 0;
  AVRational time_base{1, 25};   // of the video stream; frames' pts are in it
  AVRational frame_rate{25, 1};  // best guess
  int64_t estimated_frames = 0;  // from the container; 0 when unknown
  double duration_s = 0;
  std::string codec;
};

class VideoReader {
 public:
  // Opens `path` and its best video stream. keep_audio: also return the best audio
  // stream's packets (TakeAudio).
  static Result<std::unique_ptr<VideoReader>> Open(const std::string& path, bool keep_audio);
  ~VideoReader();

  const VideoInfo& info() const { return info_; }
  // The input's audio stream (nullptr when none, or when audio is not kept).
  const AVStream* audio_stream() const { return audio_; }

  // The next frame (pts rebased so the first frame is 0, strictly increasing), or a null
  // Frame at the end of the stream. A decoding error is kDataLoss.
  Result<Frame> Next();
  // Audio packets read so far, in the input's audio time base (rebased like the video).
  std::vector<Packet> TakeAudio();

 private:
  VideoReader() = default;
  Result<Frame> Convert(Frame f);
  Status DecodeError(const std::string& what, int err);

  AVFormatContext* fmt_ = nullptr;
  AVCodecContext* dec_ = nullptr;
  SwsContext* sws_ = nullptr;
  int video_index_ = -1;
  const AVStream* audio_ = nullptr;
  VideoInfo info_;
  std::vector<Packet> audio_packets_;
  Packet pkt_;
  bool flushing_ = false;
  bool done_ = false;
  int64_t first_pts_ = AV_NOPTS_VALUE;
  int64_t last_pts_ = AV_NOPTS_VALUE;
  int64_t frames_ = 0;
};

class VideoWriter {
 public:
  // Creates `path` as MP4 whatever its name (the pipeline writes a temporary name first).
  // audio: the stream whose packets WriteAudio will copy, or nullptr for none. text: the
  // timed-text track's sample description (its cues go in with WriteText), or nullptr.
  static Result<std::unique_ptr<VideoWriter>> Open(const std::string& path, const VideoInfo& info,
                                                   const AVStream* audio,
                                                   const TextTrack* text = nullptr);
  ~VideoWriter();

  Status WriteFrame(AVFrame* frame);  // YUV 4:2:0, pts in info.time_base
  Status WriteAudio(AVPacket* packet);
  Status WriteText(const TextCue& cue);  // needs a text track (Open)
  // Flushes the encoder and writes the trailer; the file is complete after this.
  Status Finish();

 private:
  VideoWriter() = default;
  Status Drain();

  AVFormatContext* fmt_ = nullptr;
  AVCodecContext* enc_ = nullptr;
  AVStream* video_ = nullptr;
  AVStream* audio_out_ = nullptr;
  AVStream* text_out_ = nullptr;
  AVRational audio_in_tb_{1, 1};
  AVRational in_tb_{1, 25};
  int64_t frame_duration_ = 1;  // in in_tb_
  bool header_written_ = false;
  bool io_open_ = false;
};

}  // namespace custodian::redaction
