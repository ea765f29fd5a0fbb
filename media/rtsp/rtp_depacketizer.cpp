#include "media/rtsp/rtp_depacketizer.h"

#include <cstring>

namespace custodian::media::rtsp {

namespace {

constexpr uint8_t kStartCode[4] = {0, 0, 0, 1};
// A 1080p keyframe fits after the pool's first growth; P-frames fit from the start.
constexpr size_t kInitialVideoBuffer = 128 * 1024;
// AU-size is at most 13 bits in AAC-hbr: every AAC frame fits.
constexpr size_t kInitialAudioBuffer = 8 * 1024;

uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t Be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// Frame assembly shared by H.264 and H.265; the subclasses parse their payload formats.
class VideoDepacketizer : public Depacketizer {
 public:
  explicit VideoDepacketizer(int stream_index)
      : Depacketizer(stream_index), frame_(kInitialVideoBuffer) {}

  void Push(const RtpPacket& p, int64_t pts, bool after_loss, PacketQueue* out) override {
    // The lost packets were the middle or the tail of the frame in progress...
    if (after_loss && assembling_) damaged_ = true;
    if (assembling_ && pts != frame_pts_) FinishFrame(out);  // its marker was lost
    if (!assembling_) {
      assembling_ = true;
      frame_pts_ = pts;
    }
    // ...or the head of this one: there is no telling which, so both go.
    if (after_loss) damaged_ = true;
    if (!damaged_ && !AddPayload(p.payload, p.size)) {
      ++counters_.malformed;
      damaged_ = true;
    }
    if (p.marker) FinishFrame(out);
  }

 protected:
  virtual bool AddPayload(const uint8_t* payload, size_t size) = 0;
  virtual bool IsKeyNal(const uint8_t* header) const = 0;

  // A whole NAL unit, behind a start code.
  bool WriteNal(const uint8_t* nal, size_t size) {
    uint8_t* dst = frame_.Extend(sizeof kStartCode + size);
    if (!dst) return false;
    std::memcpy(dst, kStartCode, sizeof kStartCode);
    std::memcpy(dst + sizeof kStartCode, nal, size);
    key_ = key_ || IsKeyNal(nal);
    return true;
  }

  // A fragmented NAL unit: the first fragment brings the reconstructed header.
  bool StartFragment(const uint8_t* header, size_t header_size, const uint8_t* data, size_t size) {
    if (fragment_open_) return false;  // the previous one never ended
    if (!WriteNal(header, header_size) || !frame_.Append(data, size)) return false;
    fragment_open_ = true;
    return true;
  }
  bool ContinueFragment(const uint8_t* data, size_t size, bool end) {
    if (!fragment_open_) return false;  // its start was not seen
    fragment_open_ = !end;
    return frame_.Append(data, size);
  }

  // Aggregation packets: 16-bit size, then the NAL unit, repeated.
  bool WriteAggregated(const uint8_t* p, size_t size) {
    if (size == 0) return false;
    while (size > 0) {
      if (size < 2) return false;
      const size_t n = Be16(p);
      p += 2;
      size -= 2;
      if (n == 0 || n > size || !WriteNal(p, n)) return false;
      p += n;
      size -= n;
    }
    return true;
  }

 private:
  void FinishFrame(PacketQueue* out) {
    if (fragment_open_) damaged_ = true;
    if (damaged_) {
      ++counters_.frames_dropped;
    } else if (frame_.size() > 0) {
      AVPacket* pkt = out->PushBack();
      frame_.MoveTo(pkt);
      if (pkt->size == 0) {
        out->DropBack();  // out of memory
        ++counters_.frames_dropped;
      } else {
        pkt->stream_index = stream_index_;
        pkt->pts = pkt->dts = frame_pts_;
        pkt->flags = key_ ? AV_PKT_FLAG_KEY : 0;
        // A frame's duration is known only when the next one arrives; the previous
        // interval is exact at a constant frame rate and spares muxers from guessing.
        const int64_t interval = frame_pts_ - last_output_pts_;
        if (frames_out_ > 0 && interval > 0 && interval <= kMaxDurationTicks)
          pkt->duration = interval;
        last_output_pts_ = frame_pts_;
        ++frames_out_;
        ++counters_.frames;
      }
    }
    frame_.Clear();
    assembling_ = damaged_ = key_ = fragment_open_ = false;
  }

  static constexpr int64_t kMaxDurationTicks = 90000;  // one second at the video clock

  FrameBuffer frame_;
  bool assembling_ = false;
  int64_t frame_pts_ = 0;
  int64_t last_output_pts_ = 0;
  int64_t frames_out_ = 0;
  bool key_ = false;
  bool damaged_ = false;
  bool fragment_open_ = false;
};

class H264Depacketizer final : public VideoDepacketizer {
 public:
  using VideoDepacketizer::VideoDepacketizer;

 private:
  bool IsKeyNal(const uint8_t* h) const override { return (h[0] & 0x1f) == 5; }

  bool AddPayload(const uint8_t* p, size_t size) override {
    if (size < 1) return false;
    const int type = p[0] & 0x1f;
    if (type >= 1 && type <= 23) return WriteNal(p, size);
    if (type == 24) return WriteAggregated(p + 1, size - 1);  // STAP-A
    if (type == 28) {                                         // FU-A
      if (size < 2) return false;
      const uint8_t fu = p[1];
      if (fu & 0x80) {
        const uint8_t header = static_cast<uint8_t>((p[0] & 0xe0) | (fu & 0x1f));
        if (!StartFragment(&header, 1, p + 2, size - 2)) return false;
        return (fu & 0x40) ? ContinueFragment(nullptr, 0, true) : true;
      }
      return ContinueFragment(p + 2, size - 2, fu & 0x40);
    }
    return false;  // STAP-B, MTAP and FU-B belong to packetization-mode 2; 0, 30, 31 are reserved
  }
};

class H265Depacketizer final : public VideoDepacketizer {
 public:
  using VideoDepacketizer::VideoDepacketizer;

 private:
  bool IsKeyNal(const uint8_t* h) const override {
    const int type = (h[0] >> 1) & 0x3f;
    return type >= 16 && type <= 23;  // IRAP: BLA, IDR, CRA (and reserved IRAP types)
  }

  bool AddPayload(const uint8_t* p, size_t size) override {
    if (size < 3) return false;
    const int type = (p[0] >> 1) & 0x3f;
    if (type <= 47) return WriteNal(p, size);
    if (type == 48) return WriteAggregated(p + 2, size - 2);  // AP
    if (type == 49) {                                         // FU
      const uint8_t fu = p[2];
      if (fu & 0x80) {
        const uint8_t header[2] = {static_cast<uint8_t>((p[0] & 0x81) | ((fu & 0x3f) << 1)), p[1]};
        if (!StartFragment(header, 2, p + 3, size - 3)) return false;
        return (fu & 0x40) ? ContinueFragment(nullptr, 0, true) : true;
      }
      return ContinueFragment(p + 3, size - 3, fu & 0x40);
    }
    return type == 50;  // PACI carries nothing a recorder needs; others are reserved
  }
};

// Reads big-endian bit fields of up to 16 bits from the AU-header section.
class HeaderBits {
 public:
  HeaderBits(const uint8_t* p, size_t bits) : p_(p), bits_(bits) {}
  bool Read(int n, uint32_t* v) {
    if (pos_ + static_cast<size_t>(n) > bits_) return false;
    *v = 0;
    for (int i = 0; i < n; ++i, ++pos_) *v = (*v << 1) | ((p_[pos_ / 8] >> (7 - pos_ % 8)) & 1);
    return true;
  }
  bool done() const { return pos_ >= bits_; }

 private:
  const uint8_t* p_;
  size_t bits_;
  size_t pos_ = 0;
};

class AacDepacketizer final : public Depacketizer {
 public:
  AacDepacketizer(int stream_index, const AacPayloadFormat& format, int ticks_per_frame)
      : Depacketizer(stream_index),
        format_(format),
        ticks_per_frame_(ticks_per_frame),
        frame_(kInitialAudioBuffer) {}

  void Push(const RtpPacket& p, int64_t pts, bool after_loss, PacketQueue* out) override {
    if (after_loss && fragment_size_ > 0) DropFragment();
    if (!Parse(p, pts, out)) {
      ++counters_.malformed;
      if (fragment_size_ > 0) DropFragment();
    }
  }

 private:
  static constexpr int kMaxAus = 64;

  bool Parse(const RtpPacket& p, int64_t pts, PacketQueue* out) {
    if (p.size < 2) return false;
    const size_t header_bits = Be16(p.payload);
    const size_t header_bytes = (header_bits + 7) / 8;
    if (2 + header_bytes > p.size) return false;
    HeaderBits bits(p.payload + 2, header_bits);
    uint32_t sizes[kMaxAus];
    int n = 0;
    while (!bits.done()) {
      uint32_t index = 0;
      if (n == kMaxAus || !bits.Read(format_.size_length, &sizes[n]) ||
          !bits.Read(n == 0 ? format_.index_length : format_.index_delta_length, &index))
        return false;
      ++n;
    }
    const uint8_t* data = p.payload + 2 + header_bytes;
    const size_t available = p.size - 2 - header_bytes;
    if (n == 1 && (fragment_size_ > 0 || sizes[0] > available)) {
      return AddFragment(sizes[0], data, available, p.marker, pts, out);
    }
    if (fragment_size_ > 0) DropFragment();  // a fragment whose end never came
    size_t offset = 0;
    for (int i = 0; i < n; ++i) {
      if (sizes[i] > available - offset) return false;
      if (sizes[i] == 0) continue;
      if (!frame_.Append(data + offset, sizes[i])) return false;
      Emit(pts + int64_t{i} * ticks_per_frame_, out);
      offset += sizes[i];
    }
    return true;
  }

  // An access unit larger than one packet: each fragment repeats its AU header.
  bool AddFragment(uint32_t au_size, const uint8_t* data, size_t size, bool marker, int64_t pts,
                   PacketQueue* out) {
    if (fragment_size_ == 0) {
      fragment_size_ = au_size;
      fragment_pts_ = pts;
    } else if (au_size != fragment_size_ || pts != fragment_pts_) {
      return false;
    }
    if (frame_.size() + size > fragment_size_ || !frame_.Append(data, size)) return false;
    if (frame_.size() == fragment_size_) {
      fragment_size_ = 0;
      Emit(fragment_pts_, out);
    } else if (marker) {
      return false;  // the last fragment came short
    }
    return true;
  }

  void DropFragment() {
    frame_.Clear();
    fragment_size_ = 0;
    ++counters_.frames_dropped;
  }

  void Emit(int64_t pts, PacketQueue* out) {
    AVPacket* pkt = out->PushBack();
    frame_.MoveTo(pkt);
    pkt->stream_index = stream_index_;
    pkt->pts = pkt->dts = pts;
    pkt->duration = ticks_per_frame_;
    pkt->flags = AV_PKT_FLAG_KEY;
    ++counters_.frames;
  }

  const AacPayloadFormat format_;
  const int ticks_per_frame_;
  FrameBuffer frame_;
  uint32_t fragment_size_ = 0;  // 0: no fragmented access unit in progress
  int64_t fragment_pts_ = 0;
};

}  // namespace

bool ParseRtpPacket(const uint8_t* data, size_t size, RtpPacket* out) {
  if (size < 12 || (data[0] >> 6) != 2) return false;
  const bool padding = data[0] & 0x20;
  const bool extension = data[0] & 0x10;
  size_t header = 12 + 4 * size_t{data[0] & 0x0fu};
  if (extension) {
    if (size < header + 4) return false;
    header += 4 + 4 * size_t{Be16(data + header + 2)};
  }
  size_t end = size;
  if (padding) {
    if (size == 0 || data[size - 1] > size) return false;
    end -= data[size - 1];
  }
  if (header > end) return false;
  out->marker = data[1] & 0x80;
  out->payload_type = data[1] & 0x7f;
  out->sequence = Be16(data + 2);
  out->timestamp = Be32(data + 4);
  out->ssrc = Be32(data + 8);
  out->payload = data + header;
  out->size = end - header;
  return true;
}

std::unique_ptr<Depacketizer> MakeH264Depacketizer(int stream_index) {
  return std::make_unique<H264Depacketizer>(stream_index);
}

std::unique_ptr<Depacketizer> MakeH265Depacketizer(int stream_index) {
  return std::make_unique<H265Depacketizer>(stream_index);
}

std::unique_ptr<Depacketizer> MakeAacDepacketizer(int stream_index, const AacPayloadFormat& format,
                                                  int ticks_per_frame) {
  return std::make_unique<AacDepacketizer>(stream_index, format, ticks_per_frame);
}

}  // namespace custodian::media::rtsp
