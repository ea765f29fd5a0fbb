// Fuzz target: the parsers of the RTSP client below the session, one per input, chosen by
// the first byte (one target keeps CI's fuzz stage short):
//   0  SDP (ParseSdp) and the codec parameters of each media section (sprop-parameter-sets,
//      sprop-vps/sps/pps and their SPS, an AAC config=)
//   1  H.264 RTP stream: RtpStream + depacketizer, then parameter sets from each keyframe
//   2  H.265 RTP stream, likewise
//   3  AAC (mpeg4-generic) RTP stream; bytes 1-4 choose the AU-header layout among those
//      an SDP may give (sizelength 1-16, indexlength and indexdeltalength 0-16)
//   4  RTCP: the first chunk as RTP (it starts the stream), the rest as (compound) RTCP,
//      then the camera wall clock at a few times
//   5  SPS parsers and in-band parameter sets on one raw buffer
//   6  the interleaved receive buffer and the RTSP message parser on a raw stream
// In modes 1-4 the rest of the input is chunks of [2-byte big-endian header][bytes]: the
// header's top bit sends the chunk to the RTCP parser instead of the RTP one, its other 15
// bits are the length (cut to what is left). Any outcome is fine except a crash, a
// sanitizer report, a hang or the decoded-frame queue growing past its bounds.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "base/log.h"
#include "media/rtsp/interleaved_buffer.h"
#include "media/rtsp/parameter_sets.h"
#include "media/rtsp/rtp_stream.h"
#include "media/rtsp/rtsp_message.h"
#include "media/rtsp/sdp.h"

using namespace custodian;
using namespace custodian::media;
using namespace custodian::media::rtsp;

namespace {

constexpr size_t kMaxQueued = 64;
constexpr size_t kMaxQueuedBytes = 8u << 20;

void FuzzSdp(std::string_view text) {
  auto sd = ParseSdp(text);
  if (!sd.ok()) return;
  (void)ResolveControl("rtsp://127.0.0.1/cam/", sd->control);
  for (const SdpMedia& m : sd->media) {
    (void)ResolveControl("rtsp://127.0.0.1/cam/", m.control);
    auto params = TrackParametersFromSdp(m);
    if (!params.ok()) continue;
    const AVCodecParameters* par = params->par.get();
    if (par->extradata_size > 0 && par->codec_type == AVMEDIA_TYPE_VIDEO) {
      CodecParameters copy = CopyCodecParameters(par);
      if (copy) FillParametersFromAccessUnit(copy.get(), par->extradata, par->extradata_size);
    }
  }
}

// Hands out what the depacketizer queued, as the client would, taking parameter sets from
// keyframes as the client does while it waits for them.
void Drain(PacketQueue* queue, AVCodecID codec) {
  queue->Enforce(kMaxQueued, kMaxQueuedBytes);
  if (queue->size() > kMaxQueued) std::abort();
  Packet pkt = MakePacket();
  while (queue->PopFront(pkt.get())) {
    if (pkt->size <= 0 || !pkt->data) std::abort();  // empty frames are never handed out
    if (codec != AV_CODEC_ID_AAC && (pkt->flags & AV_PKT_FLAG_KEY)) {
      CodecParameters par(avcodec_parameters_alloc());
      if (!par) return;
      par->codec_type = AVMEDIA_TYPE_VIDEO;
      par->codec_id = codec;
      FillParametersFromAccessUnit(par.get(), pkt->data, static_cast<size_t>(pkt->size));
    }
  }
}

void FuzzStream(int mode, const uint8_t* data, size_t size) {
  AVCodecID codec = AV_CODEC_ID_H264;
  std::unique_ptr<Depacketizer> depacketizer;
  int clock_rate = 90000;
  if (mode == 2) {
    codec = AV_CODEC_ID_HEVC;
    depacketizer = MakeH265Depacketizer(0);
  } else if (mode == 3) {
    if (size < 4) return;
    codec = AV_CODEC_ID_AAC;
    AacPayloadFormat f;
    f.size_length = 1 + data[0] % 16;
    f.index_length = data[1] % 17;
    f.index_delta_length = data[2] % 17;
    f.constant_duration = data[3] < 128 ? 1024 : 960;
    clock_rate = 48000;
    depacketizer = MakeAacDepacketizer(0, f, f.constant_duration);
    data += 4;
    size -= 4;
  } else {
    depacketizer = MakeH264Depacketizer(0);
  }
  RtpStream stream(0, clock_rate, std::move(depacketizer));
  PacketQueue queue;
  bool first = true;
  int64_t last_pts = 0;
  while (size >= 2) {
    const bool rtcp = (data[0] & 0x80) != 0;
    size_t n = size_t{data[0] & 0x7fu} << 8 | data[1];
    data += 2;
    size -= 2;
    if (n > size) n = size;
    if (mode == 4 ? !first : rtcp) {
      stream.OnRtcp(data, n);
    } else {
      stream.OnRtp(data, n, &queue);
      if (!queue.empty()) last_pts = queue.at(queue.size() - 1)->pts;
      Drain(&queue, codec);
    }
    first = false;
    data += n;
    size -= n;
  }
  for (int64_t pts : {int64_t{0}, last_pts, last_pts + 90000, INT64_MAX / 2, INT64_MIN / 2})
    (void)stream.CameraWallClock(pts);
  const RtpStreamCounters& c = stream.counters();
  if (c.packets < 0 || c.lost < 0) std::abort();
}

void FuzzParameterSets(const uint8_t* data, size_t size) {
  SpsInfo info;
  ParseH264Sps(data, size, &info);
  ParseH265Sps(data, size, &info);
  for (AVCodecID codec : {AV_CODEC_ID_H264, AV_CODEC_ID_HEVC}) {
    CodecParameters par(avcodec_parameters_alloc());
    if (!par) return;
    par->codec_type = AVMEDIA_TYPE_VIDEO;
    par->codec_id = codec;
    FillParametersFromAccessUnit(par.get(), data, size);
  }
}

void FuzzInterleaved(const uint8_t* data, size_t size) {
  InterleavedBuffer buffer(0);  // the minimum capacity
  InterleavedBuffer::Frame frame;
  RtspMessage message;
  // Fed in slices, as reads would deliver it: a slice's size from the stream's own bytes.
  size_t fed = 0;
  for (int rounds = 0; rounds < 10'000; ++rounds) {
    if (fed < size) {
      size_t space = 0;
      uint8_t* tail = buffer.PrepareTail(&space);
      size_t n = std::min({space, size - fed, size_t{1} + data[fed] * size_t{64}});
      std::memcpy(tail, data + fed, n);
      buffer.Commit(n);
      fed += n;
    }
    InterleavedBuffer::Unit u;
    while ((u = buffer.Next(&frame, &message)) == InterleavedBuffer::Unit::kFrame ||
           u == InterleavedBuffer::Unit::kMessage) {
      if (u == InterleavedBuffer::Unit::kMessage) {
        (void)message.CSeq();
        (void)ContentLength(message);
        if (const std::string* t = message.Header("Transport")) (void)HeaderParam(*t, "interleaved");
        if (const std::string* s = message.Header("Session")) (void)HeaderParam(*s, "timeout");
        if (const std::string* b = message.Header("Content-Base")) (void)ParseRtspUrl(*b);
      } else if (frame.size > 0 && !frame.data) {
        std::abort();
      }
    }
    if (u == InterleavedBuffer::Unit::kError || fed == size) break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  SetLogLevel(LogLevel::kError);  // losses and oddities are logged as warnings
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int mode = data[0] % 7;
  ++data;
  --size;
  switch (mode) {
    case 0:
      FuzzSdp(std::string_view(reinterpret_cast<const char*>(data), size));
      break;
    case 1:
    case 2:
    case 3:
    case 4:
      FuzzStream(mode, data, size);
      break;
    case 5:
      FuzzParameterSets(data, size);
      break;
    case 6:
      FuzzInterleaved(data, size);
      break;
  }
  return 0;
}
