// recorder_bench: custodian's recorder against one ffmpeg CLI process per camera, recording
// the same simulated 1080p ~4 Mbit/s H.264 streams (every fourth with B-frames) for the
// same time in the same run.
//
//   recorder_bench [--cameras 16,32,64] [--seconds 60] [--input vtest|still] [--sub-streams]
//                  [--no-baseline]
//
// For each camera count it reports CPU seconds per camera-minute, peak RSS, frames lost
// (frames a file's timestamps span minus frames it holds), footage coverage, bytes written
// per media byte received, and the simulator's own CPU apart; then the ratios
// custodian / ffmpeg. Targets: CPU and RSS at most 0.5x ffmpeg's, no frame lost.
// custodian runs twice, with its activity index (the default) and without
// (`recorder.activity_index: false`), on the same streams, and the index's cost is printed
// as the ratio of the two; the ratio to ffmpeg is the one with the index. The picture is
// people walking (vtest, the default: every sample shows change, so the index decodes as
// often as its decode budget allows, activity::kDecodeBytesPerSecond) or a still scene (`--input
// still`: most CCTV most of the time; the index decodes a keyframe only every
// activity::kStillRecheckUs).
//
// --sub-streams gives every camera a sub stream (640x360 H.264 ~0.5 Mbit/s, GOP 2 s, the
// same picture), recorded by custodian as `sub_url` and by a second ffmpeg per camera.
// custodian then runs a third time: with the index but without the sub stream hand-off
// (`recorder.activity_from_sub_stream: false`), each main stream decoding its own 1080p
// keyframes; the activity pictures the main streams decoded and took from their sub streams
// are printed per camera-minute for both runs with the index.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "media/probe.h"
#include "tests/bench/bench_util.h"
#include "tests/sim/sim_process.h"

using namespace custodian;
using namespace custodian::bench;
namespace fs = std::filesystem;

namespace {

constexpr int kFps = 25;
// Every fourth camera sends B-frames (as DVRs and restreamers do), so that decode-time
// rebuilding is part of what is measured.
constexpr int kBframesEvery = 4;
constexpr int kBframes = 2;
// --sub-streams: each camera's sub stream, as cameras commonly default theirs.
constexpr int kSubWidth = 640;
constexpr int kSubHeight = 360;
constexpr int kSubKbps = 500;

struct PhaseResult {
  double cpu_seconds = 0;
  long rss_kb = 0;            // custodian: its one process; ffmpeg: the sum over processes
  long rss_max_single_kb = 0; // ffmpeg: the largest single process
  int64_t frames = 0;
  int64_t frames_expected = 0;
  double recorded_seconds = 0;
  double sim_cpu_seconds = 0;
  int64_t files = 0;
  int64_t bytes_written = 0;
  int64_t media_bytes = 0;
  // The main streams' activity pictures: decoded by their own indexers, taken from their
  // sub streams (custodian's log, one line per stream when it stops).
  int64_t pictures_decoded = 0;
  int64_t pictures_handed = 0;
};

enum class Index { kHandOff, kOwnDecodes, kOff };

struct Setup {
  int cameras = 0;
  double seconds = 0;
  bool sub_streams = false;
};

void CountFrames(const std::string& dir, PhaseResult* r) {
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() != ".mp4") continue;
    auto p = media::ProbeFile(e.path().string());
    if (!p.ok()) {
      std::fprintf(stderr, "bench: %s does not play: %s\n", e.path().c_str(), p.status().ToString().c_str());
      continue;
    }
    ++r->files;
    r->frames += p->video_frames;
    r->frames_expected += (p->duration_us * kFps + 500'000) / 1'000'000;
    r->recorded_seconds += p->duration_us / 1e6;
  }
}

PhaseResult RunCustodian(sim::SimulatorProcess& sim, const Setup& setup, Index index) {
  const int n = setup.cameras;
  const double seconds = setup.seconds;
  std::string dir = MakeTempDir("custodian-bench");
  {
    std::ofstream site(dir + "/site.yaml");
    site << "site: { name: \"Bench\" }\ndata_dir: data\nlog_level: warn\n"
         << "recorder: { segment_seconds: 60, activity_index: "
         << (index != Index::kOff ? "true" : "false")
         << ", activity_from_sub_stream: " << (index == Index::kHandOff ? "true" : "false")
         << " }\ncameras:\n";
    for (int i = 0; i < n; ++i) {
      const std::string cam = "cam" + std::to_string(i);
      site << "  - id: " << cam << "\n    url: " << sim.Url(cam) << "\n    transport: tcp\n";
      if (setup.sub_streams) site << "    sub_url: " << sim.Url(cam + "-sub") << "\n";
    }
  }
  PhaseResult r;
  double sim0 = ProcessCpuSeconds(sim.pid());
  pid_t pid = Spawn({CUSTODIAN_BINARY, "--config", dir + "/site.yaml", "--log-level", "info", "record"},
                    dir + "/record.log");
  SleepSeconds(seconds);
  ChildUsage u = StopAndMeasure(pid, SIGTERM);
  r.sim_cpu_seconds = ProcessCpuSeconds(sim.pid()) - sim0;
  r.cpu_seconds = u.cpu_seconds;
  r.rss_kb = u.max_rss_kb;
  r.rss_max_single_kb = u.max_rss_kb;
  std::ifstream log(dir + "/record.log");
  std::string line;
  std::regex stopped(R"((\d+) media bytes received, (\d+) bytes written)");
  std::regex pictures(
      R"(camera cam\d+ stopped: .*activity pictures: (\d+) decoded, (\d+) from the sub stream)");
  while (std::getline(log, line)) {
    std::smatch m;
    if (std::regex_search(line, m, stopped)) {
      r.media_bytes += std::stoll(m[1]);
      r.bytes_written += std::stoll(m[2]);
    }
    if (std::regex_search(line, m, pictures)) {
      r.pictures_decoded += std::stoll(m[1]);
      r.pictures_handed += std::stoll(m[2]);
    }
  }
  CountFrames(dir + "/data/footage", &r);
  fs::remove_all(dir);
  return r;
}

PhaseResult RunFfmpeg(sim::SimulatorProcess& sim, const Setup& setup) {
  const double seconds = setup.seconds;
  std::string dir = MakeTempDir("ffmpeg-bench");
  PhaseResult r;
  double sim0 = ProcessCpuSeconds(sim.pid());
  std::vector<pid_t> pids;
  std::vector<std::string> streams;
  for (int i = 0; i < setup.cameras; ++i) {
    streams.push_back("cam" + std::to_string(i));
    if (setup.sub_streams) streams.push_back("cam" + std::to_string(i) + "-sub");
  }
  for (const std::string& cam : streams) {
    pids.push_back(Spawn({"ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i",
                          sim.Url(cam), "-c", "copy", "-f", "segment", "-segment_time", "60",
                          "-reset_timestamps", "1", "-segment_format_options",
                          "movflags=frag_keyframe+empty_moov+default_base_moof",
                          dir + "/" + cam + "-%03d.mp4"},
                         dir + "/ffmpeg.log"));
  }
  SleepSeconds(seconds);
  for (pid_t p : pids) kill(p, SIGTERM);
  for (pid_t p : pids) {
    ChildUsage u = StopAndMeasure(p, SIGTERM);
    r.cpu_seconds += u.cpu_seconds;
    r.rss_kb += u.max_rss_kb;
    if (u.max_rss_kb > r.rss_max_single_kb) r.rss_max_single_kb = u.max_rss_kb;
  }
  r.sim_cpu_seconds = ProcessCpuSeconds(sim.pid()) - sim0;
  CountFrames(dir, &r);
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".mp4") r.bytes_written += static_cast<int64_t>(e.file_size());
  fs::remove_all(dir);
  return r;
}

void Print(const char* who, const Setup& setup, const PhaseResult& r) {
  const int n = setup.cameras;
  const double seconds = setup.seconds;
  double camera_minutes = n * seconds / 60.0;
  const int streams = setup.sub_streams ? 2 * n : n;  // coverage is of every stream
  std::printf("  %-9s cpu %7.2f s (%.3f s per camera-minute, %4.0f%% of one core)  peak RSS %7.1f MiB"
              " (%.2f MiB per camera)\n",
              who, r.cpu_seconds, r.cpu_seconds / camera_minutes, 100.0 * r.cpu_seconds / seconds,
              r.rss_kb / 1024.0, r.rss_kb / 1024.0 / n);
  std::printf(
      "  %-9s files %lld  frames %lld of %lld spanned: %lld lost  coverage %.1f%% of %.0f "
      "camera-seconds"
      "  simulator cpu %.2f s\n",
      "", static_cast<long long>(r.files), static_cast<long long>(r.frames),
      static_cast<long long>(r.frames_expected),
      static_cast<long long>(r.frames_expected - r.frames),
      100.0 * r.recorded_seconds / (streams * seconds), streams * seconds, r.sim_cpu_seconds);
  if (r.media_bytes > 0)
    std::printf("  %-9s bytes written / media bytes received: %.4f\n", "", static_cast<double>(r.bytes_written) / r.media_bytes);
  if (r.pictures_decoded + r.pictures_handed > 0)
    std::printf(
        "  %-9s main streams' activity pictures per camera-minute: %.1f decoded, %.1f from "
        "the sub stream (one every %.1f s)\n",
        "", r.pictures_decoded / camera_minutes, r.pictures_handed / camera_minutes,
        60.0 * camera_minutes / (r.pictures_decoded + r.pictures_handed));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> counts = {16, 32};
  double seconds = 60;
  bool baseline = true;
  bool sub_streams = false;
  std::string input = "vtest";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--cameras" && i + 1 < argc) {
      counts.clear();
      std::stringstream ss(argv[++i]);
      std::string item;
      while (std::getline(ss, item, ',')) counts.push_back(std::stoi(item));
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::stod(argv[++i]);
    } else if (a == "--input" && i + 1 < argc) {
      input = argv[++i];
    } else if (a == "--no-baseline") {
      baseline = false;
    } else if (a == "--sub-streams") {
      sub_streams = true;
    } else {
      std::fprintf(stderr,
                   "usage: recorder_bench [--cameras 16,32,64] [--seconds 60] [--input "
                   "vtest|still] [--sub-streams] [--no-baseline]\n");
      return 2;
    }
  }
  sim::MediaSpec plain = sim::Benchmark1080pSpec();
  plain.input = input;
  sim::MediaSpec with_bframes = plain;
  with_bframes.bframes = kBframes;
  sim::MediaSpec sub = plain;
  sub.width = kSubWidth;
  sub.height = kSubHeight;
  sub.bitrate_kbps = kSubKbps;
  std::vector<sim::MediaSpec> clips = {plain, with_bframes};
  if (sub_streams) clips.push_back(sub);
  for (const sim::MediaSpec& spec : clips) {
    auto clip = sim::EnsureTestMedia(spec);
    if (!clip.ok()) {
      std::fprintf(stderr, "bench: %s\n", clip.status().ToString().c_str());
      return 1;
    }
  }
  std::printf(
      "recorder_bench: 1080p25 H.264 ~4 Mbit/s (GOP 2 s, picture %s) looped by "
      "custodian-sim, every %dth camera with %d B-frames (pyramid), %.0f s per run%s\n",
      input.c_str(), kBframesEvery, kBframes, seconds,
      sub_streams ? "; each camera with a 640x360 ~0.5 Mbit/s sub stream" : "");
  for (int n : counts) {
    std::vector<std::string> specs;
    for (int i = 0; i < n; ++i) {
      const bool bframes = i % kBframesEvery == kBframesEvery - 1;
      specs.push_back(
          "cam" + std::to_string(i) +
          ":codec=h264,width=1920,height=1080,fps=25,bitrate=4000,gop=50,clip=20,input=" + input +
          (bframes ? ",bframes=" + std::to_string(kBframes) : ""));
      if (sub_streams)
        specs.push_back(
            "cam" + std::to_string(i) + "-sub:codec=h264,width=" + std::to_string(kSubWidth) +
            ",height=" + std::to_string(kSubHeight) +
            ",fps=25,bitrate=" + std::to_string(kSubKbps) + ",gop=50,clip=20,input=" + input);
    }
    auto sim = sim::SimulatorProcess::Start(specs);
    if (!sim.ok()) {
      std::fprintf(stderr, "bench: simulator: %s\n", sim.status().ToString().c_str());
      return 1;
    }
    const Setup setup{n, seconds, sub_streams};
    std::printf("\n%d cameras%s\n", n, sub_streams ? ", each with a sub stream" : "");
    PhaseResult c = RunCustodian(**sim, setup, Index::kHandOff);
    Print("custodian", setup, c);
    std::optional<PhaseResult> own;
    if (sub_streams) {
      own = RunCustodian(**sim, setup, Index::kOwnDecodes);
      Print("no handoff", setup, *own);
    }
    PhaseResult bare = RunCustodian(**sim, setup, Index::kOff);
    Print("no index", setup, bare);
    std::printf("  index     cpu %.3f  peak RSS %.3f (custodian with / without activity index)\n",
                c.cpu_seconds / bare.cpu_seconds, static_cast<double>(c.rss_kb) / bare.rss_kb);
    if (own) {
      std::printf(
          "  index     cpu %.3f  peak RSS %.3f (without the sub stream hand-off / without index)\n",
          own->cpu_seconds / bare.cpu_seconds, static_cast<double>(own->rss_kb) / bare.rss_kb);
      std::printf("  handoff   cpu %.3f (custodian with / without the sub stream hand-off)\n",
                  c.cpu_seconds / own->cpu_seconds);
    }
    if (!baseline) continue;
    PhaseResult f = RunFfmpeg(**sim, setup);
    Print("ffmpeg", setup, f);
    std::printf("  ratio     cpu %.3f  peak RSS %.3f (custodian / sum of ffmpeg processes)  frames lost %lld vs %lld\n",
                c.cpu_seconds / f.cpu_seconds, static_cast<double>(c.rss_kb) / f.rss_kb,
                static_cast<long long>(c.frames_expected - c.frames),
                static_cast<long long>(f.frames_expected - f.frames));
    if (own)
      std::printf(
          "  ratio     cpu %.3f (custodian without the hand-off / sum of ffmpeg processes)\n",
          own->cpu_seconds / f.cpu_seconds);
  }
  return 0;
}
