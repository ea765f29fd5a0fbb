#include "media/rtsp/rtp_stream.h"

#include <cstdlib>

#include "base/log.h"

namespace custodian::media::rtsp {

namespace {

constexpr int kRtcpSenderReport = 200;
// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
constexpr int64_t kNtpToUnixSeconds = 2'208'988'800;
// RTP-Info's rtptime is trusted as the origin only if the first packet is this close to it.
constexpr int64_t kMaxOriginDistanceSeconds = 10;

uint32_t Be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

}  // namespace

RtpStream::RtpStream(int stream_index, int clock_rate, std::unique_ptr<Depacketizer> depacketizer)
    : stream_index_(stream_index),
      clock_rate_(clock_rate > 0 ? clock_rate : 90000),
      depacketizer_(std::move(depacketizer)) {}

void RtpStream::SetOrigin(uint32_t rtptime) { origin_ = rtptime; }

int64_t RtpStream::Unwrap(uint32_t timestamp) {
  last_pts_ += static_cast<int32_t>(timestamp - last_timestamp_);
  last_timestamp_ = timestamp;
  return last_pts_;
}

void RtpStream::OnRtp(const uint8_t* data, size_t size, PacketQueue* out) {
  RtpPacket p;
  if (!ParseRtpPacket(data, size, &p)) {
    ++counters_.discarded;
    return;
  }
  ++counters_.packets;
  bool after_loss = false;
  if (!started_ || p.ssrc != ssrc_) {
    // First packet, or the camera restarted its stream under a new SSRC: the timestamp
    // jumps with it, which the caller sees as a discontinuity.
    int64_t pts = 0;
    if (!started_ && origin_) {
      int32_t d = static_cast<int32_t>(p.timestamp - *origin_);
      if (std::llabs(d) <= kMaxOriginDistanceSeconds * clock_rate_) pts = d;
    } else if (started_) {
      pts = last_pts_ + static_cast<int32_t>(p.timestamp - last_timestamp_);
    }
    started_ = true;
    ssrc_ = p.ssrc;
    last_timestamp_ = p.timestamp;
    last_pts_ = pts;
    report_pts_.reset();
  } else if (p.sequence != next_sequence_) {
    const int16_t gap = static_cast<int16_t>(p.sequence - next_sequence_);
    if (gap < 0) {
      ++counters_.discarded;  // a duplicate or a packet older than one already used
      return;
    }
    counters_.lost += gap;
    after_loss = true;
    if (!loss_logged_) {
      LogWarn("rtsp") << "stream " << stream_index_ << ": " << gap << " RTP packets lost (sequence "
                      << next_sequence_ << " expected, " << p.sequence
                      << " received); the damaged frames are dropped and further "
                      << "losses only counted";
      loss_logged_ = true;
    }
  }
  next_sequence_ = static_cast<uint16_t>(p.sequence + 1);
  depacketizer_->Push(p, Unwrap(p.timestamp), after_loss, out);
}

void RtpStream::OnRtcp(const uint8_t* data, size_t size) {
  while (size >= 8 && (data[0] >> 6) == 2) {
    const size_t length = (size_t{data[2]} << 8 | data[3]) * 4 + 4;
    if (length > size) return;
    if (data[1] == kRtcpSenderReport && length >= 28 && started_ && Be32(data + 4) == ssrc_) {
      const uint32_t ntp_seconds = Be32(data + 8);
      const uint32_t ntp_fraction = Be32(data + 12);
      const uint32_t rtp_time = Be32(data + 16);
      report_pts_ = last_pts_ + static_cast<int32_t>(rtp_time - last_timestamp_);
      report_wall_ = UtcMicros{(int64_t{ntp_seconds} - kNtpToUnixSeconds) * kMicrosPerSecond +
                               static_cast<int64_t>((uint64_t{ntp_fraction} * 1'000'000) >> 32)};
      ++counters_.sender_reports;
    }
    data += length;
    size -= length;
  }
}

std::optional<UtcMicros> RtpStream::CameraWallClock(int64_t pts) const {
  if (!report_pts_) return std::nullopt;
  // Split to keep d * 10^6 from overflowing for long sessions; a camera's timestamps (and
  // a clock rate as low as 1) can still put pts beyond what microseconds can hold.
  int64_t d = 0, us = 0, wall = 0;
  if (__builtin_sub_overflow(pts, *report_pts_, &d) ||
      __builtin_mul_overflow(d / clock_rate_, kMicrosPerSecond, &us) ||
      __builtin_add_overflow(us, d % clock_rate_ * kMicrosPerSecond / clock_rate_, &us) ||
      __builtin_add_overflow(report_wall_.us, us, &wall))
    return std::nullopt;
  return UtcMicros{wall};
}

}  // namespace custodian::media::rtsp
