// The activity index as the real recorder writes it, from real RTSP streams of the camera
// simulator: a moving picture gives activity where it moves, a still one gives none.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "activity/activity_file.h"
#include "activity/scoring.h"
#include "base/filesystem.h"
#include "tests/recorder/recorder_harness.h"
#include "tests/sim/sim_process.h"

using namespace custodian;
using namespace custodian::testing;

namespace {

struct CameraActivity {
  int segments = 0;
  int indexes = 0;
  int64_t seconds = 0;
  int64_t active_seconds = 0;
  int64_t spans = 0;
};

CameraActivity ReadIndexes(records::Database& db, const std::string& data_dir,
                           const std::string& camera) {
  PosixFilesystem fs;
  CameraActivity out;
  for (const records::SegmentRow& s : CompleteSegments(db, camera)) {
    ++out.segments;
    auto index =
        activity::ReadActivityFile(fs, JoinPath(data_dir, activity::ActivityPathFor(s.path)));
    REQUIRE(index.ok());
    ++out.indexes;
    // One score per second of the segment, rounded up.
    REQUIRE(static_cast<int64_t>(index->scores.size()) == (s.duration_us + 999'999) / 1'000'000);
    out.seconds += static_cast<int64_t>(index->scores.size());
    for (uint8_t score : index->scores) out.active_seconds += score >= activity::kActiveScore;
    out.spans += static_cast<int64_t>(index->grids.size());
  }
  return out;
}

}  // namespace

TEST_CASE("a moving picture gets activity in its index and a still one gets none") {
  auto sim = sim::SimulatorProcess::Start(
      {"moving:width=320,height=240,gop=25,clip=8,input=pattern",
       "still:codec=h265,width=320,height=240,gop=25,clip=8,input=still"});
  REQUIRE(sim.ok());
  TestSite site({{"moving", (*sim)->Url("moving")}, {"still", (*sim)->Url("still")}},
                /*segment_seconds=*/10);
  RecorderProcess recorder(site);
  auto db = site.OpenRecords();
  REQUIRE(WaitFor(
      [&] {
        return CompleteSegments(*db, "moving").size() >= 2 &&
               CompleteSegments(*db, "still").size() >= 2;
      },
      60'000));
  REQUIRE(recorder.Stop() == 0);

  const CameraActivity moving = ReadIndexes(*db, site.data_dir(), "moving");
  const CameraActivity still = ReadIndexes(*db, site.data_dir(), "still");
  INFO("moving: " << moving.active_seconds << " of " << moving.seconds << " s active, "
                  << moving.spans << " spans; still: " << still.active_seconds << " of "
                  << still.seconds << " s active, " << still.spans << " spans");
  REQUIRE(moving.indexes == moving.segments);
  REQUIRE(still.indexes == still.segments);
  REQUIRE(moving.spans >= 3);  // a keyframe sampled every 4 s over 20 s and more
  REQUIRE(moving.active_seconds * 2 >= moving.seconds);
  REQUIRE(still.spans == 0);
  REQUIRE(still.active_seconds == 0);

  // Indexes are not footage of their own: check finds records and disk in agreement.
  std::string out;
  REQUIRE(RunCustodian({"--config", site.config(), "check", "--hashes"}, &out) == 0);
}

// A recorder killed mid-segment leaves the segment for recovery with no index (the indexer's
// state was in its memory); recovery at the next start builds the index from the footage, so
// no recorded second is left without activity.
TEST_CASE("a segment cut by a killed recorder gets its activity index at recovery") {
  auto sim =
      sim::SimulatorProcess::Start({"moving:width=320,height=240,gop=25,clip=8,input=pattern"});
  REQUIRE(sim.ok());
  TestSite site({{"moving", (*sim)->Url("moving")}}, /*segment_seconds=*/60);
  auto db = site.OpenRecords();
  auto open_segment = [&]() -> std::optional<records::SegmentRow> {
    auto open = db->ListSegmentsInState(records::SegmentState::kRecording);
    REQUIRE(open.ok());
    if (open->empty()) return std::nullopt;
    return open->front();
  };
  UtcMicros killed;
  {
    RecorderProcess recorder(site);
    REQUIRE(WaitFor([&] { return open_segment().has_value(); }, 30'000));
    const UtcMicros began = open_segment()->start;
    REQUIRE(WaitFor([&] { return WallNow() - began >= 13 * kMicrosPerSecond; }, 30'000));
    killed = WallNow();
    recorder.Kill();
  }
  const auto cut = open_segment();
  REQUIRE(cut.has_value());  // the kill left the segment open, without its index
  const std::string index_path = JoinPath(site.data_dir(), activity::ActivityPathFor(cut->path));
  PosixFilesystem fs;
  REQUIRE_FALSE(fs.Exists(index_path));

  {
    RecorderProcess recorder(site);  // recovers before it records
    REQUIRE(WaitFor(
        [&] {
          const auto next = open_segment();
          return next.has_value() && next->start > killed;
        },
        30'000));
    REQUIRE(recorder.Stop() == 0);
  }
  auto recovered = db->GetSegment(cut->id);
  REQUIRE(recovered.ok());
  REQUIRE(recovered->has_value());
  REQUIRE((*recovered)->state == records::SegmentState::kComplete);
  auto index = activity::ReadActivityFile(fs, index_path);
  INFO((index.ok() ? "" : index.status().ToString()));
  REQUIRE(index.ok());
  REQUIRE(static_cast<int64_t>(index->scores.size()) ==
          ((*recovered)->duration_us + 999'999) / 1'000'000);
  REQUIRE(index->scores.size() >= 10);
  int active = 0;
  for (uint8_t score : index->scores) active += score >= activity::kActiveScore;
  INFO(active << " of " << index->scores.size() << " s active, " << index->grids.size()
              << " spans");
  REQUIRE(index->grids.size() >= 2);  // keyframes sampled every 4 s over 12 s and more
  REQUIRE(active * 2 >= static_cast<int>(index->scores.size()));

  // Every complete segment now has its index, and check finds records and disk in agreement.
  const CameraActivity all = ReadIndexes(*db, site.data_dir(), "moving");
  REQUIRE(all.indexes == all.segments);
  std::string out;
  REQUIRE(RunCustodian({"--config", site.config(), "check", "--hashes"}, &out) == 0);
}
