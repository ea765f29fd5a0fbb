// activity_bench: search by region over a synthetic month of one camera's activity index,
// as the API answers it: the segments from the records (real SQLite), their indexes read
// through the day digests (activity/day_digest.h), the moments found. The first search builds
// the digests and is printed apart; the best of the others is the figure. Baseline in the
// same run: reading every per-segment index file and nothing else (the floor of a search
// without digests). Also prints the index's size per camera-day.
//
//   activity_bench [--days 31] [--segment-seconds 60] [--runs 3]
//
// Target: a month of one camera answers in under 1 s on this machine.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include "activity/activity_file.h"
#include "activity/day_digest.h"
#include "activity/search.h"
#include "base/filesystem.h"
#include "records/database.h"
#include "tests/bench/bench_util.h"

using namespace custodian;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kSecond = 1'000'000;
const UtcMicros kMonthStart{1'793'491'200LL * kSecond};  // 2026-11-01T00:00:00Z

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A busy camera: people pass about every two minutes for ~10 s each, by day more than by
// night; each passage moves through a few cells. Seeded: the same month every run.
activity::SegmentActivity MakeMinute(std::mt19937& rng, int hour, int seconds) {
  activity::SegmentActivity a;
  a.scores.assign(static_cast<size_t>(seconds), 0);
  const bool day = hour >= 7 && hour < 22;
  std::uniform_int_distribution<int> pct(0, 99);
  if (pct(rng) < (day ? 50 : 10)) {
    const int start = std::uniform_int_distribution<int>(0, seconds - 12)(rng);
    const int col = std::uniform_int_distribution<int>(0, activity::kGridCols - 4)(rng);
    const int row = std::uniform_int_distribution<int>(0, activity::kGridRows - 3)(rng);
    for (int s = start; s < start + 10; ++s) a.scores[s] = static_cast<uint8_t>(40 + pct(rng));
    for (int k = 0; k < 3; ++k) {
      activity::GridSpan g;
      g.first_second = static_cast<uint16_t>(start + 4 * k);
      g.end_second = static_cast<uint16_t>(std::min(seconds, start + 4 * k + 4));
      for (int dc = 0; dc < 3; ++dc)
        for (int dr = 0; dr < 2; ++dr) g.cells.Set(col + dc + k % 2, row + dr);
      a.grids.push_back(g);
    }
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  int days = 31, segment_seconds = 60, runs = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--days" && i + 1 < argc)
      days = std::stoi(argv[++i]);
    else if (a == "--segment-seconds" && i + 1 < argc)
      segment_seconds = std::stoi(argv[++i]);
    else if (a == "--runs" && i + 1 < argc)
      runs = std::stoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: activity_bench [--days 31] [--segment-seconds 60] [--runs 3]\n");
      return 2;
    }
  }
  const std::string dir = bench::MakeTempDir("activity-bench");
  PosixFilesystem posix;
  auto db = records::Database::Open(dir + "/records.db", SystemClock::Instance());
  if (!db.ok()) return 1;
  records::Database& d = **db;
  if (!d.UpsertCamera({"door-1", "Door", {}}).ok()) return 1;

  // The month: rows and index files, one day per transaction.
  std::mt19937 rng(21);
  const int per_day = 86'400 / segment_seconds;
  std::vector<std::string> paths;
  uint64_t index_bytes = 0;
  const double build0 = Now();
  for (int day = 0; day < days; ++day) {
    Status st = d.WithTransaction([&]() -> Status {
      for (int k = 0; k < per_day; ++k) {
        const UtcMicros start =
            kMonthStart + (int64_t{day} * 86'400 + k * segment_seconds) * kSecond;
        records::SegmentRow row;
        row.camera_id = "door-1";
        row.start = start;
        row.path =
            "footage/door-1/" + FormatUtcDate(start) + "/" + FormatUtcCompact(start) + ".mp4";
        row.video_codec = "h264";
        row.width = 1920;
        row.height = 1080;
        row.state = records::SegmentState::kRecording;
        auto id = d.BeginSegment(row);
        if (!id.ok()) return id.status();
        records::SegmentFinish fin;
        fin.end = start + segment_seconds * kSecond;
        fin.bytes = 1;
        fin.duration_us = segment_seconds * kSecond;
        fin.sha256 = std::string(64, 'a');
        fin.video_codec = "h264";
        fin.width = 1920;
        fin.height = 1080;
        CUSTODIAN_RETURN_IF_ERROR(d.FinishSegment(*id, fin));
        const std::string path = dir + "/" + activity::ActivityPathFor(row.path);
        if (k == 0) CUSTODIAN_RETURN_IF_ERROR(posix.CreateDirs(DirName(path)));
        const activity::SegmentActivity a =
            MakeMinute(rng, k * segment_seconds / 3600, segment_seconds);
        index_bytes += activity::EncodeActivity(a).size();
        CUSTODIAN_RETURN_IF_ERROR(activity::WriteActivityFile(posix, path, a));
        paths.push_back(path);
      }
      return Status::Ok();
    });
    if (!st.ok()) {
      std::fprintf(stderr, "bench: %s\n", st.ToString().c_str());
      return 1;
    }
  }
  std::printf(
      "activity_bench: %d days of one camera, %d-s segments (%zu index files), built in %.1f s\n",
      days, segment_seconds, paths.size(), Now() - build0);
  std::printf("  index size: %.1f KB per camera-day (this busy synthetic camera)\n",
              index_bytes / 1024.0 / days);

  const std::vector<activity::Region> door = {{0.1, 0.2, 0.3, 0.6}, {0.7, 0.1, 0.9, 0.4}};
  const UtcMicros from = kMonthStart, to = kMonthStart + int64_t{days} * 86'400 * kSecond;
  double best_search = 1e9, best_floor = 1e9, first_search = 0;
  size_t found = 0;
  for (int run = 0; run < runs; ++run) {
    // Baseline: read every per-segment index file of the month, nothing else (what the
    // search cost at least before day digests).
    double t0 = Now();
    uint64_t bytes = 0;
    for (const std::string& p : paths) {
      auto s = ReadFileToString(posix, p);
      if (s.ok()) bytes += s->size();
    }
    best_floor = std::min(best_floor, Now() - t0);
    // The search as the API does it (api/handlers_activity.cpp): rows from the records, the
    // indexes through the day digests (built by the first run, read by the others).
    t0 = Now();
    auto rows = d.ListSegments("door-1", from, to);
    if (!rows.ok()) return 1;
    std::vector<std::string> segment_paths;
    segment_paths.reserve(rows->size());
    for (const records::SegmentRow& r : *rows) segment_paths.push_back(dir + "/" + r.path);
    auto indexes = activity::ReadIndexes(posix, segment_paths);
    std::vector<activity::PlacedActivity> placed;
    placed.reserve(rows->size());
    for (size_t i = 0; i < rows->size(); ++i)
      if (indexes[i].ok())
        placed.push_back({(*rows)[i].id, (*rows)[i].start, std::move(indexes[i]).value()});
    const auto moments = activity::FindMoments(placed, activity::RegionMask(door), from, to, 100);
    const double took = Now() - t0;
    if (run == 0)
      first_search = took;
    else
      best_search = std::min(best_search, took);
    found = moments.size();
    if (placed.size() != paths.size()) {
      std::fprintf(stderr, "bench: %zu of %zu indexes read\n", placed.size(), paths.size());
      return 1;
    }
    (void)bytes;
  }
  if (runs < 2) best_search = first_search;
  std::printf(
      "  search by region (2 boxes, %d days): %.3f s per camera-month (best of %d, day digests"
      " built), %zu moments\n",
      days, best_search * 31.0 / days, std::max(1, runs - 1), found);
  std::printf("  first search (builds the %d day digests from the per-segment files): %.3f s\n",
              days, first_search * 31.0 / days);
  std::printf("  baseline: reading the per-segment index files only: %.3f s\n",
              best_floor * 31.0 / days);
  std::printf("  ratio     search / per-file read-only %.2f; search / 1 s target %.2f\n",
              best_search / best_floor, best_search * 31.0 / days);
  fs::remove_all(dir);
  return 0;
}
