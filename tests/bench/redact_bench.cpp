// redact_bench (issue 8): `custodian redact` in mode faces on a 60 s 1080p25 H.264 street
// clip against `ffmpeg -i IN -an -c:v libx264 -preset veryfast OUT.mp4` on the same clip in
// the same run, and face recall on the labelled photos. See README.md here.
//
//   redact_bench [--seconds 60] [--dir /var/tmp] [--reps 1] [--no-recall]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "redaction/redactor.h"
#include "redaction/testing/face_fixture.h"
#include "tests/sim/media_spec.h"
#include "tests/sim/sim_process.h"

namespace {

using namespace custodian;
namespace fs = std::filesystem;

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

}  // namespace

int main(int argc, char** argv) {
  int seconds = 60, reps = 1;
  std::string dir = "/var/tmp";
  bool recall = true;
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
    } else {
      std::fprintf(stderr, "usage: redact_bench [--seconds 60] [--dir DIR] [--reps N] [--no-recall]\n");
      return 2;
    }
  }
  auto clip = sim::EnsureTestMedia(sim::Benchmark1080pSpec());
  if (!clip.ok()) {
    std::fprintf(stderr, "redact_bench: %s\n", clip.status().ToString().c_str());
    return 1;
  }
  std::string work = dir + "/redact-bench-" + std::to_string(::getpid());
  fs::create_directories(work);
  // The cached clip is 20 s: looped by stream copy (no re-encoding) to the length asked.
  std::string in = work + "/clip.mp4";
  TimeCommand("ffmpeg -v error -y -stream_loop -1 -i " + *clip + " -c copy -an -t " +
              std::to_string(seconds) + " " + in);
  std::printf("clip: %d s of 1080p25 H.264 ~4 Mbit/s street scene (%s)\n", seconds,
              sim::MediaFileName(sim::Benchmark1080pSpec()).c_str());

  double best_ff = 1e9, best_red = 1e9;
  redaction::RedactionRecord last;
  for (int r = 0; r < reps; ++r) {
    std::string ff_out = work + "/ffmpeg.mp4";
    fs::remove(ff_out);
    double ff = TimeCommand("ffmpeg -v error -y -i " + in + " -an -c:v libx264 -preset veryfast " + ff_out);
    std::string out = work + "/redacted.mp4";
    fs::remove(out);
    redaction::RedactionOptions o;
    auto t0 = std::chrono::steady_clock::now();
    auto rec = redaction::RedactVideo(in, out, o);
    double red = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!rec.ok()) {
      std::fprintf(stderr, "redact_bench: %s\n", rec.status().ToString().c_str());
      return 1;
    }
    std::printf("round %d: ffmpeg x264 veryfast %.2f s; custodian redact (faces) %.2f s\n", r + 1,
                ff, red);
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
  std::printf("frames %lld, masked %lld, flagged for review %lld; face tracks %d, person tracks %d\n",
              static_cast<long long>(last.frames), static_cast<long long>(last.frames_masked),
              static_cast<long long>(last.frames_flagged), last.json["tracks"]["faces"].get<int>(),
              last.json["tracks"]["people"].get<int>());

  if (recall) {
    auto faces = redaction::testing::FindFacesDir(CUSTODIAN_SOURCE_DIR);
    if (!faces) {
      std::printf("face recall: SKIPPED (labelled photos not found)\n");
    } else {
      auto photos = redaction::testing::LoadLabelledPhotos(*faces);
      if (!photos.ok()) return 1;
      using redaction::testing::Variant;
      for (Variant v : {Variant::kOriginal, Variant::kHalfSize, Variant::kDark, Variant::kRotated15}) {
        std::vector<redaction::testing::LabelledPhoto> variants;
        for (const auto& p : *photos) variants.push_back(redaction::testing::MakeVariant(p, v));
        auto cov = redaction::testing::MeasureFaceCoverage(variants, work, {});
        if (!cov.ok()) return 1;
        int hit = 0;
        double sum = 0;
        for (const auto& c : *cov) {
          hit += c.min_fraction >= 0.9;
          sum += c.min_fraction;
        }
        std::printf("face recall (%s): %d/%zu faces >= 90%% masked in every frame; mean masked %.3f\n",
                    redaction::testing::VariantName(v), hit, cov->size(), sum / cov->size());
      }
    }
  }
  fs::remove_all(work);
  return 0;
}
