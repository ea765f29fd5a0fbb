// RtpStream: one RTP stream of a session (one SDP track): checks sequence numbers, unwraps
// the 32-bit RTP timestamp into a 64-bit presentation time, feeds payloads to the track's
// depacketizer, and keeps the latest RTCP sender report's mapping of RTP time to the
// camera's wall clock.
//
// Presentation time: pts = the unwrapped RTP timestamp minus the stream's origin, in
// 1/clock-rate units. The origin is the rtptime of the PLAY answer's RTP-Info when the
// camera sent one (so that the tracks of a session share a starting point), otherwise the
// first packet's timestamp. Successive timestamps are unwrapped by their signed 32-bit
// difference, which survives wrap-around in either direction, and so survives B-frames
// too: RTP carries the presentation time and frames travel in decode order, so with
// B-frames pts goes back and forth. dts is set equal to pts here; decode times are rebuilt
// downstream (media/dts_rebuilder.h), where the reorder depth is known.
//
// Not thread-safe; one per track.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "base/time.h"
#include "media/rtsp/rtp_depacketizer.h"

namespace custodian::media::rtsp {

struct RtpStreamCounters {
  int64_t packets = 0;
  int64_t lost = 0;       // packets missing from the sequence
  int64_t discarded = 0;  // duplicates, late packets, and packets that are not RTP
  int64_t sender_reports = 0;
};

class RtpStream {
 public:
  RtpStream(int stream_index, int clock_rate, std::unique_ptr<Depacketizer> depacketizer);

  // The RTP-Info rtptime of the PLAY answer: the timestamp that is presentation time 0.
  void SetOrigin(uint32_t rtptime);
  // One RTP packet as received on the track's data channel.
  void OnRtp(const uint8_t* data, size_t size, PacketQueue* out);
  // One (compound) RTCP packet from the track's control channel.
  void OnRtcp(const uint8_t* data, size_t size);

  // The camera's wall clock at presentation time pts, from the latest sender report;
  // nullopt before the first one, or when pts is too far from it to be represented.
  std::optional<UtcMicros> CameraWallClock(int64_t pts) const;

  const RtpStreamCounters& counters() const { return counters_; }
  const DepacketizerCounters& depacketizer_counters() const { return depacketizer_->counters(); }

 private:
  int64_t Unwrap(uint32_t timestamp);

  const int stream_index_;
  const int clock_rate_;
  std::unique_ptr<Depacketizer> depacketizer_;
  std::optional<uint32_t> origin_;
  bool started_ = false;
  uint32_t ssrc_ = 0;
  uint16_t next_sequence_ = 0;
  uint32_t last_timestamp_ = 0;
  int64_t last_pts_ = 0;
  bool loss_logged_ = false;
  // Latest sender report: RTP time (as pts) and NTP time (as UTC).
  std::optional<int64_t> report_pts_;
  UtcMicros report_wall_{};
  RtpStreamCounters counters_;
};

}  // namespace custodian::media::rtsp
