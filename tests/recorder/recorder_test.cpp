// The recorder records real RTSP streams from the camera simulator.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include "tests/recorder/recorder_harness.h"
#include "tests/sim/sim_process.h"

using namespace custodian;
using namespace custodian::testing;

namespace {

void SleepSeconds(double s) {
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(s * 1000)));
}

}  // namespace

TEST_CASE("two cameras recorded for 30 s play, add up to the wall time and match their rows") {
  auto sim = sim::SimulatorProcess::Start(
      {"lobby:codec=h264,width=640,height=360,gop=25,clip=8",
       "yard:codec=h265,width=640,height=360,gop=50,clip=8,audio=aac"});
  REQUIRE(sim.ok());
  TestSite site({{"lobby", (*sim)->Url("lobby")}, {"yard", (*sim)->Url("yard")}},
                /*segment_seconds=*/10);
  RecorderProcess recorder(site);
  auto db = site.OpenRecords();
  REQUIRE(WaitFor([&] { return CompleteSegments(*db, "lobby").size() >= 1 &&
                               CompleteSegments(*db, "yard").size() >= 1; }, 30'000));
  SleepSeconds(20);
  const UtcMicros stopped = WallNow();
  REQUIRE(recorder.Stop() == 0);

  RequireSegmentsPlayAndMatch(*db, site.data_dir());
  std::string out;
  REQUIRE(RunCustodian({"--config", site.config(), "check", "--hashes"}, &out) == 0);

  for (const char* cam : {"lobby", "yard"}) {
    INFO("camera " << cam);
    auto segs = CompleteSegments(*db, cam);
    REQUIRE(segs.size() >= 3);
    int64_t total = 0;
    for (size_t i = 0; i < segs.size(); ++i) {
      total += segs[i].duration_us;
      REQUIRE(segs[i].end.has_value());
      REQUIRE(*segs[i].end - segs[i].start == segs[i].duration_us);
      if (i > 0) REQUIRE(std::llabs(segs[i].start - *segs[i - 1].end) <= 50'000);  // they abut
      if (i + 1 < segs.size()) REQUIRE(segs[i].duration_us >= 10'000'000);       // cut after 10 s
      REQUIRE(segs[i].duration_us <= 12'100'000);                                // at the next keyframe
    }
    // The footage covers the time from the first segment's start to the stop.
    REQUIRE(std::llabs(total - (stopped - segs.front().start)) <= 1'000'000);
  }
  auto yard = CompleteSegments(*db, "yard");
  REQUIRE(yard.front().video_codec == "hevc");
  REQUIRE(yard.front().audio_codec.value_or("") == "aac");
  REQUIRE(CompleteSegments(*db, "lobby").front().video_codec == "h264");

  // A clean stop leaves no gap and ends the run.
  auto gaps = db->ListGaps("lobby", UtcMicros{0}, WallNow());
  REQUIRE(gaps.ok());
  REQUIRE(gaps->empty());
  auto run = db->LastRun("lobby");
  REQUIRE(run.ok());
  REQUIRE(run->has_value());
  REQUIRE((*run)->end.has_value());
}

TEST_CASE("digest authentication: the right password records, a wrong one is refused quietly") {
  auto sim = sim::SimulatorProcess::Start(
      {"door:width=320,height=240,gop=25,clip=4,user=viewer,password=s3cret-pw"});
  REQUIRE(sim.ok());
  TestCamera good{"door-good", (*sim)->Url("door"), "tcp", "viewer", "s3cret-pw"};
  TestCamera bad{"door-bad", (*sim)->Url("door"), "tcp", "viewer", "wrong-pw"};
  TestSite site({good, bad}, 60);
  RecorderProcess recorder(site);
  auto db = site.OpenRecords();
  REQUIRE(WaitFor([&] {
    auto st = db->ListCameraStatus();
    if (!st.ok()) return false;
    bool good_online = false, bad_refused = false;
    for (const auto& s : *st) {
      if (s.camera_id == "door-good") good_online = s.online;
      if (s.camera_id == "door-bad")
        bad_refused = !s.online && s.last_error.value_or("").find("authentication") != std::string::npos;
    }
    return good_online && bad_refused;
  }, 20'000));
  SleepSeconds(6);
  REQUIRE(recorder.Stop() == 0);
  REQUIRE(CompleteSegments(*db, "door-good").size() == 1);
  REQUIRE(CompleteSegments(*db, "door-bad").empty());

  // Several failed attempts, one log line: no flood, and never the password.
  std::ifstream log(site.log());
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  size_t lines = 0;
  for (size_t pos = 0; (pos = text.find("camera door-bad offline", pos)) != std::string::npos; ++pos) ++lines;
  REQUIRE(lines == 1);
  REQUIRE(text.find("wrong-pw") == std::string::npos);
  REQUIRE(text.find("s3cret-pw") == std::string::npos);
}

TEST_CASE("UDP transport records a stream too") {
  auto sim = sim::SimulatorProcess::Start({"yard:width=320,height=240,gop=25,clip=4"});
  REQUIRE(sim.ok());
  TestSite site({{"yard", (*sim)->Url("yard"), "udp"}}, 4);
  RecorderProcess recorder(site);
  auto db = site.OpenRecords();
  REQUIRE(WaitFor([&] { return CompleteSegments(*db, "yard").size() >= 2; }, 30'000));
  REQUIRE(recorder.Stop() == 0);
  RequireSegmentsPlayAndMatch(*db, site.data_dir());
}

TEST_CASE("SIGHUP adds and removes cameras without interrupting the others") {
  auto sim = sim::SimulatorProcess::Start({"a:width=320,height=240,gop=25,clip=4",
                                           "b:width=320,height=240,gop=25,clip=4"});
  REQUIRE(sim.ok());
  TestCamera a("cam-a", (*sim)->Url("a")), b("cam-b", (*sim)->Url("b"));
  TestSite site({a}, 60);
  RecorderProcess recorder(site);
  auto db = site.OpenRecords();
  auto open_segment = [&](const std::string& cam) {
    auto open = db->ListSegmentsInState(records::SegmentState::kRecording);
    if (open.ok())
      for (const auto& s : *open)
        if (s.camera_id == cam) return std::optional<records::SegmentRow>(s);
    return std::optional<records::SegmentRow>();
  };
  REQUIRE(WaitFor([&] { return open_segment("cam-a").has_value(); }, 30'000));
  const int64_t a_segment = open_segment("cam-a")->id;

  site.WriteConfig({a, b});
  recorder.Signal(SIGHUP);
  REQUIRE(WaitFor([&] { return open_segment("cam-b").has_value(); }, 20'000));
  // cam-a kept its segment open through the reload: not restarted.
  REQUIRE(open_segment("cam-a")->id == a_segment);

  site.WriteConfig({b});
  recorder.Signal(SIGHUP);
  REQUIRE(WaitFor([&] { return !open_segment("cam-a").has_value(); }, 20'000));
  auto a_done = db->GetSegment(a_segment);
  REQUIRE(a_done.ok());
  REQUIRE((*a_done)->state == records::SegmentState::kComplete);
  REQUIRE(open_segment("cam-b").has_value());

  // A broken site file is refused and the running config kept.
  { std::ofstream(site.config()) << "site: { name: 1 }\nunknown_key: true\n"; }
  recorder.Signal(SIGHUP);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  REQUIRE(open_segment("cam-b").has_value());
  REQUIRE(recorder.Stop() == 0);
  REQUIRE(db->ListGaps("cam-a", UtcMicros{0}, WallNow())->empty());
  RequireSegmentsPlayAndMatch(*db, site.data_dir());
}
