// RtspTcpSource against a scripted one-connection RTSP server, for what custodian-sim does
// not do: Basic authentication, an SDP without parameter sets, interleaved channels other
// than those asked for, garbage between frames, keep-alives, TEARDOWN, an abrupt close;
// and a hostile camera: channels out of range, hundreds of tracks, a flood of
// frames before any keyframe, a session timeout that overflows.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "base/mutex.h"
#include "media/rtsp/rtsp_tcp_source.h"

using namespace custodian;
using namespace custodian::media;
using namespace custodian::media::rtsp;

namespace {

using Bytes = std::vector<uint8_t>;
using SteadyClock = std::chrono::steady_clock;

const Bytes kSps = {
    0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00,
    0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2e, 0x48};  // 640x360
const Bytes kPps = {0x68, 0xcb, 0x83, 0xcb, 0x20};
const Bytes kIdr = {0x65, 0x88, 0x84, 0x00, 0x33};
const Bytes kSlice = {0x41, 0x9a, 0x02, 0x03};

std::string Interleaved(uint8_t channel, const Bytes& payload) {
  std::string s = {'$', static_cast<char>(channel), static_cast<char>(payload.size() >> 8),
                   static_cast<char>(payload.size() & 0xff)};
  return s + std::string(payload.begin(), payload.end());
}

Bytes Rtp(uint16_t seq, uint32_t ts, bool marker, const Bytes& payload) {
  Bytes p(12 + payload.size());
  p[0] = 0x80;
  p[1] = static_cast<uint8_t>((marker ? 0x80 : 0) | 96);
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<uint8_t>(ts >> (24 - 8 * i));
  p[11] = 7;  // SSRC 7
  std::copy(payload.begin(), payload.end(), p.begin() + 12);
  return p;
}

// Byte by byte: GCC 12 at -O3 reports a false -Warray-bounds on vector::insert here once
// the function is inlined into a loop.
Bytes StapA(const Bytes& a, const Bytes& b) {
  Bytes p;
  p.reserve(5 + a.size() + b.size());
  p.push_back(0x18);
  for (const Bytes* nal : {&a, &b}) {
    p.push_back(static_cast<uint8_t>(nal->size() >> 8));
    p.push_back(static_cast<uint8_t>(nal->size()));
    for (uint8_t x : *nal) p.push_back(x);
  }
  return p;
}

// The fake camera asks for Basic, which plain RTSP answers only when the camera allows it.
RtspSourceOptions BasicAllowed(int64_t connect_timeout_us) {
  RtspSourceOptions options;
  options.connect_timeout_us = connect_timeout_us;
  options.allow_basic_auth = true;
  return options;
}

// One video track without parameter sets, and a metadata track the client skips.
const char kDefaultSdp[] =
    "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=fake\r\nt=0 0\r\n"
    "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 packetization-mode=1\r\na=control:trackID=1\r\n"
    "m=application 0 RTP/AVP 107\r\na=rtpmap:107 vnd.onvif.metadata/90000\r\n"
    "a=control:trackID=2\r\n";

// What a FakeCamera says.
struct CameraScript {
  std::string sdp = kDefaultSdp;
  // The headers of every SETUP answer.
  std::string setup_headers =
      "Transport: RTP/AVP/TCP;unicast;interleaved=4-5\r\nSession: 12345;timeout=60\r\n";
  std::string media;       // sent right after the PLAY answer
  int close_after_ms = 0;  // closes the connection this long after PLAY (never when 0)
  // Instead of answering DESCRIBE, sends frames on an unused channel for this long.
  int flood_on_describe_ms = 0;
};

// Serves one connection on a loopback port: answers requests like a camera that wants
// Basic credentials, then plays the script's media.
class FakeCamera {
 public:
  FakeCamera(std::string media, int close_after_ms)
      : FakeCamera(CameraScript{kDefaultSdp, CameraScript().setup_headers, std::move(media),
                                close_after_ms}) {}
  explicit FakeCamera(CameraScript script)
      : script_(std::move(script)),
        media_(script_.media),
        close_after_ms_(script_.close_after_ms) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(listener_, 1) == 0);
    socklen_t len = sizeof addr;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeCamera() {
    stop_ = true;
    thread_.join();
    close(listener_);
  }
  std::string Url() const { return "rtsp://127.0.0.1:" + std::to_string(port_) + "/cam"; }
  std::vector<std::string> Requests() {
    MutexLock l(mu_);
    return requests_;
  }
  int Count(const std::string& method) {
    int n = 0;
    for (const auto& r : Requests()) n += r.rfind(method + " ", 0) == 0;
    return n;
  }
  // Waits until the client has closed the connection (or 3 s).
  void WaitDone() {
    for (int i = 0; i < 300 && !done_; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

 private:
  std::string Answer(const std::string& request, bool* play, bool* flood) {
    auto header = [&](const std::string& name) {
      size_t at = request.find("\r\n" + name + ": ");
      if (at == std::string::npos) return std::string();
      at += name.size() + 4;
      return request.substr(at, request.find("\r\n", at) - at);
    };
    const std::string method = request.substr(0, request.find(' '));
    std::string head = "RTSP/1.0 200 OK\r\nCSeq: " + header("CSeq") + "\r\n";
    std::string body;
    const std::string base = Url() + "/";
    if (method == "OPTIONS") {
      head += "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER\r\n";
    } else if (method == "DESCRIBE") {
      if (script_.flood_on_describe_ms > 0) {
        *flood = true;
        return "";
      }
      if (header("Authorization") != "Basic YWRtaW46cHc=") {  // admin:pw
        return "RTSP/1.0 401 Unauthorized\r\nCSeq: " + header("CSeq") +
               "\r\nWWW-Authenticate: Basic realm=\"fake\"\r\n\r\n";
      }
      body = script_.sdp;
      head += "Content-Base: " + base + "\r\nContent-Type: application/sdp\r\n";
    } else if (method == "SETUP") {
      head += script_.setup_headers;
    } else if (method == "PLAY") {
      head += "Session: 12345\r\nRTP-Info: url=" + base + "trackID=1;seq=100;rtptime=5000\r\n";
      *play = true;
    }
    if (!body.empty()) head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    return head + "\r\n" + body;
  }

  void Serve() {
    pollfd p{listener_, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) return;
    int conn = accept(listener_, nullptr, nullptr);
    timeval tv{0, 50'000};
    setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string in;
    std::optional<SteadyClock::time_point> close_at;
    while (!stop_) {
      if (close_at && SteadyClock::now() >= *close_at) break;
      char buf[4096];
      ssize_t n = recv(conn, buf, sizeof buf, 0);
      if (n == 0) break;
      if (n > 0) in.append(buf, static_cast<size_t>(n));
      for (size_t end; (end = in.find("\r\n\r\n")) != std::string::npos;) {
        const std::string request = in.substr(0, end + 4);
        in.erase(0, end + 4);
        {
          MutexLock l(mu_);
          requests_.push_back(request);
        }
        bool play = false, flood = false;
        std::string answer = Answer(request, &play, &flood);
        send(conn, answer.data(), answer.size(), MSG_NOSIGNAL);
        if (flood) {
          // Large writes keep the socket full, so that every read the client makes is a
          // full one (the case where it never used to look at its deadline).
          std::string frames;
          while (frames.size() < (1u << 20)) frames += Interleaved(9, Bytes(1000, 0x80));
          const auto until =
              SteadyClock::now() + std::chrono::milliseconds(script_.flood_on_describe_ms);
          while (!stop_ && SteadyClock::now() < until &&
                 send(conn, frames.data(), frames.size(), MSG_NOSIGNAL) > 0) {
          }
        }
        if (play) {
          send(conn, media_.data(), media_.size(), MSG_NOSIGNAL);
          if (close_after_ms_ > 0)
            close_at = SteadyClock::now() + std::chrono::milliseconds(close_after_ms_);
        }
      }
    }
    close(conn);
    done_ = true;
  }

  const CameraScript script_;
  const std::string media_;
  const int close_after_ms_;
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  Mutex mu_;
  std::vector<std::string> requests_ GUARDED_BY(mu_);
};

std::string StandardMedia() {
  return std::string("\x00\x01junk", 6) +  // garbage before the first frame
         Interleaved(4, Rtp(100, 5000, false, StapA(kSps, kPps))) +
         Interleaved(4, Rtp(101, 5000, true, kIdr)) +
         Interleaved(5, Bytes{0x81, 201, 0, 1, 0, 0, 0, 9}) +  // an RTCP receiver report
         Interleaved(4, Rtp(102, 8600, true, kSlice)) +
         Interleaved(4, Rtp(103, 12200, true, kSlice)) +
         Interleaved(9, Bytes{1, 2, 3});  // a channel nobody set up
}

}  // namespace

TEST_CASE("a camera with Basic auth and no sprop in its SDP is read, then its close is reported") {
  FakeCamera camera(StandardMedia(), 2500);
  RtspSourceOptions options;
  options.allow_basic_auth = true;  // the fake camera asks for Basic
  options.keepalive_interval_us = 700'000;
  auto opened = RtspTcpSource::Open(camera.Url(), "admin", "pw", options, nullptr);
  INFO(opened.status().ToString());
  REQUIRE(opened.ok());
  RtspTcpSource& source = **opened;
  REQUIRE(source.stream_count() == 1);
  REQUIRE(source.skipped_tracks().size() == 1);
  CHECK(source.skipped_tracks()[0].find("vnd.onvif.metadata") != std::string::npos);
  const AVCodecParameters* par = source.codecpar(0);
  CHECK(par->width == 640);  // from the SPS of the first keyframe
  CHECK(par->height == 360);
  CHECK(par->extradata_size == static_cast<int>(8 + kSps.size() + kPps.size()));

  Packet pkt = MakePacket();
  int stream = -1;
  REQUIRE(source.ReadPacket(pkt.get(), &stream, 1'000'000).ok());
  CHECK((pkt->flags & AV_PKT_FLAG_KEY) != 0);
  CHECK(pkt->pts == 0);
  CHECK(pkt->size == static_cast<int>(12 + kSps.size() + kPps.size() + kIdr.size()));
  REQUIRE(source.ReadPacket(pkt.get(), &stream, 1'000'000).ok());
  CHECK(pkt->pts == 3600);
  REQUIRE(source.ReadPacket(pkt.get(), &stream, 1'000'000).ok());
  CHECK(pkt->pts == 7200);
  CHECK((pkt->flags & AV_PKT_FLAG_KEY) == 0);

  const auto start = SteadyClock::now();
  Status st = source.ReadPacket(pkt.get(), &stream, 10'000'000);
  CHECK(st.kind() == ErrorKind::kUnavailable);
  CHECK(source.end_reason() == RtspEnd::kClosed);
  CHECK(std::chrono::duration<double>(SteadyClock::now() - start).count() < 3.0);
  const RtspCounters c = source.counters();
  CHECK(c.skipped_bytes == 6);
  CHECK(c.keepalives >= 2);
  CHECK(c.keepalive_errors == 0);
  CHECK(camera.Count("GET_PARAMETER") >= 2);
  CHECK(camera.Count("SETUP") == 1);  // the metadata track is not set up
  for (const std::string& r : camera.Requests()) {
    if (r.rfind("SETUP ", 0) == 0) CHECK(r.rfind("SETUP " + camera.Url() + "/trackID=1 ", 0) == 0);
    if (r.rfind("PLAY ", 0) == 0) CHECK(r.find("Session: 12345\r\n") != std::string::npos);
  }
}

TEST_CASE("closing a source sends TEARDOWN for its session") {
  FakeCamera camera(StandardMedia(), 0);
  auto opened = RtspTcpSource::Open(camera.Url(), "admin", "pw", BasicAllowed(2'000'000), nullptr);
  REQUIRE(opened.ok());
  opened = Status(ErrorKind::kUnavailable, "closed");  // destroys the source
  camera.WaitDone();
  CHECK(camera.Count("TEARDOWN") == 1);
}

TEST_CASE("wrong Basic credentials are refused without a retry loop") {
  FakeCamera camera("", 0);
  auto opened = RtspTcpSource::Open(camera.Url(), "admin", "nope", BasicAllowed(2'000'000), nullptr);
  CHECK(opened.status().kind() == ErrorKind::kUnauthenticated);
  CHECK(camera.Count("DESCRIBE") == 2);
}

// Basic sends the password base64-encoded, i.e. in the clear, over plain RTSP;
// a camera (or whoever answers at its address) that asks only for Basic must not get it
// unless the camera's configuration allows it. Digest is answered as before (the
// simulator's digest tests in rtsp_tcp_source_test run with the default options).
TEST_CASE("plain RTSP does not answer a Basic challenge unless the camera allows it") {
  {
    FakeCamera camera(StandardMedia(), 0);
    RtspSourceOptions options;  // allow_basic_auth is off by default
    options.connect_timeout_us = 2'000'000;
    auto opened = RtspTcpSource::Open(camera.Url(), "admin", "pw", options, nullptr);
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.status().kind() == ErrorKind::kUnauthenticated);
    CHECK(opened.status().message().find("allow_basic_auth") != std::string::npos);
    CHECK(opened.status().message().find("pw") == std::string::npos);
    opened = Status(ErrorKind::kUnavailable, "closed");
    camera.WaitDone();
    CHECK(camera.Count("DESCRIBE") == 1);  // no second DESCRIBE carrying the password
    for (const std::string& r : camera.Requests()) {
      CHECK(r.find("Authorization") == std::string::npos);
      CHECK(r.find("YWRtaW46cHc=") == std::string::npos);  // base64 of admin:pw
    }
  }
  {
    FakeCamera camera(StandardMedia(), 0);
    auto opened = RtspTcpSource::Open(camera.Url(), "admin", "pw", BasicAllowed(2'000'000), nullptr);
    INFO(opened.status().ToString());
    CHECK(opened.ok());
  }
}

// --- A hostile camera ---------------------------------------------------------------------
// Each of these once crashed the recorder or made it grow without bound; a crash would
// end the recording of every camera, so each must come back as a status for this one.

namespace {

std::string SdpWithTracks(int n) {
  std::string sdp = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=many\r\nt=0 0\r\n";
  for (int i = 0; i < n; ++i) {
    sdp += "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\n"
           "a=control:trackID=" +
           std::to_string(i) + "\r\n";
  }
  return sdp;
}

// Frames on every channel, as a camera that picked channels it should not have would
// send them.
std::string FramesOnEveryChannel() {
  std::string media;
  for (int c = 0; c < 256; ++c) {
    media += Interleaved(static_cast<uint8_t>(c), Rtp(100, 5000, false, StapA(kSps, kPps)));
    media += Interleaved(static_cast<uint8_t>(c), Rtp(101, 5000, true, kIdr));
    media += Interleaved(static_cast<uint8_t>(c), Bytes{0x80, 200, 0, 6, 0, 0, 0, 7, 1, 2, 3, 4,
                                                        5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 0, 1,
                                                        0, 0, 0, 2});
  }
  return media;
}

}  // namespace

TEST_CASE("hostile camera: SETUP answered with interleaved=255 (RTCP channel 256) is refused") {
  CameraScript script;
  script.setup_headers = "Transport: RTP/AVP/TCP;unicast;interleaved=255\r\nSession: 1\r\n";
  script.media = FramesOnEveryChannel();
  FakeCamera camera(script);
  auto opened = RtspTcpSource::Open(camera.Url(), "admin", "pw", BasicAllowed(1'000'000), nullptr);
  INFO(opened.status().ToString());
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.status().kind() == ErrorKind::kDataLoss);
  CHECK(opened.status().message().find("interleaved") != std::string::npos);
  CHECK(camera.Count("PLAY") == 0);
}

TEST_CASE("hostile camera: SETUP answers outside 0-255 or giving two tracks one channel are "
          "refused") {
  const char* transports[] = {"interleaved=254-256", "interleaved=-1-0", "interleaved=300-301",
                              "interleaved=99999999999999999999-1", "interleaved=x"};
  for (const char* t : transports) {
    CameraScript script;
    script.setup_headers =
        std::string("Transport: RTP/AVP/TCP;unicast;") + t + "\r\nSession: 1\r\n";
    script.media = FramesOnEveryChannel();
    FakeCamera camera(script);
    auto opened = RtspTcpSource::Open(camera.Url(), "admin", "pw", BasicAllowed(1'000'000), nullptr);
    INFO(t << ": " << opened.status().ToString());
    CHECK(opened.status().kind() == ErrorKind::kDataLoss);
  }
  // Two tracks, and the camera answers 0-1 to both SETUPs.
  CameraScript script;
  script.sdp = SdpWithTracks(2);
  script.setup_headers = "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: 1\r\n";
  FakeCamera camera(script);
  auto opened = RtspTcpSource::Open(camera.Url(), "admin", "pw", BasicAllowed(1'000'000), nullptr);
  INFO(opened.status().ToString());
  CHECK(opened.status().kind() == ErrorKind::kDataLoss);
  CHECK(opened.status().message().find("interleaved") != std::string::npos);
}

TEST_CASE("hostile camera: an SDP of 200 tracks sets up only kMaxTracks of them") {
  CameraScript script;
  script.sdp = SdpWithTracks(200);
  script.setup_headers = "Session: 1\r\n";  // no Transport: channels 2n, 2n+1 as asked
  script.media = FramesOnEveryChannel();
  FakeCamera camera(script);
  auto opened = RtspTcpSource::Open(camera.Url(), "admin", "pw", BasicAllowed(1'000'000), nullptr);
  INFO(opened.status().ToString());
  REQUIRE(opened.ok());
  RtspTcpSource& source = **opened;
  CHECK(source.stream_count() == kMaxTracks);
  CHECK(camera.Count("SETUP") == kMaxTracks);
  bool noted = false;
  for (const std::string& s : source.skipped_tracks())
    noted = noted || s.find("192 more") != std::string::npos;
  CHECK(noted);
  // The frames on the channels of the tracks set up are read, the rest ignored.
  Packet pkt = MakePacket();
  int stream = -1;
  std::set<int> streams;
  while (source.ReadPacket(pkt.get(), &stream, 300'000).ok()) streams.insert(stream);
  CHECK(streams.size() == static_cast<size_t>(kMaxTracks));
  CHECK(*streams.rbegin() == kMaxTracks - 1);
}

TEST_CASE("hostile camera: a flood of tiny frames before any keyframe stays within the queue's "
          "bounds") {
  // 20000 one-packet P-frames, no parameter sets in the SDP nor in any frame: Open waits
  // for a keyframe until the connect timeout, queueing what it reads.
  std::string media;
  for (int i = 0; i < 20000; ++i) {
    media += Interleaved(
        4, Rtp(static_cast<uint16_t>(100 + i), static_cast<uint32_t>(5000 + 3600 * i), true,
               kSlice));
  }
  CameraScript script;
  script.media = media;
  FakeCamera camera(script);
  RtspSourceOptions options;
  options.allow_basic_auth = true;  // the fake camera asks for Basic
  options.connect_timeout_us = 1'500'000;
  auto opened = RtspTcpSource::Open(camera.Url(), "admin", "pw", options, nullptr);
  INFO(opened.status().ToString());
  REQUIRE(opened.ok());
  RtspTcpSource& source = **opened;
  const RtspCounters c = source.counters();
  CHECK(c.rtp_packets == 20000);
  CHECK(c.queue_peak_packets > 0);
  CHECK(c.queue_peak_packets <= static_cast<int64_t>(options.max_queued_packets));
  CHECK(c.queue_peak_bytes <= static_cast<int64_t>(options.max_queued_bytes));
  // Everything still queued comes out at once; the rest was dropped and counted.
  Packet pkt = MakePacket();
  int stream = -1;
  int64_t queued = 0;
  while (source.ReadPacket(pkt.get(), &stream, 50'000).ok()) ++queued;
  CHECK(queued > 0);
  CHECK(queued <= static_cast<int64_t>(options.max_queued_packets));
  CHECK(source.counters().queue_overflow_drops == 20000 - queued);
}

TEST_CASE("hostile camera: a huge Session timeout= is clamped, not overflowed") {
  struct Case {
    const char* timeout;
    int64_t expected_us;
  };
  const Case cases[] = {
      {"99999999999999999999", kMaxSessionTimeoutSeconds * kMicrosPerSecond},
      {"9223372036854775807", kMaxSessionTimeoutSeconds * kMicrosPerSecond},
      {"9223372036854", kMaxSessionTimeoutSeconds * kMicrosPerSecond},  // * 10^6 overflows
      {"86400", kMaxSessionTimeoutSeconds * kMicrosPerSecond},
      {"-5", 60 * kMicrosPerSecond},  // ignored: the default
      {"0", 60 * kMicrosPerSecond},
      {"junk", 60 * kMicrosPerSecond},
      {"30", 30 * kMicrosPerSecond},
  };
  for (const Case& k : cases) {
    CameraScript script;
    script.setup_headers = std::string("Transport: RTP/AVP/TCP;unicast;interleaved=4-5\r\n") +
                           "Session: 12345;timeout=" + k.timeout + "\r\n";
    script.media = StandardMedia();
    FakeCamera camera(script);
    auto opened = RtspTcpSource::Open(camera.Url(), "admin", "pw", BasicAllowed(1'000'000), nullptr);
    INFO("timeout=" << k.timeout << ": " << opened.status().ToString());
    REQUIRE(opened.ok());
    CHECK((*opened)->session_timeout_us() == k.expected_us);
  }
}

TEST_CASE("hostile camera: frames sent instead of an answer do not hold Open past its timeout") {
  CameraScript script;
  script.flood_on_describe_ms = 4000;
  FakeCamera camera(script);
  const auto start = SteadyClock::now();
  auto opened = RtspTcpSource::Open(camera.Url(), "admin", "pw", BasicAllowed(500'000), nullptr);
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  INFO(opened.status().ToString());
  CHECK(opened.status().kind() == ErrorKind::kUnavailable);
  CHECK(opened.status().message().find("no answer") != std::string::npos);
  CHECK(seconds < 1.5);
}
