// CameraRecorder on local media files (libavformat opens them like a camera), for inputs
// the simulator does not produce: a picture size change inside one stream, and G.711 audio.
#include "recorder/camera_recorder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "activity/activity_file.h"
#include "activity/day_digest.h"
#include "media/probe.h"
#include "recorder/camera_source.h"

using namespace custodian;
using namespace custodian::recorder;

namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/custodian-camrec-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return tmpl;
}

void Run(const std::string& cmd) {
  INFO(cmd);
  REQUIRE(std::system(cmd.c_str()) == 0);
}

// Records `url` until the first run has finished (the file's end) and returns its segments.
std::vector<records::SegmentRow> RecordFile(const std::string& dir, const std::string& url) {
  auto db = records::Database::Open(dir + "/records.db", SystemClock::Instance());
  REQUIRE(db.ok());
  REQUIRE((*db)->UpsertCamera({"cam", "cam", {}}).ok());
  CameraSettings settings;
  settings.id = "cam";
  settings.url = url;
  settings.backoff_min_us = 5 * kMicrosPerSecond;  // one pass over the file is enough
  CameraRecorder rec(settings, **db, PosixFilesystem::Instance(), SystemClock::Instance(), dir);
  rec.Start();
  for (int i = 0; i < 100 && !(*db)->LastRun("cam")->value_or(records::RunRow{}).end; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  rec.Stop();
  // Only the first run: the recorder may have begun a second pass over the file.
  auto all = (*db)->ListAllSegments();
  REQUIRE(all.ok());
  std::vector<records::SegmentRow> out;
  for (const auto& s : *all)
    if (!out.empty() ? s.run_id == out.front().run_id : true) out.push_back(s);
  return out;
}

}  // namespace

TEST_CASE("a picture size change inside one stream starts a new segment with the new size") {
  std::string dir = TempDir();
  const char* enc = "-c:v libx264 -preset ultrafast -g 25 -bf 0 -pix_fmt yuv420p -f mpegts";
  Run("ffmpeg -loglevel error -y -f lavfi -i testsrc=size=320x240:rate=25 -t 3 " + std::string(enc) + " " + dir + "/a.ts");
  Run("ffmpeg -loglevel error -y -f lavfi -i testsrc=size=640x480:rate=25 -t 3 " + std::string(enc) +
      " -output_ts_offset 3 " + dir + "/b.ts");
  Run("cat " + dir + "/a.ts " + dir + "/b.ts > " + dir + "/change.ts");

  auto segs = RecordFile(dir, dir + "/change.ts");
  REQUIRE(segs.size() >= 2);
  REQUIRE(segs[0].width == 320);
  REQUIRE(segs[0].height == 240);
  REQUIRE(segs[1].width == 640);
  REQUIRE(segs[1].height == 480);
  REQUIRE(segs[0].duration_us == 3'000'000);
  REQUIRE(*segs[0].end == segs[1].start);  // one run, no gap between them
  REQUIRE(segs[0].run_id == segs[1].run_id);
  for (int i = 0; i < 2; ++i) {
    auto probe = media::ProbeFile(dir + "/" + segs[i].path, /*decode=*/true);
    REQUIRE(probe.ok());
    REQUIRE(probe->width == segs[i].width);
    REQUIRE(probe->video_frames == 75);
    REQUIRE(probe->decode_errors == 0);
  }
}

TEST_CASE("G.711 audio that MP4 cannot hold is noted on the segment, not silently dropped") {
  std::string dir = TempDir();
  Run("ffmpeg -loglevel error -y -f lavfi -i testsrc=size=320x240:rate=25 -f lavfi -i sine=sample_rate=8000 "
      "-t 3 -c:v libx264 -preset ultrafast -g 25 -pix_fmt yuv420p -c:a pcm_mulaw " + dir + "/g711.mov");
  auto segs = RecordFile(dir, dir + "/g711.mov");
  REQUIRE(!segs.empty());
  REQUIRE_FALSE(segs[0].audio_codec.has_value());
  REQUIRE(segs[0].audio_note.value_or("").find("pcm_mulaw") != std::string::npos);
  auto probe = media::ProbeFile(dir + "/" + segs[0].path);
  REQUIRE(probe.ok());
  REQUIRE(probe->audio_codec.empty());
  REQUIRE(probe->video_frames == 75);
}

TEST_CASE("B-frames whose clock steps back are recorded whole in one segment with an alarm") {
  std::string dir = TempDir();
  // Two B-frames with pyramid; the second part's timestamps start two seconds before the
  // first part's end, as a camera whose clock is stepped back sends them.
  const std::string make =
      "ffmpeg -loglevel error -y -f lavfi -i testsrc=size=320x240:rate=25 -t 3 "
      "-c:v libx264 -preset ultrafast -g 25 -bf 2 -b_strategy 0 -pix_fmt yuv420p -f mpegts ";
  Run(make + dir + "/a.ts");
  Run(make + "-output_ts_offset 1 " + dir + "/b.ts");
  Run("cat " + dir + "/a.ts " + dir + "/b.ts > " + dir + "/stepped.ts");

  auto segs = RecordFile(dir, dir + "/stepped.ts");
  REQUIRE(segs.size() == 1);
  REQUIRE(std::llabs(segs[0].duration_us - 6'000'000) <= 40'000);
  auto probe = media::ProbeFile(dir + "/" + segs[0].path, /*decode=*/true);
  REQUIRE(probe.ok());
  REQUIRE(probe->decode_errors == 0);
  REQUIRE(probe->video_frames == 150);
  const std::vector<int64_t>& t = probe->frame_times_us;
  REQUIRE(t.size() == 150);
  for (size_t i = 1; i < t.size(); ++i) {
    INFO("decoded picture " << i << " at " << t[i] << " us, the one before at " << t[i - 1]);
    REQUIRE(t[i] - t[i - 1] == 40'000);
  }

  auto db = records::Database::Open(dir + "/records.db", SystemClock::Instance());
  REQUIRE(db.ok());
  auto alarms = (*db)->ListActiveAlarms();
  REQUIRE(alarms.ok());
  bool noted = false;
  for (const auto& a : *alarms) {
    noted = noted ||
            (a.kind == "camera_timing:cam" && a.detail.find("stepped back") != std::string::npos);
  }
  REQUIRE(noted);
}

namespace {

// A listening socket on loopback standing in for whoever answers at a camera's address.
struct Listener {
  int fd = -1;
  int port = 0;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 4) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd); }
  // The next connection within timeout_ms, or -1.
  int Accept(int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return -1;
    return ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
  }
};

// One RTSP request (up to the blank line) from c, within 5 s.
std::string ReadRequest(int c) {
  std::string in;
  char buf[2048];
  while (in.find("\r\n\r\n") == std::string::npos) {
    pollfd p{c, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) break;
    ssize_t n = ::read(c, buf, sizeof buf);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  return in;
}

std::string CSeqOf(const std::string& request) {
  auto at = request.find("CSeq: ");
  if (at == std::string::npos) return "1";
  return request.substr(at + 6, request.find("\r\n", at) - at - 6);
}

}  // namespace

TEST_CASE("hostile camera network: over UDP (libavformat) a camera's password is not sent where Basic could take it") {
  Listener camera;
  SourceRequest r;
  r.url = "rtsp://127.0.0.1:" + std::to_string(camera.port) + "/stream";
  r.username = "admin";
  r.password = "s3cret-camera-password";
  r.tcp = false;
  r.connect_timeout_us = 3 * kMicrosPerSecond;
  SourceEnd end = SourceEnd::kNone;
  auto refused = OpenCameraSource(r, &end);
  REQUIRE_FALSE(refused.ok());
  CHECK(end == SourceEnd::kBasicRefused);
  CHECK(refused.status().message().find("allow_basic_auth") != std::string::npos);
  CHECK(refused.status().message().find(r.password) == std::string::npos);
  CHECK(camera.Accept(0) < 0);  // nothing was even connected

  // Why: with the opt-in, libavformat answers a Basic challenge with the password.
  r.allow_basic_auth = true;
  std::string answered;
  std::thread fake([&] {
    for (int conn = 0; conn < 3 && answered.empty(); ++conn) {
      int c = camera.Accept(5000);
      if (c < 0) return;
      for (int i = 0; i < 4; ++i) {
        std::string req = ReadRequest(c);
        if (req.empty()) break;
        if (req.find("Authorization: Basic") != std::string::npos) {
          answered = req;
          break;
        }
        std::string reply = "RTSP/1.0 401 Unauthorized\r\nCSeq: " + CSeqOf(req) +
                            "\r\nWWW-Authenticate: Basic realm=\"camera\"\r\n\r\n";
        if (::write(c, reply.data(), reply.size()) < 0) break;
      }
      ::close(c);
    }
  });
  auto opened = OpenCameraSource(r, &end);
  fake.join();
  CHECK_FALSE(opened.ok());
  CHECK(answered.find("Authorization: Basic") != std::string::npos);
}

namespace {

// The system's clocks with the wall clock set, at construction, to a chosen instant: the
// recorder's segments then start where a test needs them (just before midnight).
class ShiftedClock final : public Clock {
 public:
  explicit ShiftedClock(UtcMicros now) : offset_(now.us - SystemClock::Instance().Now().us) {}
  UtcMicros Now() const override { return {SystemClock::Instance().Now().us + offset_}; }
  MonoMicros Monotonic() const override { return SystemClock::Instance().Monotonic(); }
  bool Synchronized() const override { return true; }
  void SleepFor(int64_t d_us) const override { SystemClock::Instance().SleepFor(d_us); }

 private:
  const int64_t offset_;
};

// Each segment's index is moved aside, so that only the day's digest can answer.
void RequireDigestHoldsAll(Filesystem& fs, const std::vector<std::string>& segment_paths) {
  for (const std::string& p : segment_paths) {
    REQUIRE(fs.Rename(activity::ActivityPathFor(p), activity::ActivityPathFor(p) + ".aside").ok());
  }
  for (const auto& index : activity::ReadDayIndexes(fs, segment_paths)) {
    INFO((index.ok() ? "" : index.status().ToString()));
    REQUIRE(index.ok());
  }
}

}  // namespace

TEST_CASE(
    "a camera-day's activity digest is written when the day closes and when the recorder stops") {
  const std::string dir = TempDir();
  Run("ffmpeg -loglevel error -y -f lavfi -i testsrc=size=320x240:rate=25 -t 9 -c:v libx264 "
      "-preset ultrafast -g 25 -bf 0 -pix_fmt yuv420p -f mpegts " +
      dir + "/day.ts");
  auto db = records::Database::Open(dir + "/records.db", SystemClock::Instance());
  REQUIRE(db.ok());
  REQUIRE((*db)->UpsertCamera({"cam", "cam", {}}).ok());
  CameraSettings settings;
  settings.id = "cam";
  settings.url = dir + "/day.ts";
  settings.segment_us = 2 * kMicrosPerSecond;
  settings.backoff_min_us = 60 * kMicrosPerSecond;  // one pass over the file
  const UtcMicros midnight{int64_t{20'718} * kMicrosPerDay};
  ShiftedClock clock(midnight - 5 * kMicrosPerSecond);
  Filesystem& fs = PosixFilesystem::Instance();
  CameraRecorder rec(settings, **db, fs, clock, dir);
  rec.Start();
  for (int i = 0; i < 200 && !(*db)->LastRun("cam")->value_or(records::RunRow{}).end; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto all = (*db)->ListAllSegments();
  REQUIRE(all.ok());
  std::vector<std::string> before, after;  // segments in the day before midnight, and after
  for (const auto& s : *all) (s.start < midnight ? before : after).push_back(dir + "/" + s.path);
  REQUIRE(before.size() >= 2);
  REQUIRE(after.size() >= 2);
  REQUIRE(DirName(before.back()) != DirName(after.front()));

  // The first segment after midnight closed the day before; the day after is still open.
  CHECK(fs.Exists(activity::DayDigestPathFor(before.front())));
  CHECK_FALSE(fs.Exists(activity::DayDigestPathFor(after.front())));
  rec.Stop();
  REQUIRE(fs.Exists(activity::DayDigestPathFor(after.front())));
  RequireDigestHoldsAll(fs, before);
  RequireDigestHoldsAll(fs, after);
}
