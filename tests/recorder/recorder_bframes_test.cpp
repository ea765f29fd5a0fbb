// B-frame streams recorded from the camera simulator through both capture paths: the
// project's RTSP-over-TCP client and libavformat (RTSP over UDP).
//
// The RTP timestamp of a frame is its presentation time; with B-frames frames arrive in
// decode order, so timestamps go back and forth. The recorder must keep every frame, in one
// segment, with presentation times that play back evenly.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "media/probe.h"
#include "tests/recorder/recorder_harness.h"
#include "tests/sim/sim_process.h"

using namespace custodian;
using namespace custodian::testing;

namespace {

constexpr int64_t kFrameUs = 40'000;  // the simulator's 25 fps
// Pyramid B with two B-frames: a frame may arrive two places before its turn.
constexpr int64_t kReorderDepth = 2;

bool Recording(records::Database& db, const std::string& camera) {
  auto open = db.ListSegmentsInState(records::SegmentState::kRecording);
  if (!open.ok()) return false;
  for (const auto& s : *open)
    if (s.camera_id == camera) return true;
  return false;
}

// Decoded presentation times one frame apart, from 0, except within the last `tail`
// pictures.
void RequireEvenPictures(const media::FileProbe& probe, size_t tail) {
  const std::vector<int64_t>& t = probe.frame_times_us;
  REQUIRE(probe.decode_errors == 0);
  REQUIRE(static_cast<int64_t>(t.size()) == probe.video_frames);
  REQUIRE(!t.empty());
  REQUIRE(t.front() == 0);
  for (size_t i = 1; i < t.size(); ++i) {
    INFO("decoded picture " << i << " of " << t.size() << " at " << t[i]
                            << " us, the one before at " << t[i - 1]);
    REQUIRE(t[i] > t[i - 1]);
    if (i + tail < t.size()) REQUIRE(std::llabs(t[i] - t[i - 1] - kFrameUs) <= 1'000);
  }
}

// One segment (no cut at a timestamp that goes back), covering the time recorded, whose
// decoded pictures come out one frame apart, in order, and none missing.
void RequireWholeEvenRecording(records::Database& db, const TestSite& site,
                               const std::string& camera, UtcMicros stopped) {
  INFO("camera " << camera);
  auto segs = CompleteSegments(db, camera);
  REQUIRE(segs.size() == 1);
  const records::SegmentRow& seg = segs[0];
  REQUIRE(seg.duration_us >= 8'000'000);
  REQUIRE(std::llabs((stopped - seg.start) - seg.duration_us) <= 1'000'000);

  auto probe = media::ProbeFile(site.data_dir() + "/" + seg.path, /*decode=*/true);
  REQUIRE(probe.ok());
  // The recording stops between two frames in decode order: the last reference frame
  // written may be shown after B-frames that never arrived (at most the reorder depth).
  RequireEvenPictures(*probe, kReorderDepth);
  const std::vector<int64_t>& t = probe->frame_times_us;
  REQUIRE(t.size() >= 200);
  // Every frame sent while recording is there: one per frame interval of the segment, and
  // as many as the wall clock says were sent.
  const int64_t frames = static_cast<int64_t>(t.size());
  REQUIRE(std::llabs(frames * kFrameUs - seg.duration_us) <= (kReorderDepth + 1) * kFrameUs);
  REQUIRE(std::llabs(frames - (stopped - seg.start) / kFrameUs) <= 1'000'000 / kFrameUs);
}

}  // namespace

TEST_CASE("B-frame H.264 and H.265 are recorded whole and evenly timed over TCP and libavformat") {
  auto sim = sim::SimulatorProcess::Start(
      {"b264:codec=h264,width=320,height=240,gop=25,clip=4,bframes=2",
       "b265:codec=h265,width=320,height=240,gop=25,clip=4,bframes=2"});
  REQUIRE(sim.ok());
  const std::vector<TestCamera> cameras = {
      {"tcp-h264", (*sim)->Url("b264"), "tcp"},
      {"tcp-h265", (*sim)->Url("b265"), "tcp"},
      {"udp-h264", (*sim)->Url("b264"), "udp"},
      {"udp-h265", (*sim)->Url("b265"), "udp"},
  };
  TestSite site(cameras, /*segment_seconds=*/60);
  RecorderProcess recorder(site);
  auto db = site.OpenRecords();
  REQUIRE(WaitFor([&] {
    for (const TestCamera& c : cameras)
      if (!Recording(*db, c.id)) return false;
    return true;
  }, 30'000));
  std::this_thread::sleep_for(std::chrono::seconds(12));
  const UtcMicros stopped = WallNow();
  REQUIRE(recorder.Stop() == 0);

  RequireSegmentsPlayAndMatch(*db, site.data_dir());
  for (const TestCamera& c : cameras) RequireWholeEvenRecording(*db, site, c.id, stopped);
}

TEST_CASE("B-frame segments cut at keyframes abut and each plays evenly on its own") {
  auto sim = sim::SimulatorProcess::Start(
      {"b265:codec=h265,width=320,height=240,gop=25,clip=4,bframes=2"});
  REQUIRE(sim.ok());
  const std::vector<TestCamera> cameras = {{"tcp-h265", (*sim)->Url("b265"), "tcp"},
                                           {"udp-h265", (*sim)->Url("b265"), "udp"}};
  TestSite site(cameras, /*segment_seconds=*/3);
  RecorderProcess recorder(site);
  auto db = site.OpenRecords();
  REQUIRE(WaitFor([&] {
    return CompleteSegments(*db, "tcp-h265").size() >= 3 &&
           CompleteSegments(*db, "udp-h265").size() >= 3;
  }, 40'000));
  const UtcMicros stopped = WallNow();
  REQUIRE(recorder.Stop() == 0);

  RequireSegmentsPlayAndMatch(*db, site.data_dir());
  for (const TestCamera& c : cameras) {
    INFO("camera " << c.id);
    auto segs = CompleteSegments(*db, c.id);
    int64_t total = 0;
    for (size_t i = 0; i < segs.size(); ++i) {
      INFO("segment " << i << " of " << segs.size());
      total += segs[i].duration_us;
      if (i > 0) REQUIRE(segs[i].start == *segs[i - 1].end);  // they abut exactly
      if (i + 1 < segs.size()) REQUIRE(segs[i].duration_us >= 3'000'000);
      auto probe = media::ProbeFile(site.data_dir() + "/" + segs[i].path, /*decode=*/true);
      REQUIRE(probe.ok());
      // A cut at a keyframe of a closed GOP leaves every segment whole but the last.
      RequireEvenPictures(*probe, i + 1 < segs.size() ? 0 : kReorderDepth);
      if (i + 1 < segs.size()) {
        REQUIRE(static_cast<int64_t>(probe->frame_times_us.size()) * kFrameUs ==
                segs[i].duration_us);
      }
    }
    REQUIRE(std::llabs(total - (stopped - segs.front().start)) <= 1'000'000);
  }
}
