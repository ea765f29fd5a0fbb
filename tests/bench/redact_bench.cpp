// redact_bench: `custodian redact` in mode faces on a 60 s 1080p25 H.264 street
// clip against `ffmpeg -i IN -an -c:v libx264 -preset veryfast OUT.mp4` on the same clip in
// the same run (wall and CPU time), and face recall on the labelled photos, also placed in a
// 1080p frame. See README.md here.
//
//   redact_bench [--seconds 60] [--dir /var/tmp] [--reps 1] [--no-recall] [--no-timing]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <opencv2/imgproc.hpp>

#include "redaction/redactor.h"
#include "redaction/testing/face_fixture.h"
#include "tests/sim/media_spec.h"
#include "tests/sim/sim_process.h"

namespace {

using namespace custodian;
namespace fs = std::filesystem;

// CPU seconds (user + system) of this process or of its waited-for children: on a machine
// shared with other work, wall times vary from run to run; CPU time much less.
double CpuSeconds(int who) {
  rusage u{};
  ::getrusage(who, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

double TimeCommand(const std::string& cmd) {
  auto t0 = std::chrono::steady_clock::now();
  int rc = std::system(cmd.c_str());
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (rc != 0) {
    std::fprintf(stderr, "redact_bench: command failed: %s\n", cmd.c_str());
    std::exit(1);
  }
  return s;
}

// A photo placed in the middle of a 1920x1080 frame (scaled by `scale` first): the same faces
// seen through the large-frame (HD) detection path, which the photos themselves (all under
// 0.5 MP) never take.
redaction::testing::LabelledPhoto OnHdCanvas(const redaction::testing::LabelledPhoto& p,
                                             double scale) {
  return redaction::testing::OnCanvas(p, cv::Size(1920, 1080), scale);
}

int RunTiming(int seconds, int reps, const std::string& work) {
  auto clip = sim::EnsureTestMedia(sim::Benchmark1080pSpec());
  if (!clip.ok()) {
    std::fprintf(stderr, "redact_bench: %s\n", clip.status().ToString().c_str());
    return 1;
  }
  // The cached clip is 20 s: looped by stream copy (no re-encoding) to the length asked.
  std::string in = work + "/clip.mp4";
  TimeCommand("ffmpeg -v error -y -stream_loop -1 -i " + *clip + " -c copy -an -t " +
              std::to_string(seconds) + " " + in);
  std::printf("clip: %d s of 1080p25 H.264 ~4 Mbit/s street scene (%s)\n", seconds,
              sim::MediaFileName(sim::Benchmark1080pSpec()).c_str());

  double best_ff = 1e9, best_red = 1e9, cpu_ff = 0, cpu_red = 0;
  redaction::RedactionRecord last;
  for (int r = 0; r < reps; ++r) {
    std::string ff_out = work + "/ffmpeg.mp4";
    fs::remove(ff_out);
    double c0 = CpuSeconds(RUSAGE_CHILDREN);
    double ff = TimeCommand("ffmpeg -v error -y -i " + in + " -an -c:v libx264 -preset veryfast " + ff_out);
    std::string out = work + "/redacted.mp4";
    fs::remove(out);
    double c1 = CpuSeconds(RUSAGE_CHILDREN) - c0;
    redaction::RedactionOptions o;
    double c2 = CpuSeconds(RUSAGE_SELF);
    auto t0 = std::chrono::steady_clock::now();
    auto rec = redaction::RedactVideo(in, out, o);
    double red = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double c3 = CpuSeconds(RUSAGE_SELF) - c2;
    if (!rec.ok()) {
      std::fprintf(stderr, "redact_bench: %s\n", rec.status().ToString().c_str());
      return 1;
    }
    std::printf("round %d: ffmpeg x264 veryfast %.2f s (CPU %.1f s); custodian redact (faces) "
                "%.2f s (CPU %.1f s)\n", r + 1, ff, c1, red, c3);
    if (r == 0 || ff < best_ff) cpu_ff = c1;
    if (r == 0 || red < best_red) cpu_red = c3;
    best_ff = std::min(best_ff, ff);
    best_red = std::min(best_red, red);
    last = std::move(rec).value();
  }
  std::printf("\nffmpeg -an -c:v libx264 -preset veryfast: %.2f s (%.2fx real time)\n", best_ff,
              seconds / best_ff);
  std::printf("custodian redact --mode faces:           %.2f s (%.2fx real time)\n", best_red,
              seconds / best_red);
  std::printf("ratio redact/ffmpeg: %.2f (target <= 1.5); real-time factor %.2f (target >= 1)\n",
              best_red / best_ff, seconds / best_red);
  std::printf("CPU time (user+system) of those rounds: ffmpeg %.1f s, redact %.1f s, ratio %.2f\n",
              cpu_ff, cpu_red, cpu_red / cpu_ff);
  std::printf("frames %lld, masked %lld, flagged for review %lld; face tracks %d, person tracks %d\n",
              static_cast<long long>(last.frames), static_cast<long long>(last.frames_masked),
              static_cast<long long>(last.frames_flagged), last.json["tracks"]["faces"].get<int>(),
              last.json["tracks"]["people"].get<int>());

  return 0;
}

// Face recall: each labelled photo (and its variants) as a 10-frame video through the real
// pipeline; a face counts when >= 90% of it is masked in every frame.
int RunRecall(const std::string& work) {
  auto faces = redaction::testing::FindFacesDir(CUSTODIAN_SOURCE_DIR);
  if (!faces) {
    std::printf("face recall: SKIPPED (labelled photos not found)\n");
  } else {
    auto photos = redaction::testing::LoadLabelledPhotos(*faces);
    if (!photos.ok()) return 1;
    using redaction::testing::LabelledPhoto;
    using redaction::testing::Variant;
    auto report = [&](const std::string& name, const std::vector<LabelledPhoto>& set) {
      auto cov = redaction::testing::MeasureFaceCoverage(set, work, {});
      if (!cov.ok()) {
        std::fprintf(stderr, "redact_bench: %s\n", cov.status().ToString().c_str());
        return false;
      }
      int hit = 0;
      double sum = 0;
      std::string missed;
      for (const auto& c : *cov) {
        hit += c.min_fraction >= 0.9;
        sum += c.min_fraction;
        if (c.min_fraction < 0.9) {
          char one[96];
          std::snprintf(one, sizeof one, " %s#%d (%.2f)", c.photo.c_str(), c.face, c.min_fraction);
          missed += one;
        }
      }
      std::printf("face recall (%s): %d/%zu faces >= 90%% masked in every frame; mean masked %.3f\n",
                  name.c_str(), hit, cov->size(), sum / static_cast<double>(cov->size()));
      if (!missed.empty()) std::printf("  under 90%%:%s\n", missed.c_str());
      return true;
    };
    for (Variant v : {Variant::kOriginal, Variant::kHalfSize, Variant::kDark, Variant::kRotated15}) {
      std::vector<LabelledPhoto> variants;
      for (const auto& p : *photos) variants.push_back(redaction::testing::MakeVariant(p, v));
      if (!report(redaction::testing::VariantName(v), variants)) return 1;
    }
    for (double scale : {1.0, 2.0}) {
      std::vector<LabelledPhoto> variants;
      for (const auto& p : *photos) variants.push_back(OnHdCanvas(p, scale));
      if (!report(scale == 1.0 ? "in a 1080p frame" : "2x, in a 1080p frame", variants)) return 1;
    }
    std::vector<LabelledPhoto> dark;
    for (const auto& p : *photos) dark.push_back(OnHdCanvas(redaction::testing::MakeVariant(p, Variant::kDark), 1.0));
    if (!report("darkened, in a 1080p frame", dark)) return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 60, reps = 1;
  std::string dir = "/var/tmp";
  bool recall = true, timing = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atoi(argv[++i]);
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--reps" && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
    } else if (a == "--no-recall") {
      recall = false;
    } else if (a == "--no-timing") {
      timing = false;
    } else {
      std::fprintf(stderr, "usage: redact_bench [--seconds 60] [--dir DIR] [--reps N] [--no-recall] [--no-timing]\n");
      return 2;
    }
  }
  std::string work = dir + "/redact-bench-" + std::to_string(::getpid());
  fs::create_directories(work);
  int rc = timing ? RunTiming(seconds, reps, work) : 0;
  if (rc == 0 && recall) rc = RunRecall(work);
  if (!std::getenv("REDACT_BENCH_KEEP")) fs::remove_all(work);
  return rc;
}
