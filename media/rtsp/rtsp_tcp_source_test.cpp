// RtspTcpSource against custodian-sim (gst-rtsp-server): codecs and sizes, frame rate, GOP,
// timestamps, Digest authentication, stalls, cancellation, and the access units compared
// byte for byte with what libavformat (the recorder's reader so far) makes of the same
// stream. Clips are small (640x360, 4 s) so the first run encodes them in seconds.
#include "media/rtsp/rtsp_tcp_source.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>

#include "base/filesystem.h"
#include "media/access_unit.h"
#include "media/fmp4_writer.h"
#include "media/probe.h"
#include "media/rtsp/parameter_sets.h"
#include "tests/sim/sim_process.h"

using namespace custodian;
using namespace custodian::media;
using namespace custodian::media::rtsp;

namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr int64_t kTimeoutUs = 5'000'000;

double SecondsSince(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

const std::string kClip = "width=640,height=360,fps=25,gop=25,bitrate=800,clip=4,input=pattern";

std::unique_ptr<sim::SimulatorProcess> StartSimulator() {
  auto sim = sim::SimulatorProcess::Start({
      "h264:codec=h264," + kClip,
      "h264aac:codec=h264,audio=aac," + kClip,
      "h265:codec=h265," + kClip,
      "h265aac:codec=h265,audio=aac," + kClip,
      "locked:codec=h264,user=admin,password=secret," + kClip,
  });
  REQUIRE(sim.ok());
  return std::move(sim).value();
}

// Keep-alives every second, so that a test sees the camera answer several.
RtspSourceOptions TestOptions() {
  RtspSourceOptions o;
  o.connect_timeout_us = kTimeoutUs;
  o.keepalive_interval_us = 1'000'000;
  return o;
}

std::unique_ptr<RtspTcpSource> OpenOrFail(const std::string& url, const std::string& user = "",
                                          const std::string& password = "") {
  auto s = RtspTcpSource::Open(url, user, password, TestOptions(), nullptr);
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  return std::move(s).value();
}

struct Frame {
  int stream = 0;
  int64_t pts = 0;
  bool key = false;
  std::vector<uint8_t> data;
};

// Reads for `seconds` of wall-clock time.
std::vector<Frame> ReadFor(RtspTcpSource& source, double seconds) {
  std::vector<Frame> frames;
  Packet pkt = MakePacket();
  const auto start = SteadyClock::now();
  while (SecondsSince(start) < seconds) {
    int stream = -1;
    Status st = source.ReadPacket(pkt.get(), &stream, kTimeoutUs);
    INFO(st.ToString());
    REQUIRE(st.ok());
    frames.push_back({stream, pkt->pts, (pkt->flags & AV_PKT_FLAG_KEY) != 0,
                      std::vector<uint8_t>(pkt->data, pkt->data + pkt->size)});
  }
  return frames;
}

// The checks every stream passes: size, frame rate, one keyframe per GOP, regular
// timestamps starting near zero; AAC at 48 kHz in 1024-sample frames.
void CheckStream(const std::string& name, AVCodecID codec, bool audio) {
  auto sim = StartSimulator();
  auto source = OpenOrFail(sim->Url(name));
  REQUIRE(source->stream_count() == (audio ? 2 : 1));
  const AVCodecParameters* v = source->codecpar(0);
  CHECK(v->codec_id == codec);
  CHECK(v->width == 640);
  CHECK(v->height == 360);
  CHECK(v->extradata_size > 0);
  CHECK(source->time_base(0).den == 90000);
  if (audio) {
    const AVCodecParameters* a = source->codecpar(1);
    CHECK(a->codec_id == AV_CODEC_ID_AAC);
    CHECK(a->sample_rate == 48000);
    CHECK(a->extradata_size >= 2);
    CHECK(source->time_base(1).den == 48000);
  }

  const double seconds = 5.0;
  auto frames = ReadFor(*source, seconds);
  std::vector<int64_t> video_pts, key_pts, audio_pts;
  for (const Frame& f : frames) {
    if (f.stream == 0) {
      video_pts.push_back(f.pts);
      if (f.key) key_pts.push_back(f.pts);
      // Every access unit is Annex B with four-byte start codes.
      REQUIRE(f.data.size() > 4);
      CHECK((f.data[0] == 0 && f.data[1] == 0 && f.data[2] == 0 && f.data[3] == 1));
    } else {
      audio_pts.push_back(f.pts);
    }
  }
  CHECK(video_pts.size() >= 25 * seconds * 0.94);
  CHECK(video_pts.size() <= 25 * seconds * 1.06);
  REQUIRE(!video_pts.empty());
  CHECK(video_pts.front() >= 0);
  CHECK(video_pts.front() < 90000);
  for (size_t i = 1; i < video_pts.size(); ++i) CHECK(video_pts[i] - video_pts[i - 1] == 3600);
  REQUIRE(key_pts.size() >= 4);
  for (size_t i = 1; i < key_pts.size(); ++i) CHECK(key_pts[i] - key_pts[i - 1] == 25 * 3600);
  if (audio) {
    CHECK(audio_pts.size() >= 48000.0 / 1024 * seconds * 0.94);
    CHECK(audio_pts.size() <= 48000.0 / 1024 * seconds * 1.06);
    REQUIRE(!audio_pts.empty());
    CHECK(audio_pts.front() < 48000);
    // One frame after another, except where the 4 s clip loops (187.5 AAC frames long).
    int irregular = 0;
    for (size_t i = 1; i < audio_pts.size(); ++i) {
      const int64_t step = audio_pts[i] - audio_pts[i - 1];
      CHECK(step >= 1024);
      CHECK(step <= 2048);
      if (step != 1024) ++irregular;
    }
    CHECK(irregular <= 2);
  }
  const RtspCounters c = source->counters();
  CHECK(c.frames_dropped == 0);
  CHECK(c.rtp_packets_lost == 0);
  CHECK(c.keepalives >= 4);
  CHECK(c.keepalive_errors == 0);
}

// The NAL units of an Annex B access unit, without start codes.
std::vector<std::vector<uint8_t>> Nals(const uint8_t* data, size_t size) {
  std::vector<std::vector<uint8_t>> out;
  ForEachAnnexBNal(data, size,
                   [&](const uint8_t* nal, size_t n) { out.emplace_back(nal, nal + n); });
  return out;
}

struct LibavFrame {
  bool key = false;
  std::vector<std::vector<uint8_t>> nals;
};

// What the recorder did so far: libavformat's RTSP demuxer over TCP, packets of one
// timestamp joined by AccessUnitAssembler.
std::vector<LibavFrame> ReadWithLibav(const std::string& url, double seconds) {
  AVFormatContext* ic = nullptr;
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "rtsp_transport", "tcp", 0);
  int rc = avformat_open_input(&ic, url.c_str(), nullptr, &opts);
  av_dict_free(&opts);
  REQUIRE(rc >= 0);
  InputContext input(ic);
  REQUIRE(avformat_find_stream_info(ic, nullptr) >= 0);
  const int video = av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  REQUIRE(video >= 0);
  std::vector<LibavFrame> frames;
  Packet pkt = MakePacket(), unit = MakePacket();
  AccessUnitAssembler assembler;
  const auto start = SteadyClock::now();
  while (SecondsSince(start) < seconds && av_read_frame(ic, pkt.get()) >= 0) {
    if (pkt->stream_index != video) {
      av_packet_unref(pkt.get());
      continue;
    }
    if (assembler.Push(pkt.get(), unit.get())) {
      frames.push_back({(unit->flags & AV_PKT_FLAG_KEY) != 0,
                        Nals(unit->data, static_cast<size_t>(unit->size))});
      av_packet_unref(unit.get());
    }
  }
  return frames;
}

}  // namespace

TEST_CASE("an H.264 stream is read at its frame rate with a keyframe every GOP") {
  CheckStream("h264", AV_CODEC_ID_H264, false);
}

TEST_CASE("an H.264 stream with AAC audio gives both, timed from zero") {
  CheckStream("h264aac", AV_CODEC_ID_H264, true);
}

TEST_CASE("an H.265 stream is read at its frame rate with a keyframe every GOP") {
  CheckStream("h265", AV_CODEC_ID_HEVC, false);
}

TEST_CASE("an H.265 stream with AAC audio gives both, timed from zero") {
  CheckStream("h265aac", AV_CODEC_ID_HEVC, true);
}

TEST_CASE("the access units equal libavformat's, NAL unit for NAL unit") {
  for (const char* name : {"h264", "h265"}) {
    auto sim = StartSimulator();
    std::vector<LibavFrame> theirs;
    std::thread libav([&] { theirs = ReadWithLibav(sim->Url(name), 4.0); });
    auto source = OpenOrFail(sim->Url(name));
    auto ours = ReadFor(*source, 5.0);
    libav.join();
    REQUIRE(theirs.size() > 50);
    // Both joined the same shared stream at slightly different moments: align the first
    // frame of one with its copy in the other, then every later frame must match.
    std::vector<std::vector<std::vector<uint8_t>>> our_nals;
    for (const Frame& f : ours) our_nals.push_back(Nals(f.data.data(), f.data.size()));
    // The first frame either side may lack the NAL units sent before the reader joined,
    // and the clip loops every 4 s so a frame has several copies: of the alignments of an
    // early frame of one with a frame of the other, take the one that overlaps most.
    size_t skip_ours = 0, skip_theirs = 0, overlap = 0;
    for (size_t a = 0; a < 3; ++a) {
      for (size_t i = 0; i < ours.size(); ++i) {
        const size_t n = std::min(ours.size() - i, theirs.size() - a);
        if (our_nals[i] == theirs[a].nals && n > overlap)
          skip_ours = i, skip_theirs = a, overlap = n;
      }
      for (size_t j = 0; j < theirs.size(); ++j) {
        const size_t n = std::min(theirs.size() - j, ours.size() - a);
        if (theirs[j].nals == our_nals[a] && n > overlap)
          skip_ours = a, skip_theirs = j, overlap = n;
      }
    }
    const bool aligned = overlap > 0;
    INFO(name);
    REQUIRE(aligned);
    size_t compared = 0;
    int64_t our_bytes = 0, their_bytes = 0;
    for (size_t i = skip_ours, j = skip_theirs; i < ours.size() && j < theirs.size();
         ++i, ++j, ++compared) {
      CHECK(our_nals[i] == theirs[j].nals);
      CHECK(ours[i].key == theirs[j].key);
      for (const auto& n : our_nals[i]) our_bytes += static_cast<int64_t>(n.size());
      for (const auto& n : theirs[j].nals) their_bytes += static_cast<int64_t>(n.size());
    }
    INFO("ours " << ours.size() << " from " << skip_ours << ", libav's " << theirs.size()
                 << " from " << skip_theirs);
    CHECK(compared > 50);
    CHECK(our_bytes == their_bytes);
  }
}

TEST_CASE("Digest authentication: a wrong password is refused, the right one plays") {
  auto sim = StartSimulator();
  auto wrong = RtspTcpSource::Open(sim->Url("locked"), "admin", "wrong", kTimeoutUs, nullptr);
  CHECK(wrong.status().kind() == ErrorKind::kUnauthenticated);
  CHECK(wrong.status().message().find("wrong") == std::string::npos);
  auto none = RtspTcpSource::Open(sim->Url("locked"), "", "", kTimeoutUs, nullptr);
  CHECK(none.status().kind() == ErrorKind::kUnauthenticated);

  auto source = OpenOrFail(sim->Url("locked"), "admin", "secret");
  auto frames = ReadFor(*source, 2.5);
  CHECK(frames.size() > 50);
  // Keep-alives carry the credentials too.
  CHECK(source->counters().keepalives >= 2);
  CHECK(source->counters().keepalive_errors == 0);
  // Credentials in the URL work too, and never appear in url().
  auto in_url = OpenOrFail(sim->Url("locked", "admin", "secret"));
  CHECK(in_url->url().find("secret") == std::string::npos);
  CHECK(ReadFor(*in_url, 0.5).size() > 5);
}

TEST_CASE("a camera demanding RFC 7616 Digest with qop auth-int and userhash is answered") {
  // gst-rtsp-server with the simulator's strict Digest (tests/sim/strict_digest_auth.h):
  // SHA-256, qop "auth-int" only, userhash=true. Before the client did these, it found
  // nothing it could answer and every open failed as unauthenticated.
  sim::SimulatorOptions options;
  options.extra_args = {"--digest", "auth-int-userhash"};
  auto started = sim::SimulatorProcess::Start(
      {"strict:codec=h264,user=admin,password=secret," + kClip}, options);
  REQUIRE(started.ok());
  auto& sim = *started;
  auto wrong = RtspTcpSource::Open(sim->Url("strict"), "admin", "wrong", kTimeoutUs, nullptr);
  CHECK(wrong.status().kind() == ErrorKind::kUnauthenticated);
  CHECK(wrong.status().message().find("rejected the credentials") != std::string::npos);
  auto source = OpenOrFail(sim->Url("strict"), "admin", "secret");
  CHECK(ReadFor(*source, 2.5).size() > 50);
  // Keep-alives answer the same challenge, with the nonce count going up.
  CHECK(source->counters().keepalives >= 2);
  CHECK(source->counters().keepalive_errors == 0);
}

TEST_CASE("a stall is reported within the stall timeout, and reading resumes at a keyframe") {
  auto sim = StartSimulator();
  auto source = OpenOrFail(sim->Url("h264aac"));
  ReadFor(*source, 1.0);
  REQUIRE(sim->Command("stall h264aac 3").ok());
  Packet pkt = MakePacket();
  int stream = -1;
  Status st;
  const auto start = SteadyClock::now();
  // Packets already in flight when the stall began come first.
  while ((st = source->ReadPacket(pkt.get(), &stream, 1'000'000)).ok()) {
    REQUIRE(SecondsSince(start) < 2.0);
  }
  const double waited = SecondsSince(start);
  CHECK(st.kind() == ErrorKind::kUnavailable);
  CHECK(source->end_reason() == RtspEnd::kStalled);
  CHECK(waited >= 0.95);
  CHECK(waited < 1.6);
  // The connection outlives the stall: the next video frame is a keyframe.
  do {
    st = source->ReadPacket(pkt.get(), &stream, kTimeoutUs);
    REQUIRE(st.ok());
  } while (stream != 0);
  CHECK((pkt->flags & AV_PKT_FLAG_KEY) != 0);
}

TEST_CASE("cancel ends a read and a handshake within a fraction of a second") {
  auto sim = StartSimulator();
  std::atomic<bool> cancel{false};
  auto source = RtspTcpSource::Open(sim->Url("h264"), "", "", kTimeoutUs, &cancel);
  REQUIRE(source.ok());
  REQUIRE(sim->Command("stall h264 10").ok());
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    cancel = true;
  });
  Packet pkt = MakePacket();
  int stream = -1;
  Status st;
  while ((st = (*source)->ReadPacket(pkt.get(), &stream, 30'000'000)).ok()) {
  }
  const auto cancelled_at = SteadyClock::now();
  canceller.join();
  CHECK(st.kind() == ErrorKind::kFailedPrecondition);
  CHECK((*source)->end_reason() == RtspEnd::kCancelled);
  CHECK(SecondsSince(cancelled_at) < 1.0);

  // A server that accepts and never answers: Open waits for OPTIONS' answer until cancelled.
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(listener, 1) == 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::atomic<bool> cancel_open{false};
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel_open = true;
  });
  const auto start = SteadyClock::now();
  auto silent =
      RtspTcpSource::Open("rtsp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/x", "", "",
                          30'000'000, &cancel_open);
  later.join();
  CHECK(silent.status().kind() == ErrorKind::kFailedPrecondition);
  CHECK(SecondsSince(start) < 0.3 + 0.25);
  close(listener);
}

TEST_CASE("RTCP sender reports give the camera's wall clock for a pts") {
  auto sim = StartSimulator();
  auto source = OpenOrFail(sim->Url("h264"));
  Packet pkt = MakePacket();
  int stream = -1;
  const auto start = SteadyClock::now();
  std::optional<UtcMicros> wall;
  while (!wall && SecondsSince(start) < 10) {
    REQUIRE(source->ReadPacket(pkt.get(), &stream, kTimeoutUs).ok());
    wall = source->CameraWallClock(pkt->pts, stream);
  }
  REQUIRE(wall.has_value());
  // The simulator runs on this machine's clock.
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  CHECK(std::llabs(wall->us - now_us) < 2 * kMicrosPerSecond);
}

TEST_CASE("the packets and codec parameters make an MP4 that decodes without error") {
  auto sim = StartSimulator();
  char dir_template[] = "/tmp/rtsp-mp4-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string dir = dir_template;
  for (const char* name : {"h264aac", "h265aac"}) {
    INFO(name);
    auto source = OpenOrFail(sim->Url(name));
    std::vector<StreamSpec> specs;
    for (int i = 0; i < source->stream_count(); ++i)
      specs.push_back({source->codecpar(i), source->time_base(i)});
    const std::string path = dir + "/" + name + ".mp4";
    auto file = PosixFilesystem::Instance().Create(path);
    REQUIRE(file.ok());
    auto writer = FragmentedMp4Writer::Open(std::move(file).value(), specs);
    REQUIRE(writer.ok());
    Packet pkt = MakePacket();
    int stream = -1;
    bool started = false;
    int64_t first_pts = 0, frames = 0;
    while (frames < 75) {
      REQUIRE(source->ReadPacket(pkt.get(), &stream, kTimeoutUs).ok());
      if (!started && !(stream == 0 && (pkt->flags & AV_PKT_FLAG_KEY))) continue;
      if (!started) first_pts = pkt->pts;
      started = true;
      if (stream == 1 && pkt->pts < first_pts * 48000 / 90000) continue;  // before the picture
      pkt->stream_index = stream;
      REQUIRE((*writer)->Write(*pkt).ok());
      if (stream == 0) ++frames;
    }
    REQUIRE((*writer)->Finish().ok());
    auto probe = ProbeFile(path, /*decode=*/true);
    REQUIRE(probe.ok());
    CHECK(probe->width == 640);
    CHECK(probe->height == 360);
    CHECK(probe->audio_codec == "aac");
    CHECK(probe->video_frames == 75);
    CHECK(probe->keyframes >= 3);
    CHECK(probe->decode_errors == 0);
  }
  std::filesystem::remove_all(dir);
}
