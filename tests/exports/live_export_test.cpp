// Exports of footage that is still being recorded: a real camera (the RTSP simulator), the
// real recorder writing segments into real SQLite records, and the export job runner on the
// system clock, as `custodian serve` runs it.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "exports/export_jobs.h"
#include "exports/recording_wait.h"
#include "exports/testing.h"
#include "jobs/export_run.h"
#include "recorder/camera_recorder.h"
#include "tests/sim/sim_process.h"

using namespace custodian;
using namespace custodian::exports;
using namespace custodian::exports::testing;

namespace {

constexpr int64_t kSecond = kMicrosPerSecond;

// Waits (on the real clock) until pred() holds; false after timeout_s.
template <typename Pred>
bool WaitFor(Pred pred, int timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

std::optional<UtcMicros> FirstSegmentStart(records::Database& db, const std::string& camera) {
  auto segs = db.ListSegments(camera, UtcMicros{0}, UtcMicros{INT64_MAX / 2});
  if (!segs.ok() || segs->empty()) return std::nullopt;
  return segs->front().start;
}

// Presentation times (seconds from the file's start) of every video frame.
std::vector<double> FrameTimes(const std::string& path) {
  std::string ffprobe = CUSTODIAN_FFMPEG_CLI;
  ffprobe.replace(ffprobe.rfind("ffmpeg"), 6, "ffprobe");
  const std::string out = RunOutput(ffprobe + " -v error -select_streams v:0 -show_entries " +
                                    "packet=pts_time -of csv=p=0 '" + path + "'");
  std::vector<double> times;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) times.push_back(std::stod(line));
  }
  return times;
}

}  // namespace

TEST_CASE("an export of the last 30 s of a recording camera waits for it and has every frame") {
  // Also from a camera whose H.264 has B-frames (two, pyramid): frames arrive in decode
  // order and the export must keep every one, at its presentation time.
  const std::string bframes = GENERATE(as<std::string>{}, "", ",bframes=2");
  INFO("stream options: " << bframes);
  auto sim = sim::SimulatorProcess::Start({"lobby:width=320,height=240,fps=25,clip=10" + bframes});
  INFO(sim.status().ToString());
  REQUIRE(sim.ok());
  Site s;
  recorder::CameraSettings settings;
  settings.id = "door-1";
  settings.url = (*sim)->Url("lobby");
  // Segments shorter than the export's range, so that it spans complete ones and ends in
  // the one being written when the export is asked for.
  settings.segment_us = 20 * kSecond;
  recorder::CameraRecorder rec(settings, *s.db, PosixFilesystem::Instance(),
                               SystemClock::Instance(), s.dir.path());
  rec.Start();

  // The camera has recorded for 33 s: two complete segments' worth would not be enough.
  REQUIRE(WaitFor([&] { return FirstSegmentStart(*s.db, "door-1").has_value(); }, 120));
  const UtcMicros first = *FirstSegmentStart(*s.db, "door-1");
  REQUIRE(WaitFor([&] { return SystemClock::Instance().Now() >= first + 33 * kSecond; }, 120));
  const UtcMicros to = SystemClock::Instance().Now();
  const UtcMicros from = to - 30 * kSecond;
  const std::vector<records::FootageRange> ranges = {{"door-1", from, to}};
  auto pending = FindRecordingInProgress(*s.db, ranges, to);
  REQUIRE(pending.ok());
  REQUIRE(pending->size() == 1);  // the end of the range is in the open segment

  s.clock.SetWall(to + kSecond);
  const int64_t request = ApprovedPoliceRequest(s, ranges, "CR/LIVE", "test");
  auto ticket = RequestExport(*s.db, request, s.staff, false);
  REQUIRE(ticket.ok());
  ExportServiceOptions options;
  options.data_dir = s.dir.path();
  options.keys_dir = s.dir.File("keys");
  options.site_name = "Test site";
  jobs::ExportJobRunner runner(*s.db, PosixFilesystem::Instance(), SystemClock::Instance(), options);
  auto ran = runner.RunNext();  // waits for the open segment to close, then builds
  REQUIRE(ran.ok());
  REQUIRE(ran->has_value());
  rec.Stop();

  auto e = s.db->GetExport(ticket->export_id);
  REQUIRE(e.ok());
  INFO((*e)->error.value_or(""));
  REQUIRE((*e)->state == records::ExportState::kReady);
  const std::string package = s.dir.path() + "/exports/" + std::to_string(ticket->export_id) +
                              "/export-" + std::to_string(ticket->export_id);
  std::ifstream in(package + "/manifest.json");
  const nlohmann::json m = nlohmann::json::parse(in);
  INFO(m["gaps"].dump());
  REQUIRE(m["gaps"].empty());
  std::string video;
  for (const auto& f : m["files"]) {
    if (f["kind"] == "video") {
      REQUIRE(video.empty());  // one continuous file
      video = f["path"];
    }
  }
  REQUIRE(!video.empty());
  std::ifstream readme_in(package + "/README.txt");
  const std::string readme((std::istreambuf_iterator<char>(readme_in)), {});
  CHECK(readme.find("still being recorded") == std::string::npos);

  // Every frame of the 30 s: 25 a second, evenly spaced, none missing at the end. Packets
  // are in decode order; with B-frames their presentation times are not, so sort them.
  UtcMicros file_from;
  REQUIRE(ParseUtc(m["files"][0]["from_utc"].get<std::string>(), &file_from));
  std::vector<double> times = FrameTimes(package + "/" + video);
  std::sort(times.begin(), times.end());
  int in_range = 0;
  double last = -1;
  for (double t : times) {
    const UtcMicros at = file_from + static_cast<int64_t>(t * kSecond);
    if (at >= from && at < to) ++in_range;
    if (last >= 0) CHECK(t - last < 0.1);  // no frame dropped between two that are there
    last = t;
  }
  CHECK(in_range >= 749);
  CHECK(in_range <= 751);
  CHECK(file_from + static_cast<int64_t>(times.back() * kSecond) >= to - 40'000);
}
