// export_bench (issue 7): one hour of one 1080p ~4 Mbit/s camera (sixty 1-minute segments)
// exported to one MP4 with its signed manifest, against `cp` of the same segment files and
// `ffmpeg -f concat -c copy`, in the same run. See README.md here.
//
//   export_bench [--segments 60] [--reps 3] [--dir /var/tmp]
//
// Each variant runs --reps times on warm page cache; the median is reported. The export is
// timed end to end through the job runner (records, splice, hashing, manifest, signature,
// fsync), as `custodian export run` does it.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/log.h"
#include "base/sha256.h"
#include "exports/export_jobs.h"
#include "records/database.h"
#include "requests/workflow.h"
#include "tests/sim/media_spec.h"
#include "tests/sim/sim_process.h"

namespace {

using namespace custodian;
namespace stdfs = std::filesystem;

constexpr int64_t kMinuteUs = 60 * kMicrosPerSecond;

struct Args {
  int segments = 60;
  int reps = 3;
  std::string dir = "/var/tmp";
  bool baselines = true;  // --no-baselines: custodian only (for profiling)
};

bool ParseArgs(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--segments" && i + 1 < argc) {
      a->segments = std::atoi(argv[++i]);
    } else if (s == "--reps" && i + 1 < argc) {
      a->reps = std::atoi(argv[++i]);
    } else if (s == "--dir" && i + 1 < argc) {
      a->dir = argv[++i];
    } else if (s == "--no-baselines") {
      a->baselines = false;
    } else {
      return false;
    }
  }
  return a->segments > 0 && a->reps > 0;
}

void Check(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "export_bench: %s\n", what.c_str());
  std::exit(1);
}

void CheckStatus(const Status& st, const std::string& what) {
  Check(st.ok(), what + ": " + st.ToString());
}

// Wall seconds of fn, after flushing dirty pages left by the previous run so that every
// variant starts from the same state (warm cache, nothing pending for the disk).
double Seconds(const std::function<void()>& fn) {
  ::sync();
  auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Sh(const std::string& cmd) { return std::system(cmd.c_str()); }

// A site with `segments` one-minute 1080p segments of camera "bench", and a request for
// the whole stretch approved by a second manager.
struct BenchSite {
  std::string data;
  ManualClock clock{UtcMicros{1767225600LL * kMicrosPerSecond}};  // 2026-01-01 00:00 UTC
  std::unique_ptr<records::Database> db;
  int64_t staff = 0, manager = 0, request = 0;
  std::vector<std::string> files;
  int64_t bytes = 0;
};

void MakeSegmentFile(const std::string& clip, const std::string& out) {
  // The 20 s clip looped to a minute, copied (not re-encoded) into a fragmented MP4 as the
  // recorder writes it.
  const std::string cmd =
      "ffmpeg -nostdin -v error -y -stream_loop 3 -i '" + clip +
      "' -c copy -an -t 60 -movflags frag_keyframe+empty_moov+default_base_moof "
      "-f mp4 '" +
      out + "'";
  Check(Sh(cmd) == 0, "ffmpeg could not make the segment file");
}

void SetUp(const Args& a, BenchSite* s) {
  auto clip = sim::EnsureTestMedia(sim::Benchmark1080pSpec());
  CheckStatus(clip.status(), "benchmark clip");
  std::string tmpl = a.dir + "/custodian-export-bench-XXXXXX";
  Check(::mkdtemp(tmpl.data()) != nullptr, "cannot make a directory in " + a.dir);
  s->data = tmpl;
  const std::string one = s->data + "/one-minute.mp4";
  MakeSegmentFile(*clip, one);
  auto sha = Sha256File(one);
  CheckStatus(sha.status(), "hash");
  const int64_t size = static_cast<int64_t>(stdfs::file_size(one));

  auto db = records::Database::Open(s->data + "/records.db", s->clock);
  CheckStatus(db.status(), "records.db");
  s->db = std::move(db).value();
  CheckStatus(s->db->UpsertCamera({"bench", "Benchmark camera", {}}), "camera");
  s->staff = *s->db->CreateUser({"staff", records::Role::kStaff, "h", false});
  const int64_t logger = *s->db->CreateUser({"logger", records::Role::kManager, "h", false});
  s->manager = *s->db->CreateUser({"approver", records::Role::kManager, "h", false});
  const UtcMicros t0 = s->clock.Now() - int64_t{a.segments + 10} * kMinuteUs;
  stdfs::create_directories(s->data + "/footage/bench");
  for (int i = 0; i < a.segments; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "footage/bench/seg%03d.mp4", i);
    const std::string abs = s->data + "/" + name;
    stdfs::copy_file(one, abs);
    s->files.push_back(abs);
    s->bytes += size;
    records::SegmentRow row;
    row.camera_id = "bench";
    row.start = t0 + i * kMinuteUs;
    row.path = name;
    row.video_codec = "h264";
    row.width = 1920;
    row.height = 1080;
    row.clock_synced = true;
    auto id = s->db->BeginSegment(row);
    CheckStatus(id.status(), "segment row");
    records::SegmentFinish fin;
    fin.end = row.start + kMinuteUs;
    fin.bytes = size;
    fin.duration_us = kMinuteUs;
    fin.sha256 = *sha;
    fin.video_codec = "h264";
    fin.width = 1920;
    fin.height = 1080;
    CheckStatus(s->db->FinishSegment(*id, fin), "finish segment");
  }
  stdfs::remove(one);

  requests::Workflow w(*s->db, s->clock);
  requests::NewRequest r;
  r.requester_name = "Benchmark";
  r.reference = "BENCH";
  r.ranges = {{"bench", t0, t0 + int64_t{a.segments} * kMinuteUs}};
  auto req = w.LogRequest(r, logger);
  CheckStatus(req.status(), "log request");
  s->request = *req;
  CheckStatus(w.AddVerification(*req, records::VerificationStep::kReceivedInWriting, s->staff, ""),
              "verify");
  CheckStatus(w.AddVerification(*req, records::VerificationStep::kIdentityCallback, s->staff, ""),
              "verify");
  CheckStatus(w.SubmitForDecision(*req, s->staff), "submit");
  CheckStatus(w.Decide(*req, {true, s->manager, "benchmark", {}}), "approve");
}

// Exports the whole request through the job runner; returns the package directory.
std::string Export(BenchSite& s, const exports::BuildOptions& build) {
  auto ticket = exports::RequestExport(*s.db, s.request, s.staff, false);
  CheckStatus(ticket.status(), "request export");
  exports::ExportServiceOptions o;
  o.data_dir = s.data;
  o.keys_dir = s.data + "/keys";
  o.site_name = "Benchmark site";
  o.build = build;
  exports::ExportJobRunner runner(*s.db, PosixFilesystem::Instance(), s.clock, o);
  auto ran = runner.RunNext();
  CheckStatus(ran.status(), "run export");
  auto e = s.db->GetExport(ticket->export_id);
  Check(e.ok() && e->has_value() && (*e)->state == records::ExportState::kReady,
        "export did not complete: " + (e.ok() && e->has_value() ? (*e)->error.value_or("") : ""));
  return s.data + "/" + *(*e)->path;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!ParseArgs(argc, argv, &a)) {
    std::fprintf(stderr,
                 "usage: export_bench [--segments N] [--reps N] [--dir DIR] [--no-baselines]\n");
    return 2;
  }
  SetLogLevel(LogLevel::kWarn);
  BenchSite s;
  std::printf("setting up %d one-minute 1080p segments in %s ...\n", a.segments, a.dir.c_str());
  SetUp(a, &s);
  std::printf("%d segments, %.1f MB, %.2f Mbit/s\n", a.segments, s.bytes / 1e6,
              s.bytes * 8.0 / (a.segments * 60.0) / 1e6);
  // Warm the page cache so every variant reads from memory alike.
  Sh("cat " + s.data + "/footage/bench/*.mp4 > /dev/null");

  std::string list = s.data + "/concat.txt";
  {
    std::ofstream out(list);
    for (const std::string& f : s.files) out << "file '" << f << "'\n";
  }
  const std::string cp_dir = s.data + "/cp-out";
  exports::BuildOptions full;
  exports::BuildOptions nosync = full;
  nosync.durable = false;
  exports::BuildOptions noverify = full;
  noverify.verify_sources = false;
  // Each variant does its work inside the timed function and cleans up after it. The order
  // rotates from one round to the next: on a shared virtual disk (online discard of the
  // previous round's deletions, other tenants' writes) whichever runs first is favoured.
  struct Variant {
    std::function<void()> run;
    std::function<void()> clean;
    std::vector<double> seconds;
  };
  std::string last_export;
  auto exporter = [&](const exports::BuildOptions& o) {
    return Variant{
        [&, o] { last_export = Export(s, o); }, [&] { stdfs::remove_all(last_export); }, {}};
  };
  std::vector<Variant> variants = {exporter(full), exporter(nosync), exporter(noverify)};
  if (a.baselines) {
    variants.push_back({[&] {
                          Check(Sh("mkdir -p '" + cp_dir + "' && cp " + s.data +
                                   "/footage/bench/*.mp4 '" + cp_dir + "'") == 0,
                                "cp");
                        },
                        [&] { stdfs::remove_all(cp_dir); },
                        {}});
    variants.push_back({[&] {
                          Check(Sh("mkdir -p '" + cp_dir + "' && cp " + s.data +
                                   "/footage/bench/*.mp4 '" + cp_dir + "' && sync -f '" + cp_dir +
                                   "'") == 0,
                                "cp+sync");
                        },
                        [&] { stdfs::remove_all(cp_dir); },
                        {}});
    variants.push_back({[&] {
                          Check(Sh("ffmpeg -nostdin -v error -y -f concat -safe 0 -i '" + list +
                                   "' -c copy '" + s.data + "/concat.mp4'") == 0,
                                "ffmpeg concat");
                        },
                        [&] { stdfs::remove(s.data + "/concat.mp4"); },
                        {}});
  }
  for (int rep = 0; rep < a.reps; ++rep) {
    for (size_t k = 0; k < variants.size(); ++k) {
      Variant& v = variants[(k + rep) % variants.size()];
      v.seconds.push_back(Seconds(v.run));
      v.clean();
    }
  }
  const std::vector<double>& exp = variants[0].seconds;
  const std::vector<double>& exp_nosync = variants[1].seconds;
  const std::vector<double>& exp_noverify = variants[2].seconds;
  if (!a.baselines) {
    std::printf("custodian export: %.2f s (no fsync %.2f s, no source re-hash %.2f s)\n",
                Median(exp), Median(exp_nosync), Median(exp_noverify));
    stdfs::remove_all(s.data);
    return 0;
  }
  const double c = Median(variants[3].seconds), cs = Median(variants[4].seconds),
               f = Median(variants[5].seconds), e = Median(exp), en = Median(exp_nosync),
               ev = Median(exp_noverify);
  std::printf("\nmedian of %d runs, %.0f MB each:\n", a.reps, s.bytes / 1e6);
  std::printf("  cp of the %d segment files            %7.2f s\n", a.segments, c);
  std::printf("  cp, then sync -f                       %7.2f s\n", cs);
  std::printf("  ffmpeg -f concat -c copy               %7.2f s\n", f);
  std::printf(
      "  custodian export (verify sources, fsync) %5.2f s   %.2fx cp  %.2fx cp+sync  %.2fx "
      "ffmpeg\n",
      e, e / c, e / cs, e / f);
  std::printf("  custodian export, no fsync             %7.2f s   %.2fx cp  %.2fx ffmpeg\n", en,
              en / c, en / f);
  std::printf("  custodian export, no source re-hash    %7.2f s   %.2fx cp  %.2fx ffmpeg\n", ev,
              ev / c, ev / f);
  std::printf("targets: export <= 1.5x cp (%s), <= 0.5x ffmpeg (%s)\n",
              e <= 1.5 * c ? "met" : "NOT met", e <= 0.5 * f ? "met" : "NOT met");
  stdfs::remove_all(s.data);
  return 0;
}
