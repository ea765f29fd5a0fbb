// End-to-end tests of custodian-sim through SimulatorProcess, checked with the ffprobe and
// ffmpeg command-line tools as an independent RTSP client. Clips are short (4 s, 640x360)
// so that the first run encodes them in a few seconds and probes cross loop boundaries.
#include <sys/stat.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "base/testing/temp_dir.h"
#include "tests/sim/sim_process.h"

using namespace custodian;
using namespace custodian::sim;

namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// A 4 s H.264 clip of the moving-ball pattern: cheap to encode, loops twice in 9 s.
const char kSmallClip[] =
    "codec=h264,width=640,height=360,fps=25,gop=25,bitrate=800,clip=4,"
    "input=pattern";

struct ShellResult {
  int exit_code = -1;
  std::string output;
};

// Runs `command` with /bin/sh and collects its stdout (add 2>&1 to collect stderr too).
ShellResult Shell(const std::string& command) {
  ShellResult r;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// "packet|stream_index=0|pts_time=1.0|flags=K_" -> {"", "packet"}, {"stream_index", "0"}, ...
std::map<std::string, std::string> ParseCompactLine(const std::string& line) {
  std::map<std::string, std::string> fields;
  std::stringstream in(line);
  std::string item;
  bool first = true;
  while (std::getline(in, item, '|')) {
    size_t eq = item.find('=');
    if (first) {
      fields[""] = item;
    } else if (eq != std::string::npos) {
      fields[item.substr(0, eq)] = item.substr(eq + 1);
    }
    first = false;
  }
  return fields;
}

struct ProbedStream {
  std::string codec_type, codec_name;
  int width = 0, height = 0;
};

struct ProbedPacket {  // or decoded frame
  int stream = 0;
  double pts = -1;  // -1: unknown
  bool key = false;
  std::string pict_type;
};

struct Probe {
  int exit_code = -1;
  std::vector<ProbedStream> streams;
  std::vector<ProbedPacket> video;  // packets, or frames if probed with frames
  std::vector<ProbedPacket> audio;
};

// Reads `seconds` of the stream over RTSP/TCP. With frames=true, decodes and reports
// frames (key_frame, pict_type) instead of packets.
Probe FfprobeStream(const std::string& url, double seconds, bool frames = false) {
  std::string section = frames ? "frame" : "packet";
  std::string entries = frames ? "frame=stream_index,pts_time,key_frame,pict_type"
                               : "packet=stream_index,pts_time,flags";
  ShellResult r =
      Shell("timeout -s KILL 40 ffprobe -v error -rtsp_transport tcp -read_intervals %+" +
            std::to_string(seconds) + " -show_entries stream=index,codec_type," +
            "codec_name,width,height:" + entries + " -of compact '" + url + "' 2>/dev/null");
  Probe probe;
  probe.exit_code = r.exit_code;
  std::stringstream in(r.output);
  std::map<int, std::string> type_of_stream;
  std::vector<std::map<std::string, std::string>> items;
  for (std::string line; std::getline(in, line);) {
    auto f = ParseCompactLine(line);
    if (f[""] == "stream") {
      ProbedStream s{f["codec_type"], f["codec_name"], std::atoi(f["width"].c_str()),
                     std::atoi(f["height"].c_str())};
      type_of_stream[std::atoi(f["index"].c_str())] = s.codec_type;
      probe.streams.push_back(s);
    } else if (f[""] == section) {
      items.push_back(f);
    }
  }
  for (auto& f : items) {
    ProbedPacket p;
    p.stream = std::atoi(f["stream_index"].c_str());
    p.pts = f["pts_time"] == "N/A" ? -1 : std::atof(f["pts_time"].c_str());
    p.key = frames ? f["key_frame"] == "1" : f["flags"].rfind('K', 0) == 0;
    p.pict_type = f["pict_type"];
    (type_of_stream[p.stream] == "audio" ? probe.audio : probe.video).push_back(p);
  }
  return probe;
}

const ProbedStream* FindStream(const Probe& probe, const std::string& type) {
  for (const auto& s : probe.streams) {
    if (s.codec_type == type) return &s;
  }
  return nullptr;
}

// Frame counts between consecutive keyframes (packets with an unknown pts are skipped).
std::vector<int> KeyframeIntervals(const std::vector<ProbedPacket>& video) {
  std::vector<int> intervals;
  int since_key = -1;
  for (const auto& p : video) {
    if (p.pts < 0) continue;
    if (p.key) {
      if (since_key > 0) intervals.push_back(since_key);
      since_key = 0;
    }
    if (since_key >= 0) ++since_key;
  }
  return intervals;
}

std::unique_ptr<SimulatorProcess> StartSimulator(const std::vector<std::string>& specs) {
  auto sim = SimulatorProcess::Start(specs);
  INFO(sim.status().ToString());
  REQUIRE(sim.ok());
  return std::move(*sim);
}

// An ffmpeg client copying the stream to nowhere, for up to `seconds` of media.
struct FfmpegClient {
  FILE* pipe = nullptr;
  Clock::time_point started = Clock::now();
  FfmpegClient(const std::string& url, int seconds) {
    pipe = popen(("timeout -s KILL 40 ffmpeg -nostdin -v error -rtsp_transport tcp -i '" + url +
                  "' -c copy -t " + std::to_string(seconds) + " -f null - 2>&1")
                     .c_str(),
                 "r");
  }
  // Waits for ffmpeg to exit; returns what it printed.
  std::string Wait() {
    std::string out;
    char buf[1024];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    pclose(pipe);
    pipe = nullptr;
    return out;
  }
  ~FfmpegClient() {
    if (pipe) pclose(pipe);
  }
};

void WaitForClients(SimulatorProcess& sim, const std::string& name, int want) {
  auto start = Clock::now();
  int have = -1;
  while (SecondsSince(start) < 15) {
    auto n = sim.ClientCount(name);
    REQUIRE(n.ok());
    have = *n;
    if (have == want) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL("stream " << name << " has " << have << " clients, want " << want);
}

}  // namespace

TEST_CASE("a looped H.264 file source keeps its codec, size, GOP and rising timestamps") {
  auto sim = StartSimulator({std::string("loop:") + kSmallClip});
  // 9 s of a 4 s clip: crosses the loop boundary twice.
  Probe probe = FfprobeStream(sim->Url("loop"), 9);
  REQUIRE(probe.exit_code == 0);
  const ProbedStream* video = FindStream(probe, "video");
  REQUIRE(video);
  CHECK(video->codec_name == "h264");
  CHECK(video->width == 640);
  CHECK(video->height == 360);
  CHECK(FindStream(probe, "audio") == nullptr);

  double last = -1;
  int frames = 0;
  for (const auto& p : probe.video) {
    if (p.pts < 0) continue;
    if (last >= 0) {
      INFO("frame at " << p.pts << " s follows one at " << last << " s");
      REQUIRE(p.pts - last == Approx(0.04).margin(0.002));
    }
    last = p.pts;
    ++frames;
  }
  CHECK(last > 8.5);
  CHECK(frames > 200);
  auto intervals = KeyframeIntervals(probe.video);
  REQUIRE(intervals.size() >= 7);
  for (int n : intervals) CHECK(n == 25);
}

TEST_CASE("a live H.264 pattern source has the configured GOP of I-frames") {
  auto sim = StartSimulator({"live:source=pattern,width=320,height=240,fps=25,gop=10"});
  Probe probe = FfprobeStream(sim->Url("live"), 3, /*frames=*/true);
  REQUIRE(probe.exit_code == 0);
  const ProbedStream* video = FindStream(probe, "video");
  REQUIRE(video);
  CHECK(video->codec_name == "h264");
  CHECK(video->width == 320);
  CHECK(video->height == 240);
  for (const auto& f : probe.video) {
    if (f.key) CHECK(f.pict_type == "I");
  }
  auto intervals = KeyframeIntervals(probe.video);
  REQUIRE(intervals.size() >= 4);
  for (int n : intervals) CHECK(n == 10);
}

TEST_CASE("H.265 streams, file and live, carry video and the requested AAC audio") {
  auto sim =
      StartSimulator({"hfile:codec=h265,width=640,height=360,gop=25,clip=4,audio=aac,input=pattern",
                      "hlive:codec=h265,source=pattern,width=320,height=240,gop=25,audio=aac"});
  for (const char* name : {"hfile", "hlive"}) {
    INFO("stream " << name);
    Probe probe = FfprobeStream(sim->Url(name), 2.5);
    REQUIRE(probe.exit_code == 0);
    const ProbedStream* video = FindStream(probe, "video");
    const ProbedStream* audio = FindStream(probe, "audio");
    REQUIRE(video);
    REQUIRE(audio);
    CHECK(video->codec_name == "hevc");
    CHECK(video->width == (name == std::string("hfile") ? 640 : 320));
    CHECK(audio->codec_name == "aac");
    CHECK(probe.audio.size() > 50);  // about 47 AAC frames a second
    auto intervals = KeyframeIntervals(probe.video);
    REQUIRE_FALSE(intervals.empty());
    for (int n : intervals) CHECK(n == 25);
  }
}

TEST_CASE("digest authentication refuses a wrong password and accepts the right one") {
  auto sim = StartSimulator({std::string("secure:") + kSmallClip + ",user=admin,password=s3cret",
                             std::string("open:") + kSmallClip});
  auto probe_streams = [](const std::string& url) {
    return Shell(
        "timeout -s KILL 20 ffprobe -v error -rtsp_transport tcp -show_entries "
        "stream=codec_name -of compact '" +
        url + "' 2>&1");
  };
  ShellResult anonymous = probe_streams(sim->Url("secure"));
  CHECK(anonymous.exit_code != 0);
  CHECK(anonymous.output.find("401") != std::string::npos);

  ShellResult wrong = probe_streams(sim->Url("secure", "admin", "guess"));
  CHECK(wrong.exit_code != 0);
  CHECK(wrong.output.find("401") != std::string::npos);

  ShellResult right = probe_streams(sim->Url("secure", "admin", "s3cret"));
  CHECK(right.exit_code == 0);
  CHECK(right.output.find("codec_name=h264") != std::string::npos);

  ShellResult open = probe_streams(sim->Url("open"));
  CHECK(open.exit_code == 0);
}

TEST_CASE("drop disconnects every client of a shared stream, which then serves anew") {
  auto sim = StartSimulator({std::string("cam:") + kSmallClip, std::string("other:") + kSmallClip});
  FfmpegClient first(sim->Url("cam"), 30), second(sim->Url("cam"), 30);
  FfmpegClient bystander(sim->Url("other"), 6);
  WaitForClients(*sim, "cam", 2);
  WaitForClients(*sim, "other", 1);
  std::this_thread::sleep_for(std::chrono::seconds(1));

  REQUIRE(sim->Command("drop cam").ok());
  auto dropped = Clock::now();
  first.Wait();
  second.Wait();
  CHECK(SecondsSince(dropped) < 5);  // not the 30 s they asked for
  WaitForClients(*sim, "cam", 0);
  // The other stream's client played on to the end of its 6 s.
  bystander.Wait();
  CHECK(SecondsSince(bystander.started) > 5.5);

  Probe again = FfprobeStream(sim->Url("cam"), 1);
  CHECK(again.exit_code == 0);
  CHECK(sim->Command("drop nosuchstream").kind() == ErrorKind::kInvalidArgument);
}

TEST_CASE("refuse answers 503 for the given time, drops current clients, then accepts again") {
  auto sim = StartSimulator({std::string("cam:") + kSmallClip});
  FfmpegClient watching(sim->Url("cam"), 30);
  WaitForClients(*sim, "cam", 1);

  REQUIRE(sim->Command("refuse cam 3").ok());
  auto refused = Clock::now();
  watching.Wait();
  CHECK(SecondsSince(refused) < 3);

  ShellResult during = Shell("timeout -s KILL 20 ffprobe -v error -rtsp_transport tcp '" +
                             sim->Url("cam") + "' 2>&1");
  CHECK(during.exit_code != 0);
  CHECK(during.output.find("503") != std::string::npos);
  REQUIRE(SecondsSince(refused) < 3);

  std::this_thread::sleep_for(
      std::chrono::milliseconds(static_cast<int>((3.3 - SecondsSince(refused)) * 1000)));
  Probe after = FfprobeStream(sim->Url("cam"), 1);
  CHECK(after.exit_code == 0);
}

TEST_CASE("stall stops packets without closing the connection, then resumes") {
  auto sim = StartSimulator({std::string("cam:") + kSmallClip});
  // framecrc prints a line per packet; flushing each line lets us time their arrival.
  FILE* ffmpeg = popen(("timeout -s KILL 40 ffmpeg -nostdin -v error -rtsp_transport tcp -i '" +
                        sim->Url("cam") + "' -c copy -t 8 -f framecrc -flush_packets 1 -")
                           .c_str(),
                       "r");
  REQUIRE(ffmpeg);
  std::vector<double> arrivals;
  auto start = Clock::now();
  std::thread reader([&] {
    char line[512];
    while (fgets(line, sizeof line, ffmpeg)) {
      if (line[0] != '#') arrivals.push_back(SecondsSince(start));
    }
  });
  std::this_thread::sleep_for(std::chrono::seconds(2));
  Status stalled = sim->Command("stall cam 3");
  auto clients_during = sim->ClientCount("cam");
  reader.join();
  int status = pclose(ffmpeg);

  REQUIRE(stalled.ok());
  REQUIRE(clients_during.ok());
  CHECK(*clients_during == 1);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);  // the connection stayed up: ffmpeg ended normally
  double longest_gap = 0;
  size_t after_gap = 0;
  for (size_t i = 1; i < arrivals.size(); ++i) {
    double gap = arrivals[i] - arrivals[i - 1];
    if (gap > longest_gap) {
      longest_gap = gap;
      after_gap = arrivals.size() - i;
    }
  }
  CHECK(longest_gap > 2.5);
  CHECK(longest_gap < 5);  // 3 s, plus at most the wait for the next keyframe
  CHECK(after_gap > 25);   // and packets flowed again
}

TEST_CASE("test media is encoded once into the cache and then reused") {
  MediaSpec spec;
  spec.width = 320;
  spec.height = 240;
  spec.seconds = 2;
  spec.input = kInputPattern;
  auto first = EnsureTestMedia(spec);
  REQUIRE(first.ok());
  struct stat st {};
  REQUIRE(stat(first->c_str(), &st) == 0);
  CHECK(st.st_size > 1000);

  auto start = Clock::now();
  auto second = EnsureTestMedia(spec);
  REQUIRE(second.ok());
  CHECK(*second == *first);
  CHECK(SecondsSince(start) < 2);
}

// Regression: the simulator used to free its streams while their pipelines were still
// running, so a file source's streaming thread (vsrc:src) read freed memory while the
// process exited: an AddressSanitizer heap-use-after-free, seen in CI, in 17 of 40 rounds
// like these. The report came from a streaming thread while the main thread was already
// exiting with status 0, so it was cut short and the exit status did not show it. In a
// sanitized build this test therefore sends the simulators' reports to a directory of its
// own and fails on any; in every build the simulator must exit 0, promptly, on "quit".
TEST_CASE("quitting while clients are streaming stops every pipeline first and exits cleanly") {
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CUSTODIAN_SIM_TEST_ASAN 1
#endif
#endif
#ifdef CUSTODIAN_SIM_TEST_ASAN
  // Both variables: in a binary with ASan and UBSan, the log_path read last (UBSan's) wins.
  testing::TempDir reports("sim-asan");
  std::map<std::string, std::string> saved;
  for (const char* var : {"ASAN_OPTIONS", "UBSAN_OPTIONS"}) {
    const char* outer = std::getenv(var);
    saved[var] = outer ? outer : "";
    setenv(var, (saved[var] + (saved[var].empty() ? "" : ":") + "log_path=" +
                 reports.File("report") + ":log_exe_name=1").c_str(), 1);
  }
#endif
  // Quit at different moments of the clients' arrival: before their pipelines are built,
  // while they start, and while they play.
  for (int round = 0; round < 10; ++round) {
    INFO("round " << round);
    auto sim = StartSimulator({std::string("file:") + kSmallClip + ",audio=aac",
                               "live:source=pattern,width=320,height=240,fps=25,gop=10"});
    FfmpegClient file_client(sim->Url("file"), 30), live_client(sim->Url("live"), 30);
    std::this_thread::sleep_for(std::chrono::milliseconds(80 * round));
    auto quit = Clock::now();
    int status = sim->Stop();
    CHECK(status == 0);
    CHECK(SecondsSince(quit) < 5);  // "quit" ended it: no SIGTERM or SIGKILL was needed
    file_client.Wait();
    live_client.Wait();
  }
#ifdef CUSTODIAN_SIM_TEST_ASAN
  for (const auto& [var, value] : saved) {
    if (value.empty()) {
      unsetenv(var.c_str());
    } else {
      setenv(var.c_str(), value.c_str(), 1);
    }
  }
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator(reports.path())) {
    found.push_back(entry.path().string());
  }
  if (!found.empty()) {
    std::ifstream first(found.front());
    std::string text((std::istreambuf_iterator<char>(first)), std::istreambuf_iterator<char>());
    FAIL(found.size() << " sanitizer report(s) from custodian-sim; the first:\n" << text);
  }
#endif
}
