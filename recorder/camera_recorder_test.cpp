// CameraRecorder on local media files (libavformat opens them like a camera), for inputs
// the simulator does not produce: a picture size change inside one stream, and G.711 audio.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "media/probe.h"
#include "recorder/camera_recorder.h"

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
