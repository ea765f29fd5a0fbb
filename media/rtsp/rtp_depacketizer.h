// RTP depacketizers: turn a stream's RTP payloads back into whole frames.
//
//   H.264 (RFC 6184): single NAL unit packets (types 1-23), STAP-A (24), FU-A (28).
//   H.265 (RFC 7798): single NAL unit packets (0-47), aggregation packets (48), FUs (49).
//   AAC (RFC 3640, mpeg4-generic): AU headers (AU-size and AU-Index(-delta)), several
//   access units per packet or one access unit fragmented over several packets.
//
// A video frame is every NAL unit with the same RTP timestamp, written in Annex B form with four-
// byte start codes (parameter sets sent in-band stay in the frame). It is handed over when its last
// packet (marker bit) arrives, or when a packet with another timestamp shows that the marker was
// lost. AV_PKT_FLAG_KEY marks frames that contain an IDR (H.264) or IRAP (H.265) picture. A video
// packet's duration is the interval since the previous frame (0 for the first): exact at a constant
// frame rate without B-frames, since waiting for the next frame would cost a frame of latency (with
// B-frames it is left unset when negative; the recorder's DtsRebuilder sets the frame interval).
// Each AAC access unit becomes one packet (duration: one frame).
//
// Loss: the caller says when a packet follows lost ones (sequence gap). The frame that was
// being assembled, and the frame the next packet belongs to, may then be missing pieces and
// are dropped whole (counted in frames_dropped): a recorder must not store a frame with a
// hole in it. Later frames are kept, since TCP rarely loses anything and a decoder recovers
// from a missing reference at the next keyframe.
//
// Not thread-safe; one depacketizer per stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "media/rtsp/packet_buffers.h"
#include "media/rtsp/parameter_sets.h"

namespace custodian::media::rtsp {

// A parsed RTP packet (RFC 3550 §5.1); the payload points into the caller's buffer and
// excludes CSRCs, the header extension and padding.
struct RtpPacket {
  const uint8_t* payload = nullptr;
  size_t size = 0;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  uint8_t payload_type = 0;
  bool marker = false;
};
// False when the packet is not RTP version 2 or its lengths are inconsistent.
bool ParseRtpPacket(const uint8_t* data, size_t size, RtpPacket* out);

struct DepacketizerCounters {
  int64_t frames = 0;          // packets handed over
  int64_t frames_dropped = 0;  // frames discarded because pieces were lost or malformed
  int64_t malformed = 0;       // payloads that did not parse
};

class Depacketizer {
 public:
  explicit Depacketizer(int stream_index) : stream_index_(stream_index) {}
  virtual ~Depacketizer() = default;
  // pts: the packet's timestamp, unwrapped to 64 bits. after_loss: packets were lost just
  // before this one. Finished packets are appended to *out with stream_index, pts = dts,
  // and flags set.
  virtual void Push(const RtpPacket& packet, int64_t pts, bool after_loss, PacketQueue* out) = 0;
  const DepacketizerCounters& counters() const { return counters_; }

 protected:
  const int stream_index_;
  DepacketizerCounters counters_;
};

std::unique_ptr<Depacketizer> MakeH264Depacketizer(int stream_index);
std::unique_ptr<Depacketizer> MakeH265Depacketizer(int stream_index);
// ticks_per_frame: one access unit's duration in RTP clock ticks (1024 when the clock
// rate is the sampling rate).
std::unique_ptr<Depacketizer> MakeAacDepacketizer(int stream_index, const AacPayloadFormat& format,
                                                  int ticks_per_frame);

}  // namespace custodian::media::rtsp
