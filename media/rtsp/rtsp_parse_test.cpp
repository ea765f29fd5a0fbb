// RTSP messages, URLs, SDP, authentication and SPS parsing on fixed input.
#include <catch2/catch.hpp>

#include "media/rtsp/interleaved_buffer.h"
#include "media/rtsp/parameter_sets.h"
#include "media/rtsp/rtsp_auth.h"
#include "media/rtsp/rtsp_message.h"
#include "media/rtsp/sdp.h"

using namespace custodian;
using namespace custodian::media::rtsp;

namespace {

// Real parameter sets: x264 High 1920x1080 (cropped from 1088), x264 Baseline 640x360,
// x265 Main 1920x1080 (conformance window from 1088).
const uint8_t kSps264High[] = {0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02,
                               0x27, 0xe5, 0xc0, 0x44, 0x00, 0x00, 0x03, 0x00, 0x04,
                               0x00, 0x00, 0x03, 0x00, 0xc8, 0x3c, 0x60, 0xc6, 0x58};
const uint8_t kSps264Baseline[] = {0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x2f, 0xf9,
                                   0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00,
                                   0x03, 0x00, 0x32, 0x0f, 0x16, 0x2e, 0x48};
const uint8_t kSps265[] = {0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00,
                           0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x78, 0xa0, 0x03, 0xc0, 0x80,
                           0x10, 0xe5, 0x96, 0x56, 0x69, 0x24, 0xca, 0xf0, 0x16, 0x80, 0x80,
                           0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x0c, 0x84};

// The simulator's B-frame clips (bframes=2, b-pyramid): x264 High and x265 Main
// 320x240, both reordering up to two frames.
const uint8_t kSps264Pyramid[] = {0x67, 0x64, 0x00, 0x14, 0xac, 0xd9, 0x01, 0x41, 0xfb, 0x01, 0x6a,
                                  0x0c, 0x0c, 0x0d, 0x4a, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00,
                                  0x03, 0x00, 0x65, 0x1e, 0x28, 0x53, 0x2c};
const uint8_t kSps265Pyramid[] = {0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00,
                                  0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3f, 0xa0, 0x0a, 0x08, 0x0f,
                                  0x16, 0x59, 0x59, 0x12, 0x93, 0x0b, 0xff, 0xc0, 0x00, 0x40, 0x00,
                                  0x5a, 0x83, 0x03, 0x03, 0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00,
                                  0x00, 0x03, 0x00, 0x32, 0x10};

const char kSdp[] =
    "v=0\r\n"
    "o=- 1 1 IN IP4 127.0.0.1\r\n"
    "s=Session\r\n"
    "a=control:*\r\n"
    "m=video 0 RTP/AVP 96\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 packetization-mode=1;profile-level-id=64001f;"
    "sprop-parameter-sets=Z2QAKKzZQHgCJ+XARAAAAwAEAAADAMg8YMZY,aOvjyyLA\r\n"
    "a=control:stream=0\r\n"
    "m=audio 0 RTP/AVP 97\r\n"
    "a=rtpmap:97 MPEG4-GENERIC/48000/1\r\n"
    "a=fmtp:97 streamtype=5;profile-level-id=2;mode=AAC-hbr;config=1188;sizelength=13;"
    "indexlength=3;indexdeltalength=3\r\n"
    "a=control:stream=1\r\n"
    "m=audio 0 RTP/AVP 0\r\n"
    "a=control:stream=2\r\n";

}  // namespace

TEST_CASE("an RTSP answer's status, headers and Content-Length are parsed") {
  auto m = ParseRtspHead(
      "RTSP/1.0 401 Unauthorized\r\nCSeq: 3\r\nWWW-Authenticate: Digest realm=\"r\"\r\n"
      "WWW-Authenticate: Basic realm=\"r\"\r\ncontent-length: 12");
  REQUIRE(m.ok());
  CHECK(m->is_response);
  CHECK(m->status == 401);
  CHECK(m->reason == "Unauthorized");
  CHECK(m->CSeq() == 3);
  CHECK(m->AllHeaders("www-authenticate").size() == 2);
  CHECK(ContentLength(*m) == 12);
  CHECK_FALSE(ParseRtspHead("RTSP/1.0 abc\r\n").ok());
}

TEST_CASE("URLs give up their credentials and controls resolve against the base") {
  auto u = ParseRtspUrl("rtsp://ad%40min:p%3Ass@cam.local:8554/live/main?x=1");
  REQUIRE(u.ok());
  CHECK(u->user == "ad@min");
  CHECK(u->password == "p:ss");
  CHECK(u->host == "cam.local");
  CHECK(u->port == 8554);
  CHECK(u->clean == "rtsp://cam.local:8554/live/main?x=1");
  auto v6 = ParseRtspUrl("rtsp://[::1]/x");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->port == 554);
  CHECK_FALSE(ParseRtspUrl("http://x/").ok());
  CHECK(ResolveControl("rtsp://h/cam/", "stream=0") == "rtsp://h/cam/stream=0");
  CHECK(ResolveControl("rtsp://h/cam", "trackID=1") == "rtsp://h/cam/trackID=1");
  CHECK(ResolveControl("rtsp://h/cam/", "rtsp://h/other") == "rtsp://h/other");
  CHECK(ResolveControl("rtsp://h/cam/", "*") == "rtsp://h/cam/");
  CHECK(HeaderParam("RTP/AVP/TCP;unicast;interleaved=2-3", "interleaved") == "2-3");
}

TEST_CASE("an SDP yields tracks, and codec parameters come from sprop and config") {
  auto sd = ParseSdp(kSdp);
  REQUIRE(sd.ok());
  CHECK(sd->control == "*");
  REQUIRE(sd->media.size() == 3);
  CHECK(sd->media[0].encoding == "H264");
  CHECK(sd->media[0].control == "stream=0");
  CHECK(sd->media[1].clock_rate == 48000);
  CHECK(sd->media[1].fmtp.at("config") == "1188");
  CHECK(sd->media[2].encoding == "PCMU");

  auto video = TrackParametersFromSdp(sd->media[0]);
  REQUIRE(video.ok());
  CHECK(video->par->codec_id == AV_CODEC_ID_H264);
  CHECK(video->par->width == 1920);
  CHECK(video->par->height == 1080);
  CHECK(video->time_base.den == 90000);
  REQUIRE(video->par->extradata_size > 8);
  CHECK(video->par->extradata[3] == 1);  // Annex B with four-byte start codes
  CHECK(video->par->extradata[4] == 0x67);

  auto audio = TrackParametersFromSdp(sd->media[1]);
  REQUIRE(audio.ok());
  CHECK(audio->par->codec_id == AV_CODEC_ID_AAC);
  CHECK(audio->par->sample_rate == 48000);
  CHECK(audio->par->ch_layout.nb_channels == 1);
  REQUIRE(audio->par->extradata_size == 2);
  CHECK(audio->par->extradata[0] == 0x11);
  CHECK(audio->aac.size_length == 13);

  auto pcmu = TrackParametersFromSdp(sd->media[2]);
  CHECK(pcmu.status().kind() == ErrorKind::kNotFound);
}

TEST_CASE("the picture size is read from H.264 and H.265 sequence parameter sets") {
  SpsInfo s;
  REQUIRE(ParseH264Sps(kSps264High, sizeof kSps264High, &s));
  CHECK(s.width == 1920);
  CHECK(s.height == 1080);
  CHECK(s.profile == 100);
  REQUIRE(ParseH264Sps(kSps264Baseline, sizeof kSps264Baseline, &s));
  CHECK(s.width == 640);
  CHECK(s.height == 360);
  REQUIRE(ParseH265Sps(kSps265, sizeof kSps265, &s));
  CHECK(s.width == 1920);
  CHECK(s.height == 1080);
  CHECK_FALSE(ParseH264Sps(kSps264High, 6, &s));
}

TEST_CASE("the reorder depth is read from H.264's VUI and H.265's SPS") {
  SpsInfo s;
  REQUIRE(ParseH264Sps(kSps264Pyramid, sizeof kSps264Pyramid, &s));
  CHECK(s.width == 320);
  CHECK(s.reorder_depth == 2);
  REQUIRE(ParseH265Sps(kSps265Pyramid, sizeof kSps265Pyramid, &s));
  CHECK(s.width == 320);
  CHECK(s.reorder_depth == 2);
  // x264's defaults (three B-frames, pyramid): 2, as ffmpeg's trace_headers reads it.
  REQUIRE(ParseH264Sps(kSps264High, sizeof kSps264High, &s));
  CHECK(s.reorder_depth == 2);
  // Baseline has no B slices.
  REQUIRE(ParseH264Sps(kSps264Baseline, sizeof kSps264Baseline, &s));
  CHECK(s.reorder_depth == 0);
}

TEST_CASE("Digest answers match RFC 2617's example, with and without qop") {
  RtspAuthenticator auth("Mufasa", "Circle Of Life");
  auth.SetClientNonceForTest("0a4f113b");
  REQUIRE(auth.OnChallenge({"Basic realm=\"x\"",
                            "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
                            "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
                            "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""}));
  const std::string h = auth.Authorization("GET", "/dir/index.html");
  CHECK(h.find("response=\"6629fae49393a05397450978507c4ef1\"") != std::string::npos);
  CHECK(h.find("nc=00000001") != std::string::npos);
  CHECK(h.find("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"") != std::string::npos);
  CHECK(h.find("Circle") == std::string::npos);

  RtspAuthenticator plain("user", "pass");
  REQUIRE(plain.OnChallenge({"Digest realm=\"r\", nonce=\"n\""}));
  const std::string expected =
      http_auth::DigestHash("MD5", http_auth::DigestHash("MD5", "user:r:pass") +
                                       ":n:" + http_auth::DigestHash("MD5", "DESCRIBE:rtsp://h/x"));
  CHECK(plain.Authorization("DESCRIBE", "rtsp://h/x").find("response=\"" + expected + "\"") !=
        std::string::npos);

  RtspAuthenticator basic("Aladdin", "open sesame", /*allow_basic=*/true);
  REQUIRE(basic.OnChallenge({"Basic realm=\"cam\""}));
  CHECK(basic.Authorization("OPTIONS", "rtsp://h/") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");

  // Without the opt-in a Basic-only challenge gets nothing, even after a Digest one.
  RtspAuthenticator digest_only("Aladdin", "open sesame");
  REQUIRE(digest_only.OnChallenge({"Digest realm=\"r\", nonce=\"n\""}));
  CHECK_FALSE(digest_only.OnChallenge({"Basic realm=\"cam\""}));
  CHECK(digest_only.basic_refused());
  CHECK(digest_only.Authorization("OPTIONS", "rtsp://h/").empty());

  RtspAuthenticator none("", "");
  CHECK_FALSE(none.OnChallenge({"Digest realm=\"r\", nonce=\"n\""}));
}

TEST_CASE("the interleaved buffer separates RTP frames, RTSP answers and garbage") {
  InterleavedBuffer b(256 * 1024);
  const std::string answer = "RTSP/1.0 200 OK\r\nCSeq: 9\r\nContent-Length: 3\r\n\r\nabc";
  std::string wire = std::string("$\x01\x00\x02xy", 6) + answer + "zz" +
                     std::string("$\x00\x00\x01q", 5) +
                     std::string("$\x02\x00\x05pa", 6);  // the last frame is incomplete
  size_t space = 0;
  uint8_t* tail = b.PrepareTail(&space);
  std::copy(wire.begin(), wire.end(), tail);
  b.Commit(wire.size());
  InterleavedBuffer::Frame f;
  RtspMessage m;
  REQUIRE(b.Next(&f, &m) == InterleavedBuffer::Unit::kFrame);
  CHECK(f.channel == 1);
  CHECK(std::string(reinterpret_cast<const char*>(f.data), f.size) == "xy");
  REQUIRE(b.Next(&f, &m) == InterleavedBuffer::Unit::kMessage);
  CHECK(m.CSeq() == 9);
  CHECK(m.body == "abc");
  REQUIRE(b.Next(&f, &m) == InterleavedBuffer::Unit::kFrame);
  CHECK(f.channel == 0);
  CHECK(b.skipped_bytes() == 2);
  CHECK(b.Next(&f, &m) == InterleavedBuffer::Unit::kNeedMore);
  tail = b.PrepareTail(&space);
  std::string rest = "yld";
  std::copy(rest.begin(), rest.end(), tail);
  b.Commit(rest.size());
  REQUIRE(b.Next(&f, &m) == InterleavedBuffer::Unit::kFrame);
  CHECK(std::string(reinterpret_cast<const char*>(f.data), f.size) == "payld");
}
