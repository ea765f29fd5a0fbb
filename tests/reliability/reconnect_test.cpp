// Fault suite 2: the simulator drops and refuses the cameras 20 times. After each outage
// the recorder is back within 5 s of the camera returning, and the records hold exactly one
// camera_offline gap per outage, from the end of the footage before it to the start of the
// footage after it.
#include <catch2/catch.hpp>

#include <sstream>

#include "tests/reliability/reliability_util.h"
#include "tests/sim/sim_process.h"

using namespace custodian;
using namespace custodian::testing;

namespace {

// The first segment (open or complete) of `cam` that starts after `t`.
std::optional<records::SegmentRow> FirstAfter(records::Database& db, const std::string& cam, UtcMicros t) {
  std::optional<records::SegmentRow> best;
  auto consider = [&](const records::SegmentRow& s) {
    if (s.camera_id == cam && s.start > t && (!best || s.start < best->start)) best = s;
  };
  for (const auto& s : CompleteSegments(db, cam)) consider(s);
  auto open = db.ListSegmentsInState(records::SegmentState::kRecording);
  if (open.ok())
    for (const auto& s : *open) consider(s);
  return best;
}

}  // namespace

TEST_CASE("after 20 drops and refusals each camera is back within 5 s and every gap is exact") {
  const int rounds = Rounds(20);
  const std::vector<std::string> cams = {"lobby", "yard"};
  auto sim = sim::SimulatorProcess::Start({"lobby:width=320,height=240,gop=25,clip=4,bitrate=500",
                                           "yard:width=320,height=240,gop=25,clip=4,bitrate=500"});
  REQUIRE(sim.ok());
  std::vector<TestCamera> cameras = {{"lobby", (*sim)->Url("lobby")}, {"yard", (*sim)->Url("yard")}};
  TestSite site(cameras, 60);
  WriteReliabilitySite(site, cameras, /*segment_seconds=*/600);
  CustodianProcess recorder(site.config(), {"record"}, site.log());
  auto db = site.OpenRecords();
  for (const std::string& cam : cams)
    REQUIRE(WaitFor([&] { return FirstAfter(*db, cam, UtcMicros{0}).has_value(); }, 30'000));

  std::vector<double> reconnect_s;
  for (int r = 0; r < rounds; ++r) {
    SleepMs(1000);
    // Alternate: drop (the camera is back at once) and refuse for 1 to 3 s; one refusal of
    // 9 s lets the reconnect backoff reach its maximum, and the drop after it checks that
    // the backoff started over.
    const bool refuse = r % 2 == 1;
    const int refuse_s = r == 9 ? 9 : 1 + r % 3;
    const UtcMicros outage = WallNow();
    REQUIRE((*sim)->Command(refuse ? "refuse all " + std::to_string(refuse_s) : "drop all").ok());
    const UtcMicros back = outage + (refuse ? refuse_s * kMicrosPerSecond : 0);
    for (const std::string& cam : cams) {
      INFO("round " << r << " camera " << cam << (refuse ? " refuse" : " drop"));
      REQUIRE(WaitFor([&] { return FirstAfter(*db, cam, outage).has_value(); }, 20'000));
      auto resumed = FirstAfter(*db, cam, outage);
      double s = static_cast<double>(resumed->start - back) / kMicrosPerSecond;
      reconnect_s.push_back(std::max(s, 0.0));
      CHECK(s <= 5.0);
    }
  }
  SleepMs(1000);
  REQUIRE(recorder.Stop() == 0);

  std::ostringstream fig;
  fig << rounds << " outages x " << cams.size() << " cameras; reconnect after the camera returned max "
      << Max(reconnect_s) << " s median " << Median(reconnect_s) << " s";
  Figure("drop/refuse reconnect", fig.str());

  for (const std::string& cam : cams) {
    INFO("camera " << cam);
    auto segs = CompleteSegments(*db, cam);
    auto gaps = db->ListGaps(cam, UtcMicros{0}, WallNow() + 3600 * kMicrosPerSecond);
    REQUIRE(gaps.ok());
    REQUIRE(segs.size() == static_cast<size_t>(rounds) + 1);
    REQUIRE(gaps->size() == static_cast<size_t>(rounds));
    for (int i = 0; i < rounds; ++i) {
      INFO("gap " << i);
      CHECK((*gaps)[i].start == *segs[i].end);
      CHECK((*gaps)[i].end == segs[i + 1].start);
      CHECK((*gaps)[i].reason == records::GapReason::kCameraOffline);
    }
  }
  RequireSegmentsPlayAndMatch(*db, site.data_dir());
}
