// The activity index as the real recorder writes it, from real RTSP streams of the camera
// simulator: a moving picture gives activity where it moves, a still one gives none.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <iterator>
#include <regex>
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

// The activity pictures the recorder says a stream's indexer decoded and took from its sub
// stream, from its log line when it stopped.
struct PictureCounts {
  bool found = false;
  int64_t decoded = 0;
  int64_t from_sub_stream = 0;
};

PictureCounts StoppedPictureCounts(const TestSite& site, const std::string& stream_id) {
  std::ifstream in(site.log());
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::regex line(
      "camera " + stream_id +
      R"( stopped: .*activity pictures: (\d+) decoded, (\d+) from the sub stream)");
  PictureCounts out;
  std::smatch m;
  if (std::regex_search(log, m, line)) {
    out.found = true;
    out.decoded = std::stoll(m[1]);
    out.from_sub_stream = std::stoll(m[2]);
  }
  return out;
}

// A camera's main and sub stream, recorded until each has `segments` complete segments.
void RecordBoth(const TestSite& site, records::Database& db, const std::string& camera,
                size_t segments) {
  RecorderProcess recorder(site);
  REQUIRE(WaitFor(
      [&] {
        return CompleteSegments(db, camera).size() >= segments &&
               CompleteSegments(db, camera + "--sub").size() >= segments;
      },
      120'000));
  REQUIRE(recorder.Stop() == 0);
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

// The main stream's activity samples come from its sub stream's keyframe pictures (the
// sub stream hand-off): its own keyframes are decoded only until the sub stream's first
// picture, and its index has its grid spans all the same.
TEST_CASE("a camera's main stream takes its activity pictures from its sub stream") {
  auto sim =
      sim::SimulatorProcess::Start({"door:width=640,height=360,gop=25,clip=8,input=pattern",
                                    "door-sub:width=320,height=180,gop=25,clip=8,input=pattern"});
  REQUIRE(sim.ok());
  TestCamera door("door", (*sim)->Url("door"));
  door.sub_url = (*sim)->Url("door-sub");
  TestSite site({door}, /*segment_seconds=*/10);
  auto db = site.OpenRecords();
  RecordBoth(site, *db, "door", 3);

  const PictureCounts main = StoppedPictureCounts(site, "door");
  const PictureCounts sub = StoppedPictureCounts(site, "door--sub");
  const CameraActivity activity = ReadIndexes(*db, site.data_dir(), "door");
  INFO("main stream: " << main.decoded << " decoded, " << main.from_sub_stream
                       << " from the sub stream; sub stream: " << sub.decoded << " decoded; "
                       << activity.spans << " spans, " << activity.active_seconds << " of "
                       << activity.seconds << " s active");
  REQUIRE(main.found);
  REQUIRE(sub.found);
  // Over 30 s and more, a sample every 4 s: nearly all from the sub stream, which decoded
  // them for its own index.
  CHECK(main.from_sub_stream >= 5);
  CHECK(main.decoded < main.from_sub_stream);
  CHECK(sub.from_sub_stream == 0);
  CHECK(sub.decoded >= main.from_sub_stream);
  CHECK(activity.indexes == activity.segments);
  CHECK(activity.spans >= 4);
  CHECK(activity.active_seconds * 2 >= activity.seconds);
}

TEST_CASE("a camera's main stream decodes its own activity pictures while its sub stream is down") {
  auto sim =
      sim::SimulatorProcess::Start({"door:width=640,height=360,gop=25,clip=8,input=pattern"});
  REQUIRE(sim.ok());
  TestCamera door("door", (*sim)->Url("door"));
  door.sub_url = (*sim)->Url("door-sub");  // not served: the sub stream never connects
  TestSite site({door}, /*segment_seconds=*/10);
  auto db = site.OpenRecords();
  {
    RecorderProcess recorder(site);
    REQUIRE(WaitFor([&] { return CompleteSegments(*db, "door").size() >= 3; }, 120'000));
    REQUIRE(recorder.Stop() == 0);
  }
  CHECK(CompleteSegments(*db, "door--sub").empty());

  const PictureCounts main = StoppedPictureCounts(site, "door");
  const CameraActivity activity = ReadIndexes(*db, site.data_dir(), "door");
  INFO("main stream: " << main.decoded << " decoded, " << main.from_sub_stream
                       << " from the sub stream; " << activity.spans << " spans");
  REQUIRE(main.found);
  CHECK(main.from_sub_stream == 0);
  CHECK(main.decoded >= 5);  // a keyframe every 4 s over 30 s and more
  CHECK(activity.indexes == activity.segments);
  CHECK(activity.spans >= 4);
}
