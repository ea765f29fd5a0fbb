// live_grid_bench: what a live grid of N cameras costs the server (CPU of `custodian serve`
// and bytes it sends), watching every camera's main stream against every camera's sub
// stream, in one run on the same recording.
//
//   live_grid_bench [--cameras 16] [--seconds 30]
//
// custodian-sim serves each camera's main stream (1920x1080 H.264, 4 Mbit/s) and sub stream
// (640x360 H.264, 0.5 Mbit/s); the real `custodian record` records both (every camera has
// a sub_url) and the real `custodian serve` answers a client that plays the grid as hls.js
// does: every second it reloads each camera's live playlist and fetches every fragment (and
// each file's init section) it has not fetched yet. Phase "main" asks for ?stream=main, the
// baseline of a grid without sub streams; phase "sub" asks for the default, the sub stream.
// The phases alternate (main, sub, main, sub) so that a change of load on a shared machine
// falls on both. Prints each phase's server CPU seconds and bytes received, and the ratios.
// Not a ctest test.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "api/testing/https_client.h"
#include "base/clock.h"
#include "tests/bench/bench_util.h"
#include "tests/sim/sim_process.h"

namespace custodian::bench {
namespace {

using api::testing::ClientResponse;
using api::testing::HttpsClient;

constexpr char kPurpose[] = "purpose=system_check&purpose_text=live%20grid%20benchmark";
constexpr char kPassword[] = "grid-bench-password-123";

struct Options {
  int cameras = 16;
  int seconds = 30;  // per phase; each phase runs twice
};

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string CameraId(int i) {
  char id[16];
  std::snprintf(id, sizeof id, "cam-%02d", i);
  return id;
}

// One camera's player: what it has fetched, by "uri|offset".
struct Player {
  std::string camera;
  std::unique_ptr<HttpsClient> client;
  std::set<std::string> fetched;
};

struct PhaseResult {
  double server_cpu = 0;
  uint64_t bytes = 0;
  int requests = 0;
  int failures = 0;
};

// The byte ranges of a live playlist not fetched yet: init sections (EXT-X-MAP) and
// fragments, as "uri" + Range header value.
std::vector<std::pair<std::string, std::string>> NewRanges(const std::string& playlist,
                                                           std::set<std::string>* fetched) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(playlist);
  std::string line, map_range, range;
  auto add = [&](const std::string& uri, const std::string& len_at_off) {
    const uint64_t len = std::stoull(len_at_off.substr(0, len_at_off.find('@')));
    const uint64_t off = std::stoull(len_at_off.substr(len_at_off.find('@') + 1));
    const std::string key = uri + "|" + std::to_string(off);
    if (!fetched->insert(key).second) return;
    out.emplace_back(uri, "bytes=" + std::to_string(off) + "-" + std::to_string(off + len - 1));
  };
  while (std::getline(in, line)) {
    if (line.rfind("#EXT-X-MAP:", 0) == 0) {
      const size_t at = line.find("BYTERANGE=\"") + 11;
      map_range = line.substr(at, line.find('"', at) - at);
    } else if (line.rfind("#EXT-X-BYTERANGE:", 0) == 0) {
      range = line.substr(17);
    } else if (!line.empty() && line[0] != '#') {
      add(line, map_range);
      add(line, range);
    }
  }
  return out;
}

PhaseResult RunPhase(std::vector<Player>& players, const std::string& cookie, bool sub,
                     pid_t server, int seconds) {
  PhaseResult r;
  const double cpu0 = ProcessCpuSeconds(server);
  const MonoMicros start = SystemClock::Instance().Monotonic();
  for (Player& p : players) p.fetched.clear();  // a new player starts from its playlist
  for (int tick = 0; tick < seconds; ++tick) {
    for (Player& p : players) {
      const std::string target =
          "/api/v1/cameras/" + p.camera + "/live.m3u8?" + kPurpose + (sub ? "" : "&stream=main");
      ClientResponse pl = p.client->Send("GET", target, {{"Cookie", cookie}});
      ++r.requests;
      r.bytes += pl.body.size();
      if (pl.status != 200) {
        ++r.failures;
        continue;
      }
      for (const auto& [uri, range] : NewRanges(pl.body, &p.fetched)) {
        ClientResponse b = p.client->Send("GET", uri, {{"Cookie", cookie}, {"Range", range}});
        ++r.requests;
        r.bytes += b.body.size();
        if (b.status != 206) ++r.failures;
      }
    }
    const MonoMicros next{start.us + (tick + 1) * kMicrosPerSecond};
    const MonoMicros now = SystemClock::Instance().Monotonic();
    if (next > now) SleepSeconds(static_cast<double>(next - now) / 1e6);
  }
  r.server_cpu = ProcessCpuSeconds(server) - cpu0;
  return r;
}

std::string Login(HttpsClient& client) {
  ClientResponse r =
      client.Send("POST", "/api/v1/auth/login", {{"Content-Type", "application/json"}},
                  std::string("{\"name\":\"grid\",\"password\":\"") + kPassword + "\"}");
  if (r.status != 200) return "";
  const std::string c = r.Header("set-cookie");
  return c.substr(0, c.find(';'));
}

int Run(const Options& o) {
  std::vector<std::string> specs;
  for (int i = 0; i < o.cameras; ++i) {
    specs.push_back(CameraId(i) + ":codec=h264,width=1920,height=1080,bitrate=4000,gop=50");
    specs.push_back(CameraId(i) + "-sub:codec=h264,width=640,height=360,bitrate=500,gop=50");
  }
  auto sim = sim::SimulatorProcess::Start(specs);
  if (!sim.ok()) {
    std::fprintf(stderr, "live_grid_bench: %s\n", sim.status().ToString().c_str());
    return 1;
  }
  const std::string dir = MakeTempDir("live-grid-bench");
  const int port = FreePort();
  {
    std::ofstream site(dir + "/site.yaml");
    site << "site: { name: \"Live grid bench\" }\ndata_dir: " << dir << "/data\n"
         << "log_level: warn\nhttp: { listen: \"127.0.0.1:" << port << "\" }\ncameras:\n";
    for (int i = 0; i < o.cameras; ++i) {
      site << "  - id: " << CameraId(i) << "\n    url: " << (*sim)->Url(CameraId(i))
           << "\n    sub_url: " << (*sim)->Url(CameraId(i) + "-sub") << "\n    transport: tcp\n";
    }
  }
  const std::string config = dir + "/site.yaml";
  std::string add = "echo " + std::string(kPassword) + " | " + CUSTODIAN_BINARY + " --config " +
                    config + " user add grid --role staff";
  for (int i = 0; i < o.cameras; ++i) add += " --camera " + CameraId(i);
  const pid_t recorder =
      Spawn({CUSTODIAN_BINARY, "--config", config, "record"}, dir + "/record.log");
  SleepSeconds(2);  // the recorder registers the cameras the account is granted
  if (std::system((add + " >/dev/null").c_str()) != 0) {
    std::fprintf(stderr, "live_grid_bench: user add failed\n");
    StopAndMeasure(recorder, SIGTERM);
    return 1;
  }
  const pid_t server = Spawn({CUSTODIAN_BINARY, "--config", config, "serve"}, dir + "/serve.log");
  SleepSeconds(3);
  const std::string cert = dir + "/data/keys/https-cert.pem";
  std::vector<Player> players;
  for (int i = 0; i < o.cameras; ++i) {
    players.push_back({CameraId(i), std::make_unique<HttpsClient>(port, cert), {}});
  }
  const std::string cookie = Login(*players[0].client);
  int code = 0;
  if (cookie.empty()) {
    std::fprintf(stderr, "live_grid_bench: login failed (see %s/serve.log)\n", dir.c_str());
    code = 1;
  } else {
    // Wait until every camera has 6 s of live footage on both streams.
    SleepSeconds(10);
    std::map<bool, PhaseResult> total;
    for (int round = 0; round < 2; ++round) {
      for (bool sub : {false, true}) {
        PhaseResult r = RunPhase(players, cookie, sub, server, o.seconds);
        std::printf("round %d %-4s: server CPU %.2f s, %.1f MB sent, %d requests, %d failed\n",
                    round + 1, sub ? "sub" : "main", r.server_cpu, r.bytes / 1e6, r.requests,
                    r.failures);
        std::fflush(stdout);
        PhaseResult& t = total[sub];
        t.server_cpu += r.server_cpu;
        t.bytes += r.bytes;
        t.requests += r.requests;
        t.failures += r.failures;
      }
    }
    const PhaseResult& m = total[false];
    const PhaseResult& s = total[true];
    const double secs = 2.0 * o.seconds;
    std::printf(
        "\n%d cameras, %d s per stream in all:\n"
        "  main streams: server CPU %.2f s (%.1f%% of a core), %.1f Mbit/s sent, %d failed\n"
        "  sub streams:  server CPU %.2f s (%.1f%% of a core), %.1f Mbit/s sent, %d failed\n"
        "  ratio sub/main: CPU %.2fx, bytes %.2fx\n",
        o.cameras, static_cast<int>(secs), m.server_cpu, 100 * m.server_cpu / secs,
        m.bytes * 8 / secs / 1e6, m.failures, s.server_cpu, 100 * s.server_cpu / secs,
        s.bytes * 8 / secs / 1e6, s.failures, m.server_cpu > 0 ? s.server_cpu / m.server_cpu : 0,
        m.bytes > 0 ? static_cast<double>(s.bytes) / m.bytes : 0);
    if (m.failures + s.failures > 0) code = 1;
  }
  players.clear();
  const ChildUsage su = StopAndMeasure(server, SIGTERM);
  const ChildUsage ru = StopAndMeasure(recorder, SIGTERM);
  std::printf("recorder (both streams of every camera, whole run): CPU %.2f s, peak RSS %ld MiB\n",
              ru.cpu_seconds, ru.max_rss_kb / 1024);
  std::printf("server: peak RSS %ld MiB\n", su.max_rss_kb / 1024);
  std::system(("rm -rf '" + dir + "'").c_str());
  return code;
}

}  // namespace
}  // namespace custodian::bench

int main(int argc, char** argv) {
  custodian::bench::Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--cameras") {
      o.cameras = std::atoi(argv[i + 1]);
    } else if (flag == "--seconds") {
      o.seconds = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: live_grid_bench [--cameras N] [--seconds S]\n");
      return 2;
    }
  }
  if (o.cameras < 1 || o.cameras > 99 || o.seconds < 1) {
    std::fprintf(stderr, "usage: live_grid_bench [--cameras N] [--seconds S]\n");
    return 2;
  }
  return custodian::bench::Run(o);
}
