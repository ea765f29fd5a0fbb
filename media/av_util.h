// Thin RAII wrappers over libavformat/libavcodec handles, and the conversion of libav error
// codes to Status. Nothing here decodes or encodes: the recorder only stream-copies.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libswscale/swscale.h>
}

#include <atomic>
#include <memory>
#include <string>

#include "base/status.h"

namespace custodian::media {

std::string AvErrorString(int err);
// "what: libav message"; AVERROR(ENOSPC) maps to kResourceExhausted, EOF to kUnavailable.
Status AvStatus(const std::string& what, int err);

struct InputCloser {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
using InputContext = std::unique_ptr<AVFormatContext, InputCloser>;

struct OutputFreer {
  void operator()(AVFormatContext* c) const { avformat_free_context(c); }
};
using OutputContext = std::unique_ptr<AVFormatContext, OutputFreer>;

struct PacketFreer {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
using Packet = std::unique_ptr<AVPacket, PacketFreer>;
inline Packet MakePacket() { return Packet(av_packet_alloc()); }

struct DictFreer {
  void operator()(AVDictionary* d) const { av_dict_free(&d); }
};

struct CodecFreer {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
using CodecContext = std::unique_ptr<AVCodecContext, CodecFreer>;

struct FrameFreer {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameFreer>;

struct ScalerFreer {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
using Scaler = std::unique_ptr<SwsContext, ScalerFreer>;

// A custom I/O context and the buffer it owns (avio_alloc_context's, possibly reallocated).
struct IoFreer {
  void operator()(AVIOContext* io) const {
    if (io) av_freep(&io->buffer);
    avio_context_free(&io);
  }
};
using IoContext = std::unique_ptr<AVIOContext, IoFreer>;

struct CodecParametersFreer {
  void operator()(AVCodecParameters* p) const { avcodec_parameters_free(&p); }
};
using CodecParameters = std::unique_ptr<AVCodecParameters, CodecParametersFreer>;
CodecParameters CopyCodecParameters(const AVCodecParameters* src);

// A deadline checked by libav's interrupt callback so that no blocking read on a dead
// camera can hang a thread: every blocking call is armed with a deadline, and Cancel()
// (from any thread) aborts the current and all later calls.
class InterruptDeadline {
 public:
  void Arm(int64_t timeout_us);  // deadline = now(monotonic) + timeout
  void Cancel() { cancelled_ = true; }
  bool cancelled() const { return cancelled_; }
  bool expired() const;
  // Install into an AVFormatContext's interrupt_callback.
  AVIOInterruptCB Callback();

 private:
  static int OnInterrupt(void* self);
  std::atomic<int64_t> deadline_us_{0};
  std::atomic<bool> cancelled_{false};
};

// Lowercase libav codec name ("h264", "hevc", "aac") or "unknown".
std::string CodecName(AVCodecID id);

}  // namespace custodian::media
