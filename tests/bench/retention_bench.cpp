// retention_bench: how long a retention plan takes over a large index, how much memory it
// needs, and how fast the executor deletes compared with `find DIR -type f -delete`.
//
//   retention_bench [--rows N] [--cameras C] [--files M] [--rounds R] [--bytes B]
//                   [--batch S] [--dir DIR] [--keep]
//
// Builds a records.db of N complete one-minute segments across C cameras (synthetic rows).
// The oldest M segments have small files of B bytes; then, separately (so that the two
// share no directory or inode-table blocks), the same M files are written again as R trees
// for find. Then:
//   1. plan: a dry-run pass in a child process (opening the records, reading the index,
//      computing the plan), timed, with the child's peak RSS; the clock is set so that
//      exactly the oldest M/R segments are past the 31-day max age;
//   2. R rounds: the clock moves on by M/R segments; a real pass deletes them (mark,
//      unlink, fsync dir, remove row, deletion record) and find deletes one tree of M/R.
//      Whichever deletes second in a round tends to go faster (the first warms shared
//      metadata and absorbs other I/O), so the order alternates between rounds.
// The ratio is files/s over all rounds. Targets: plan under 5 s for 1,000,000
// rows; deletion at least 0.8x find.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/filesystem.h"
#include "base/log.h"
#include "base/sha256.h"
#include "records/database.h"
#include "retention/pass.h"

namespace custodian {
namespace {

struct Options {
  int64_t rows = 1'000'000;
  int cameras = 64;
  int64_t files = 100'000;  // for each of the executor and find, over all rounds
  int rounds = 10;
  int64_t bytes = 512;
  std::string dir;
  bool keep = false;
  size_t batch = retention::ExecutorOptions().batch_size;
};

constexpr int64_t kMinute = 60 * kMicrosPerSecond;
constexpr int kMaxAgeDays = 31;

// Wall time set by the benchmark; real monotonic time, so that passes time themselves.
class BenchClock final : public Clock {
 public:
  UtcMicros Now() const override { return {wall_.load()}; }
  MonoMicros Monotonic() const override { return SystemClock::Instance().Monotonic(); }
  bool Synchronized() const override { return true; }
  void SleepFor(int64_t d_us) const override { SystemClock::Instance().SleepFor(d_us); }
  void Set(UtcMicros t) { wall_ = t.us; }

 private:
  std::atomic<int64_t> wall_{0};
};

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

bool ParseOptions(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--rows" && has_value) {
      o->rows = std::atoll(argv[++i]);
    } else if (a == "--cameras" && has_value) {
      o->cameras = std::atoi(argv[++i]);
    } else if (a == "--files" && has_value) {
      o->files = std::atoll(argv[++i]);
    } else if (a == "--bytes" && has_value) {
      o->bytes = std::atoll(argv[++i]);
    } else if (a == "--dir" && has_value) {
      o->dir = argv[++i];
    } else if (a == "--rounds" && has_value) {
      o->rounds = std::atoi(argv[++i]);
    } else if (a == "--batch" && has_value) {
      o->batch = static_cast<size_t>(std::atoll(argv[++i]));
    } else if (a == "--keep") {
      o->keep = true;
    } else {
      return false;
    }
  }
  if (o->cameras < 1 || o->rows < o->cameras || o->bytes < 0 || o->rounds < 1) return false;
  // Rounds of whole "minutes" of all cameras, so that an age cut-off selects exactly the
  // files of a round.
  const int64_t per_round = std::min(o->rows, o->files) / o->rounds / o->cameras * o->cameras;
  o->files = per_round * o->rounds;
  return per_round > 0;
}

std::string CameraId(int c) { return "cam-" + std::to_string(c); }

std::string SegmentPath(const std::string& camera, UtcMicros start) {
  return "footage/" + camera + "/" + FormatUtcDate(start) + "/" + FormatUtcCompact(start) + ".mp4";
}

void WriteFile(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0 ||
      ::write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
    std::fprintf(stderr, "retention_bench: cannot write %s\n", path.c_str());
    std::exit(1);
  }
  ::close(fd);
}

// Row k is camera k % C at minute k / C, so inserting in k order is oldest first. A
// segment of minute j ends at base + (j + 1) min; at Now(r) = base + max age + r * M/R/C
// minutes, exactly the minutes below r * M/R/C have reached the max age.
struct Layout {
  UtcMicros base;
  int64_t minutes_per_round;  // M / R / C
  int rounds;
  UtcMicros Now(int round) const {
    return base + kMaxAgeDays * kMicrosPerDay + round * minutes_per_round * kMinute;
  }
};

std::string Content(const Options& o, const std::string& path) {
  std::string content = path;
  content.resize(static_cast<size_t>(o.bytes), 'v');
  return content;
}

// The same files as the data tree's, round r's in find-<r>/.
void BuildFindTrees(const Options& o, const Layout& l, const std::string& root) {
  for (int64_t k = 0; k < o.files; ++k) {
    const std::string camera = CameraId(static_cast<int>(k % o.cameras));
    const int64_t minute = k / o.cameras;
    const std::string path = SegmentPath(camera, l.base + minute * kMinute);
    const int64_t round = minute / l.minutes_per_round + 1;
    WriteFile(root + "/find-" + std::to_string(round) + "/" + path, Content(o, path));
  }
}

Status BuildIndex(records::Database& db, const Options& o, const Layout& l,
                  const std::string& root) {
  for (int c = 0; c < o.cameras; ++c) {
    CUSTODIAN_RETURN_IF_ERROR(db.UpsertCamera({CameraId(c), CameraId(c), {}}));
  }
  constexpr int64_t kChunk = 50'000;
  for (int64_t first = 0; first < o.rows; first += kChunk) {
    CUSTODIAN_RETURN_IF_ERROR(db.WithTransaction([&]() -> Status {
      for (int64_t k = first; k < std::min(o.rows, first + kChunk); ++k) {
        const std::string camera = CameraId(static_cast<int>(k % o.cameras));
        const int64_t minute = k / o.cameras;
        records::SegmentRow row;
        row.camera_id = camera;
        row.start = l.base + minute * kMinute;
        row.path = SegmentPath(camera, row.start);
        row.video_codec = "h264";
        records::SegmentFinish fin;
        fin.end = row.start + kMinute;
        fin.bytes = o.bytes;
        fin.duration_us = kMinute;
        fin.video_codec = "h264";
        if (minute < l.minutes_per_round * l.rounds) {
          const std::string content = Content(o, row.path);
          WriteFile(root + "/data/" + row.path, content);
          fin.sha256 = Sha256Hex(content);
        } else {
          fin.sha256 = Sha256Hex(std::to_string(k));
        }
        auto id = db.BeginSegment(row);
        if (!id.ok()) return id.status();
        CUSTODIAN_RETURN_IF_ERROR(db.FinishSegment(*id, fin));
      }
      return Status::Ok();
    }));
    std::fprintf(stderr, "\r  indexed %lld of %lld rows",
                 static_cast<long long>(std::min(o.rows, first + kChunk)),
                 static_cast<long long>(o.rows));
  }
  std::fprintf(stderr, "\n");
  return Status::Ok();
}

retention::RetentionSettings Settings(const Options& o, const std::string& data_dir) {
  retention::RetentionSettings s;
  s.data_dir = data_dir;
  s.retention.max_age_days = kMaxAgeDays;
  for (int c = 0; c < o.cameras; ++c) s.cameras.push_back({CameraId(c), kMaxAgeDays, {}});
  return s;
}

long MaxRssKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// A dry-run pass in a child process, so that its peak RSS is the plan's alone.
bool MeasurePlan(const Options& o, const std::string& data_dir, Filesystem& fs,
                 const Clock& clock) {
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    const long rss_before = MaxRssKb();
    const auto t0 = std::chrono::steady_clock::now();
    auto db = records::Database::Open(JoinPath(data_dir, "records.db"), clock);
    if (!db.ok()) _exit(1);
    retention::PassOptions dry;
    dry.dry_run = true;
    auto report = retention::RunRetentionPass(**db, fs, clock, Settings(o, data_dir), dry);
    const double total = Seconds(std::chrono::steady_clock::now() - t0);
    if (!report.ok()) {
      std::fprintf(stderr, "plan failed: %s\n", report.status().ToString().c_str());
      _exit(1);
    }
    const int64_t expected = o.files / o.rounds;
    std::printf("plan: %lld segments considered, %zu planned for deletion\n",
                static_cast<long long>(report->segments_considered), report->plan.segments.size());
    std::printf(
        "plan: %.3f s from opening the records (reading the index %.3f s, computing "
        "the plan %.3f s); target under 5 s: %s\n",
        total, report->load_us / 1e6, report->plan_us / 1e6, total < 5.0 ? "met" : "NOT met");
    std::printf("plan: peak RSS %.1f MB (the process before opening the records: %.1f MB)\n",
                MaxRssKb() / 1024.0, rss_before / 1024.0);
    std::fflush(stdout);
    _exit(report->plan.segments.size() == static_cast<size_t>(expected) ? 0 : 2);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Returns seconds, or a negative number on failure.
double RunFind(const Options& o, const std::string& tree) {
  const int64_t files = o.files / o.rounds;
  ::sync();
  const auto t0 = std::chrono::steady_clock::now();
  const std::string cmd = "find '" + tree + "' -type f -delete";
  if (std::system(cmd.c_str()) != 0) return -1;
  const double s = Seconds(std::chrono::steady_clock::now() - t0);
  std::printf("  find:     %lld files in %.3f s: %.0f files/s\n", static_cast<long long>(files), s,
              files / s);
  return s;
}

double RunExecutor(const Options& o, const std::string& data_dir, Filesystem& fs,
                   const Clock& clock) {
  ::sync();
  auto db = records::Database::Open(JoinPath(data_dir, "records.db"), clock);
  if (!db.ok()) return -1;
  retention::PassOptions options;
  options.executor.batch_size = o.batch;
  // Time from one step's end to the next's, summed per step: where deleting goes.
  double step_s[6] = {};
  auto last = std::chrono::steady_clock::now();
  options.executor.after_step = [&](retention::DeletionStep step) {
    const auto now = std::chrono::steady_clock::now();
    step_s[static_cast<int>(step)] += Seconds(now - last);
    last = now;
    return Status::Ok();
  };
  const auto started = std::chrono::steady_clock::now();
  auto report = retention::RunRetentionPass(**db, fs, clock, Settings(o, data_dir), options);
  const double pass_s = Seconds(std::chrono::steady_clock::now() - started);
  if (!report.ok()) {
    std::fprintf(stderr, "pass failed: %s\n", report.status().ToString().c_str());
    return -1;
  }
  const retention::ExecutionReport& e = report->execution;
  const double s = report->execute_us / 1e6;
  // The first step's clock started with the pass; take off what came before deleting.
  step_s[1] -= pass_s - s;
  std::printf(
      "  executor: %lld files in %.3f s: %.0f files/s (%lld deletion records; whole "
      "pass %.3f s)\n",
      static_cast<long long>(e.segments_deleted), s, e.segments_deleted / s,
      static_cast<long long>(e.deletion_records), pass_s);
  std::printf(
      "            mark %.3f s, unlink %.3f s, fsync dirs %.3f s, remove rows %.3f s, "
      "record and commit %.3f s (each with what precedes it in its batch)\n",
      step_s[1], step_s[2], step_s[3], step_s[4], step_s[5]);
  if (e.segments_deleted != o.files / o.rounds || !e.failures.empty()) {
    std::printf("ERROR: expected %lld deletions and no failures\n",
                static_cast<long long>(o.files / o.rounds));
    return -1;
  }
  return s;
}

int Run(const Options& o) {
  SetLogLevel(LogLevel::kWarn);
  const std::string parent =
      o.dir.empty() ? std::filesystem::temp_directory_path().string() : o.dir;
  std::string root = parent + "/retention-bench-XXXXXX";
  if (!mkdtemp(root.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string data_dir = root + "/data";
  std::filesystem::create_directories(data_dir);
  std::printf(
      "retention_bench: %lld rows across %d cameras; %lld files of %lld bytes in %d "
      "rounds for each of the executor and find, under %s\n",
      static_cast<long long>(o.rows), o.cameras, static_cast<long long>(o.files),
      static_cast<long long>(o.bytes), o.rounds, root.c_str());

  const Layout layout{SystemClock::Instance().Now() - 400 * kMicrosPerDay,
                      o.files / o.rounds / o.cameras, o.rounds};
  BenchClock clock;
  clock.Set(layout.Now(0));
  // A fixed, comfortable disk, so that only the age rule applies whatever this disk holds.
  FaultInjectingFilesystem fs(PosixFilesystem::Instance());
  fs.SetSpace({1'000'000'000'000, 500'000'000'000});
  {
    auto db = records::Database::Open(JoinPath(data_dir, "records.db"), clock);
    if (!db.ok()) {
      std::fprintf(stderr, "%s\n", db.status().ToString().c_str());
      return 1;
    }
    const auto t0 = std::chrono::steady_clock::now();
    Status st = BuildIndex(**db, o, layout, root);
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      return 1;
    }
    BuildFindTrees(o, layout, root);
    std::printf("setup: index and files built in %.1f s\n",
                Seconds(std::chrono::steady_clock::now() - t0));
  }
  clock.Set(layout.Now(1));
  bool ok = MeasurePlan(o, data_dir, fs, clock);

  double find_s = 0, exec_s = 0;
  std::vector<double> ratios;
  for (int r = 1; r <= o.rounds && ok; ++r) {
    const bool find_first = r % 2 == 1;
    std::printf("round %d of %d (%s first):\n", r, o.rounds, find_first ? "find" : "executor");
    clock.Set(layout.Now(r));
    const std::string tree = root + "/find-" + std::to_string(r);
    const double f1 = find_first ? RunFind(o, tree) : 0;
    const double e = RunExecutor(o, data_dir, fs, clock);
    const double f2 = find_first ? 0 : RunFind(o, tree);
    ok = f1 >= 0 && e > 0 && f2 >= 0;
    find_s += f1 + f2;
    exec_s += e;
    if (ok) ratios.push_back((f1 + f2) / e);
  }
  if (ok) {
    std::printf(
        "deletion over all rounds: executor %lld files in %.3f s = %.0f files/s; find "
        "%lld files in %.3f s = %.0f files/s\n",
        static_cast<long long>(o.files), exec_s, o.files / exec_s, static_cast<long long>(o.files),
        find_s, o.files / find_s);
    std::sort(ratios.begin(), ratios.end());
    const double median = ratios.size() % 2
                              ? ratios[ratios.size() / 2]
                              : (ratios[ratios.size() / 2 - 1] + ratios[ratios.size() / 2]) / 2;
    std::printf(
        "ratio executor / find = %.2fx over all rounds (median of the rounds' ratios "
        "%.2fx, range %.2fx to %.2fx); target at least 0.8x: %s\n",
        find_s / exec_s, median, ratios.front(), ratios.back(),
        find_s / exec_s >= 0.8 && median >= 0.8 ? "met" : "NOT met");
  }
  if (!o.keep) std::filesystem::remove_all(root);
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace custodian

int main(int argc, char** argv) {
  custodian::Options o;
  if (!custodian::ParseOptions(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: retention_bench [--rows N] [--cameras C] [--files M] [--rounds R] "
                 "[--bytes B] [--batch S] [--dir DIR] [--keep]\n");
    return 2;
  }
  return custodian::Run(o);
}
