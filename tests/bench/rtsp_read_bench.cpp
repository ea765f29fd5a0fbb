// rtsp_read_bench: the CPU cost of reading RTSP-over-TCP streams, libavformat against
// media/rtsp's RtspTcpSource, for the same simulated 1080p ~4 Mbit/s H.264 streams in the
// same run.
//
//   ninja -C build rtsp_read_bench sim_media
//   ./build/tests/bench/rtsp_read_bench [--streams 16] [--seconds 30] [--low-water BYTES]
//
// Each phase runs in this process with one thread per stream: every thread connects (and,
// for libavformat, probes the stream as the recorder does), then all read from the same
// moment for the given time. CPU is this process's user+system time over the reading
// window only (getrusage RUSAGE_SELF deltas), so connecting and probing are left out.
// (a) libavformat: avformat_open_input with rtsp_transport=tcp, av_read_frame, and
//     AccessUnitAssembler joining packets into access units (the recorder's read path).
// (b) RtspTcpSource::ReadPacket, which hands out whole access units.
// Both unreference every packet at once: what is measured is reading, not writing.
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "base/log.h"
#include "media/access_unit.h"
#include "media/rtsp/rtsp_tcp_source.h"
#include "tests/bench/bench_util.h"
#include "tests/sim/sim_process.h"

using namespace custodian;
using namespace custodian::bench;

namespace {

constexpr int64_t kTimeoutUs = 10'000'000;

struct Usage {
  double cpu_seconds = 0;
  long voluntary_switches = 0;
  long involuntary_switches = 0;
};

Usage Now() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return {secs(u.ru_utime) + secs(u.ru_stime), u.ru_nvcsw, u.ru_nivcsw};
}

// Written by a reading thread, sampled by the main thread.
struct StreamTally {
  std::atomic<int64_t> frames{0};
  std::atomic<int64_t> bytes{0};
  std::atomic<bool> failed{false};
};

struct Sample {
  int64_t frames = 0;
  int64_t bytes = 0;
};

Sample Total(const std::vector<StreamTally>& tallies) {
  Sample s;
  for (const auto& t : tallies) {
    s.frames += t.frames.load(std::memory_order_relaxed);
    s.bytes += t.bytes.load(std::memory_order_relaxed);
  }
  return s;
}

struct PhaseResult {
  double cpu_seconds = 0;
  long switches = 0;
  double sim_cpu_seconds = 0;
  int64_t frames = 0;
  int64_t bytes = 0;
  int failed = 0;
};

// Threads open their readers, then wait for `go`; each reads until `stop`.
struct Start {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<bool> stop{false};
  void WaitForGo() {
    ++ready;
    while (!go) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
};

void ReadLibav(const std::string& url, Start* start, StreamTally* t) {
  AVFormatContext* ic = nullptr;
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "rtsp_transport", "tcp", 0);
  av_dict_set_int(&opts, "timeout", kTimeoutUs, 0);
  av_dict_set_int(&opts, "analyzeduration", 2'000'000, 0);
  int rc = avformat_open_input(&ic, url.c_str(), nullptr, &opts);
  av_dict_free(&opts);
  media::InputContext input(rc >= 0 ? ic : nullptr);
  if (rc < 0 || avformat_find_stream_info(ic, nullptr) < 0) {
    t->failed = true;
    start->WaitForGo();
    return;
  }
  const int video = av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  media::Packet pkt = media::MakePacket(), unit = media::MakePacket();
  media::AccessUnitAssembler assembler;
  start->WaitForGo();
  while (!start->stop && av_read_frame(ic, pkt.get()) >= 0) {
    if (pkt->stream_index == video && assembler.Push(pkt.get(), unit.get())) {
      t->frames.fetch_add(1, std::memory_order_relaxed);
      t->bytes.fetch_add(unit->size, std::memory_order_relaxed);
      av_packet_unref(unit.get());
    }
    av_packet_unref(pkt.get());
  }
}

void ReadCustodian(const std::string& url, const media::rtsp::RtspSourceOptions& options,
                   Start* start, StreamTally* t) {
  auto source = media::rtsp::RtspTcpSource::Open(url, "", "", options, nullptr);
  if (!source.ok()) {
    std::fprintf(stderr, "bench: %s\n", source.status().ToString().c_str());
    t->failed = true;
    start->WaitForGo();
    return;
  }
  media::Packet pkt = media::MakePacket();
  start->WaitForGo();
  int stream = -1;
  while (!start->stop && (*source)->ReadPacket(pkt.get(), &stream, kTimeoutUs).ok()) {
    if (stream == 0) {
      t->frames.fetch_add(1, std::memory_order_relaxed);
      t->bytes.fetch_add(pkt->size, std::memory_order_relaxed);
    }
    av_packet_unref(pkt.get());
  }
}

template <typename ReadFn>
PhaseResult RunPhase(sim::SimulatorProcess& sim, int n, double seconds, ReadFn read) {
  Start start;
  std::vector<StreamTally> tallies(static_cast<size_t>(n));
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back(read, sim.Url("cam" + std::to_string(i)), &start,
                         &tallies[static_cast<size_t>(i)]);
  }
  while (start.ready < n) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  // A second for the backlog of the slowest connection to drain before measuring.
  start.go = true;
  SleepSeconds(1.0);
  const Sample before = Total(tallies);
  const Usage u0 = Now();
  const double sim0 = ProcessCpuSeconds(sim.pid());
  SleepSeconds(seconds);
  const Usage u1 = Now();
  const double sim1 = ProcessCpuSeconds(sim.pid());
  const Sample after = Total(tallies);
  start.stop = true;
  for (auto& t : threads) t.join();
  PhaseResult r;
  r.cpu_seconds = u1.cpu_seconds - u0.cpu_seconds;
  r.switches = (u1.voluntary_switches - u0.voluntary_switches) +
               (u1.involuntary_switches - u0.involuntary_switches);
  r.sim_cpu_seconds = sim1 - sim0;
  r.frames = after.frames - before.frames;
  r.bytes = after.bytes - before.bytes;
  for (const auto& t : tallies) r.failed += t.failed ? 1 : 0;
  return r;
}

void Print(const char* who, int n, double seconds, const PhaseResult& r) {
  std::printf(
      "  %-12s cpu %6.2f s (%5.1f%% of one core, %.1f ms per stream-second, %.1f us per frame)"
      "  context switches %ld (%.0f/s)\n",
      who, r.cpu_seconds, 100.0 * r.cpu_seconds / seconds, 1000.0 * r.cpu_seconds / (n * seconds),
      r.frames > 0 ? 1e6 * r.cpu_seconds / static_cast<double>(r.frames) : 0.0, r.switches,
      r.switches / seconds);
  std::printf(
      "  %-12s frames %lld (%.1f fps per stream, %d streams failed)  %.1f MB"
      "  simulator cpu %.2f s\n",
      "", static_cast<long long>(r.frames), static_cast<double>(r.frames) / (n * seconds), r.failed,
      static_cast<double>(r.bytes) / 1e6, r.sim_cpu_seconds);
}

}  // namespace

int main(int argc, char** argv) {
  int n = 16;
  double seconds = 30;
  media::rtsp::RtspSourceOptions options;
  options.connect_timeout_us = kTimeoutUs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--streams" && i + 1 < argc) {
      n = std::atoi(argv[++i]);
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "--low-water" && i + 1 < argc) {
      options.receive_low_water_bytes = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: rtsp_read_bench [--streams 16] [--seconds 30] [--low-water BYTES]\n");
      return 2;
    }
  }
  auto clip = sim::EnsureTestMedia(sim::Benchmark1080pSpec());
  if (!clip.ok()) {
    std::fprintf(stderr, "bench: %s\n", clip.status().ToString().c_str());
    return 1;
  }
  SetLogLevel(LogLevel::kWarn);
  av_log_set_level(AV_LOG_ERROR);
  std::vector<std::string> specs;
  for (int i = 0; i < n; ++i) {
    specs.push_back("cam" + std::to_string(i) +
                    ":codec=h264,width=1920,height=1080,fps=25,bitrate=4000,gop=50,clip=20");
  }
  auto sim = sim::SimulatorProcess::Start(specs);
  if (!sim.ok()) {
    std::fprintf(stderr, "bench: simulator: %s\n", sim.status().ToString().c_str());
    return 1;
  }
  std::printf(
      "rtsp_read_bench: %d streams of 1080p25 H.264 ~4 Mbit/s over RTSP/TCP, %.0f s per phase"
      " (low-water %d bytes)\n",
      n, seconds, options.receive_low_water_bytes);
  PhaseResult libav = RunPhase(**sim, n, seconds, ReadLibav);
  Print("libavformat", n, seconds, libav);
  PhaseResult ours = RunPhase(
      **sim, n, seconds,
      [&](const std::string& url, Start* s, StreamTally* t) { ReadCustodian(url, options, s, t); });
  Print("RtspTcpSource", n, seconds, ours);
  std::printf("  ratio        cpu %.3f (RtspTcpSource / libavformat)  per frame %.3f\n",
              ours.cpu_seconds / libav.cpu_seconds,
              (ours.cpu_seconds / static_cast<double>(ours.frames)) /
                  (libav.cpu_seconds / static_cast<double>(libav.frames)));
  return 0;
}
