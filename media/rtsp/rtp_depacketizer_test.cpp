// Depacketizers and RtpStream on hand-built RTP packets: aggregation, fragmentation, loss,
// timestamp wrap-around, AAC AU headers.
#include <catch2/catch.hpp>
#include <vector>

#include "media/rtsp/rtp_stream.h"

using namespace custodian;
using namespace custodian::media;
using namespace custodian::media::rtsp;

namespace {

using Bytes = std::vector<uint8_t>;

Bytes Rtp(uint16_t seq, uint32_t ts, bool marker, const Bytes& payload, uint32_t ssrc = 0x1234) {
  Bytes p(12 + payload.size());
  p[0] = 0x80;
  p[1] = static_cast<uint8_t>((marker ? 0x80 : 0) | 96);
  for (int i = 0; i < 2; ++i) p[2 + i] = static_cast<uint8_t>(seq >> (8 - 8 * i));
  for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<uint8_t>(ts >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) p[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  std::copy(payload.begin(), payload.end(), p.begin() + 12);
  return p;
}

Bytes Concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& b : parts) out.insert(out.end(), b.begin(), b.end());
  return out;
}

Bytes AnnexB(std::initializer_list<Bytes> nals) {
  Bytes out;
  for (const Bytes& n : nals)
    out.insert(out.end(), {0, 0, 0, 1}), out.insert(out.end(), n.begin(), n.end());
  return out;
}

struct Output {
  Bytes data;
  int64_t pts;
  bool key;
  int stream;
};

std::vector<Output> Drain(PacketQueue& q) {
  std::vector<Output> out;
  Packet p = MakePacket();
  while (q.PopFront(p.get())) {
    out.push_back({Bytes(p->data, p->data + p->size), p->pts, (p->flags & AV_PKT_FLAG_KEY) != 0,
                   p->stream_index});
  }
  return out;
}

struct H264Fixture {
  RtpStream stream{0, 90000, MakeH264Depacketizer(0)};
  PacketQueue queue;
  void Feed(const Bytes& rtp) { stream.OnRtp(rtp.data(), rtp.size(), &queue); }
};

const Bytes kSps = {0x67, 0x42, 0xc0, 0x1e, 0xda, 0x02, 0x80, 0xbf, 0xe5, 0x84, 0x00};
const Bytes kPps = {0x68, 0xce, 0x3c, 0x80};
const Bytes kIdr = {0x65, 0x88, 0x84, 0x00, 0x21, 0xff};
const Bytes kSlice = {0x41, 0x9a, 0x02, 0x03};

Bytes StapA(std::initializer_list<Bytes> nals) {
  Bytes p = {0x18};
  for (const Bytes& n : nals) {
    p.push_back(static_cast<uint8_t>(n.size() >> 8));
    p.push_back(static_cast<uint8_t>(n.size()));
    p.insert(p.end(), n.begin(), n.end());
  }
  return p;
}

// FU-A fragments of `nal` (header included) in `parts` pieces.
std::vector<Bytes> FuA(const Bytes& nal, int parts) {
  std::vector<Bytes> out;
  const size_t body = nal.size() - 1;
  size_t pos = 1;
  for (int i = 0; i < parts; ++i) {
    size_t n = i == parts - 1 ? nal.size() - pos : body / parts;
    uint8_t fu = nal[0] & 0x1f;
    if (i == 0) fu |= 0x80;
    if (i == parts - 1) fu |= 0x40;
    Bytes p = {static_cast<uint8_t>((nal[0] & 0xe0) | 28), fu};
    p.insert(p.end(), nal.begin() + static_cast<long>(pos),
             nal.begin() + static_cast<long>(pos + n));
    pos += n;
    out.push_back(p);
  }
  return out;
}

}  // namespace

TEST_CASE("an RTP header with CSRCs, extension and padding is stripped to its payload") {
  Bytes p = Rtp(7, 1000, true, {});
  p[0] = 0x80 | 0x20 | 0x10 | 1;                      // padding, extension, one CSRC
  p.insert(p.end(), {0, 0, 0, 9});                    // CSRC
  p.insert(p.end(), {0xbe, 0xde, 0, 1, 1, 2, 3, 4});  // extension of one word
  p.insert(p.end(), {0x41, 0x42});                    // payload
  p.insert(p.end(), {0, 0, 3});                       // padding of 3
  RtpPacket r;
  REQUIRE(ParseRtpPacket(p.data(), p.size(), &r));
  CHECK(r.sequence == 7);
  CHECK(r.timestamp == 1000);
  CHECK(r.marker);
  REQUIRE(r.size == 2);
  CHECK(r.payload[0] == 0x41);
  CHECK_FALSE(ParseRtpPacket(p.data(), 11, &r));
}

TEST_CASE("a STAP-A keyframe and a FU-A frame become two Annex B access units") {
  H264Fixture f;
  f.Feed(Rtp(1, 3000, false, StapA({kSps, kPps})));
  f.Feed(Rtp(2, 3000, true, kIdr));
  Bytes big = {0x41};
  for (int i = 0; i < 3000; ++i) big.push_back(static_cast<uint8_t>(i * 7 + 1));
  auto frags = FuA(big, 3);
  f.Feed(Rtp(3, 6600, false, frags[0]));
  f.Feed(Rtp(4, 6600, false, frags[1]));
  f.Feed(Rtp(5, 6600, true, frags[2]));
  auto out = Drain(f.queue);
  REQUIRE(out.size() == 2);
  CHECK(out[0].data == AnnexB({kSps, kPps, kIdr}));
  CHECK(out[0].key);
  CHECK(out[0].pts == 0);
  CHECK(out[1].data == AnnexB({big}));
  CHECK_FALSE(out[1].key);
  CHECK(out[1].pts == 3600);
}

TEST_CASE("a frame whose marker is lost is handed over when the next timestamp arrives") {
  H264Fixture f;
  f.Feed(Rtp(1, 0, false, kSlice));  // marker missing
  CHECK(f.queue.empty());
  f.Feed(Rtp(2, 3600, true, kSlice));
  auto out = Drain(f.queue);
  REQUIRE(out.size() == 2);
  CHECK(out[0].pts == 0);
  CHECK(out[1].pts == 3600);
}

TEST_CASE("a frame with a lost middle fragment is dropped and the next frame is kept") {
  H264Fixture f;
  f.Feed(Rtp(1, 0, true, kIdr));
  Bytes big = {0x41};
  for (int i = 0; i < 300; ++i) big.push_back(static_cast<uint8_t>(i | 1));
  auto frags = FuA(big, 3);
  f.Feed(Rtp(2, 3600, false, frags[0]));
  // frags[1] (sequence 3) is lost.
  f.Feed(Rtp(4, 3600, true, frags[2]));
  f.Feed(Rtp(5, 7200, true, kSlice));
  auto out = Drain(f.queue);
  REQUIRE(out.size() == 2);
  CHECK(out[0].pts == 0);
  CHECK(out[1].pts == 7200);
  CHECK(out[1].data == AnnexB({kSlice}));
  CHECK(f.stream.counters().lost == 1);
  CHECK(f.stream.depacketizer_counters().frames_dropped == 1);
}

TEST_CASE("a fragment continuation without its start is dropped as malformed") {
  H264Fixture f;
  Bytes big = {0x41, 1, 2, 3, 4, 5, 6};
  auto frags = FuA(big, 2);
  f.Feed(Rtp(1, 0, true, frags[1]));
  f.Feed(Rtp(2, 3600, true, kSlice));
  auto out = Drain(f.queue);
  REQUIRE(out.size() == 1);
  CHECK(out[0].pts == 3600);
  CHECK(f.stream.depacketizer_counters().frames_dropped == 1);
}

TEST_CASE("timestamps unwrap across the 32-bit boundary and start at the RTP-Info origin") {
  H264Fixture f;
  f.stream.SetOrigin(0xffffe000u);
  f.Feed(Rtp(65535, 0xfffff000u, true, kIdr));  // sequence wraps too
  f.Feed(Rtp(0, 0x00000a00u, true, kSlice));
  f.Feed(Rtp(1, 0x00001600u, true, kSlice));
  auto out = Drain(f.queue);
  REQUIRE(out.size() == 3);
  CHECK(out[0].pts == 0x1000);
  CHECK(out[1].pts == 0x1000 + 0x1a00);
  CHECK(out[2].pts == 0x1000 + 0x2600);
  CHECK(f.stream.counters().lost == 0);
}

TEST_CASE("H.265 aggregation packets and fragmentation units are reassembled") {
  RtpStream stream{1, 90000, MakeH265Depacketizer(1)};
  PacketQueue queue;
  const Bytes vps = {0x40, 0x01, 0x0c}, sps = {0x42, 0x01, 0x01}, pps = {0x44, 0x01, 0xc1};
  Bytes idr = {0x26, 0x01};  // IDR_W_RADL (19)
  for (int i = 0; i < 100; ++i) idr.push_back(static_cast<uint8_t>(i + 1));
  Bytes ap = {0x60, 0x01};  // type 48
  for (const Bytes* n : {&vps, &sps, &pps}) {
    ap.push_back(0);
    ap.push_back(static_cast<uint8_t>(n->size()));
    ap.insert(ap.end(), n->begin(), n->end());
  }
  auto fu = [&](bool start, bool end, size_t from, size_t to) {
    Bytes p = {static_cast<uint8_t>((idr[0] & 0x81) | (49 << 1)), idr[1],
               static_cast<uint8_t>((start ? 0x80 : 0) | (end ? 0x40 : 0) | 19)};
    p.insert(p.end(), idr.begin() + static_cast<long>(from), idr.begin() + static_cast<long>(to));
    return p;
  };
  for (const Bytes& p : {Rtp(10, 500, false, ap), Rtp(11, 500, false, fu(true, false, 2, 50)),
                         Rtp(12, 500, true, fu(false, true, 50, idr.size()))}) {
    stream.OnRtp(p.data(), p.size(), &queue);
  }
  auto out = Drain(queue);
  REQUIRE(out.size() == 1);
  CHECK(out[0].key);
  CHECK(out[0].stream == 1);
  CHECK(out[0].data == AnnexB({vps, sps, pps, idr}));
}

TEST_CASE("AAC access units of one packet become packets one frame duration apart") {
  AacPayloadFormat format;  // AAC-hbr: 13-bit size, 3-bit index
  RtpStream stream{2, 48000, MakeAacDepacketizer(2, format, 1024)};
  PacketQueue queue;
  const Bytes au1(200, 0x11), au2(7, 0x22), au3(300, 0x33);
  auto header = [](size_t size) {  // 16 bits: size << 3 | index 0
    return Bytes{static_cast<uint8_t>(size >> 5), static_cast<uint8_t>((size & 0x1f) << 3)};
  };
  Bytes payload =
      Concat({{0, 48}, header(au1.size()), header(au2.size()), header(au3.size()), au1, au2, au3});
  Bytes p = Rtp(1, 90000, true, payload);
  stream.OnRtp(p.data(), p.size(), &queue);
  auto out = Drain(queue);
  REQUIRE(out.size() == 3);
  CHECK(out[0].data == au1);
  CHECK(out[1].data == au2);
  CHECK(out[2].data == au3);
  CHECK(out[0].pts == 0);
  CHECK(out[1].pts == 1024);
  CHECK(out[2].pts == 2048);
}

TEST_CASE("an AAC access unit fragmented over two packets is joined") {
  AacPayloadFormat format;
  RtpStream stream{0, 48000, MakeAacDepacketizer(0, format, 1024)};
  PacketQueue queue;
  Bytes au(3000);
  for (size_t i = 0; i < au.size(); ++i) au[i] = static_cast<uint8_t>(i);
  const Bytes header = {0, 16, static_cast<uint8_t>(au.size() >> 5),
                        static_cast<uint8_t>((au.size() & 0x1f) << 3)};
  Bytes p1 = Rtp(1, 0, false, Concat({header, Bytes(au.begin(), au.begin() + 1400)}));
  Bytes p2 = Rtp(2, 0, true, Concat({header, Bytes(au.begin() + 1400, au.end())}));
  stream.OnRtp(p1.data(), p1.size(), &queue);
  CHECK(queue.empty());
  stream.OnRtp(p2.data(), p2.size(), &queue);
  auto out = Drain(queue);
  REQUIRE(out.size() == 1);
  CHECK(out[0].data == au);
}

TEST_CASE("an RTCP sender report maps presentation time to the camera's wall clock") {
  H264Fixture f;
  f.Feed(Rtp(1, 1000, true, kIdr));
  // SR: NTP 2024-01-01T00:00:00.5Z (3913056000 s since 1900), RTP time 1000 + 90000.
  const uint32_t ntp = 3913056000u, frac = 0x80000000u, rtp = 91000;
  Bytes sr = {0x80,
              200,
              0,
              6,
              0,
              0,
              0x12,
              0x34,
              static_cast<uint8_t>(ntp >> 24),
              static_cast<uint8_t>(ntp >> 16),
              static_cast<uint8_t>(ntp >> 8),
              static_cast<uint8_t>(ntp),
              static_cast<uint8_t>(frac >> 24),
              0,
              0,
              0,
              static_cast<uint8_t>(rtp >> 24),
              static_cast<uint8_t>(rtp >> 16),
              static_cast<uint8_t>(rtp >> 8),
              static_cast<uint8_t>(rtp),
              0,
              0,
              0,
              0,
              0,
              0,
              0,
              0};
  CHECK_FALSE(f.stream.CameraWallClock(0).has_value());
  f.stream.OnRtcp(sr.data(), sr.size());
  auto wall = f.stream.CameraWallClock(0);
  REQUIRE(wall.has_value());
  // pts 0 is one second before the report.
  CHECK(wall->us == (int64_t{ntp} - 2'208'988'800) * 1'000'000 + 500'000 - 1'000'000);
}

TEST_CASE("a pooled frame buffer hands over frames larger than its first buffer intact") {
  FrameBuffer fb(1024);
  Bytes big(100'000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 13);
  REQUIRE(fb.Append(big.data(), 600));
  REQUIRE(fb.Append(big.data() + 600, big.size() - 600));
  Packet p = MakePacket();
  fb.MoveTo(p.get());
  REQUIRE(p->size == static_cast<int>(big.size()));
  CHECK(Bytes(p->data, p->data + p->size) == big);
  CHECK(fb.size() == 0);
}
