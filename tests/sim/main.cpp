// custodian-sim: simulated IP cameras for Custodian's tests, benchmarks and demo.
//
// Serves RTSP streams on loopback (by default) from looped pre-encoded clips or live test
// patterns, with digest authentication and fault injection. Run `custodian-sim --help`.
//
// Output protocol: stdout carries only protocol lines ("ready URL", "ok COMMAND",
// "error COMMAND: REASON", and the clip path for --cached-media); logs and GStreamer
// messages go to stderr. Commands (tests/sim/sim_command.h) are read line by line from
// stdin and run on the main loop that also serves RTSP.
#include <glib-unix.h>
#include <gst/gst.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/log.h"
#include "tests/sim/media_cache.h"
#include "tests/sim/media_encoder.h"
#include "tests/sim/parse_util.h"
#include "tests/sim/rtsp_simulator.h"
#include "tests/sim/sim_command.h"
#include "tests/sim/stream_spec.h"

namespace custodian::sim {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

const char kUsage[] = R"(usage:
  custodian-sim [OPTIONS] --stream SPEC [--stream SPEC]...
  custodian-sim --make-media OUT.mkv [MEDIA FLAGS]
  custodian-sim --cached-media [--media-dir DIR] [MEDIA FLAGS]

Serves each stream at rtsp://ADDRESS:PORT/NAME and, once listening, prints one line
"ready rtsp://ADDRESS:PORT" on stdout.

options:
  --port N               TCP port; 0 picks a free one [8554]
  --address ADDR         address to listen on [127.0.0.1]
  --media-dir DIR        clip cache [$CUSTODIAN_SIM_MEDIA_DIR, else BUILD/sim-media]
  --tls PEM              serve RTSPS (rtsps://) with the certificate and key in PEM
  --digest auth-int-userhash  streams with a user demand RFC 7616 Digest with SHA-256,
                         qop auth-int and userhash [gst-rtsp-server's MD5 without qop]
  --quit-on-eof          exit when stdin closes (how test harnesses tie its life to theirs)
  --at SECONDS COMMAND   run COMMAND once, SECONDS after start (e.g. --at 10 "drop all")
  --every SECONDS COMMAND  run COMMAND every SECONDS (e.g. --every 60 "refuse yard 5")
  --log-level LEVEL      debug|info|warn|error [info]

stream SPEC: NAME[:KEY=VALUE,...]
  codec=h264|h265 [h264]  width=PX [1280]  height=PX [720]  fps=N [25]
  bitrate=KBIT/S [2000]   gop=FRAMES [2*fps]  audio=aac|none [none]
  bframes=N [0]           B-frames between references (b-pyramid from 2 on; closed GOPs)
  source=file|pattern [file]
      file:    a clip encoded once (cached), looped from memory without re-encoding;
               cheap enough for 64 streams. Clips of one set of parameters are shared.
      pattern: videotestsrc encoded live with x264/x265 (zerolatency); a few streams only.
  clip=SECONDS [10]       length of the generated clip a file source loops
  input=vtest|pattern|still|PATH [vtest]  what the generated clip shows (vtest: opencv-doc's
                          street scene; pattern: a moving ball; still: colours that
                          never move; PATH: any video file)
  file=PATH               loop this existing MKV/MP4 (H.264/H.265 video, optional AAC)
  user=NAME,password=PW   require RTSP digest authentication (realm "custodian-sim")
  clock_offset=SECONDS [0]  the camera's clock is this far ahead (negative: behind): its
                          RTCP sender reports carry the host's time plus SECONDS
  e.g. --stream lobby:codec=h264,width=1920,height=1080,bitrate=4000,audio=aac
       --stream yard:codec=h265,source=pattern,width=640,height=360

commands on stdin (each answered "ok COMMAND" or "error COMMAND: REASON"):
  drop NAME|all            close the stream's client connections and sessions now
  refuse NAME|all SECONDS  drop clients and answer 503 to new requests for SECONDS
  stall NAME|all SECONDS   send no media for SECONDS, connections stay open; video
                           resumes at the next keyframe
  clients NAME             answer "ok clients NAME COUNT" (connected clients of NAME)
  certificate PEM          (with --tls) serve this certificate and key from now on and
                           drop every client
  quit                     exit

media flags (--make-media, --cached-media): --codec h264|h265 --width PX --height PX
  --fps N --bitrate KBIT/S --gop FRAMES --seconds N --input vtest|pattern|PATH --audio
  --bframes N
  (defaults as for streams; --seconds is the clip length). --cached-media prints the path
  of the cached clip, encoding it first if needed.
)";

// Protocol lines go to the process's original stdout; everything else written to stdout
// (custodian's logging) is redirected to stderr so it cannot be mistaken for protocol.
class ProtocolOut {
 public:
  ProtocolOut() {
    int fd = dup(STDOUT_FILENO);
    out_ = fd >= 0 ? fdopen(fd, "w") : nullptr;
    dup2(STDERR_FILENO, STDOUT_FILENO);
  }
  ~ProtocolOut() {
    if (out_) std::fclose(out_);
  }
  ProtocolOut(const ProtocolOut&) = delete;
  ProtocolOut& operator=(const ProtocolOut&) = delete;
  void Line(const std::string& line) {
    if (!out_) return;
    std::fprintf(out_, "%s\n", line.c_str());
    std::fflush(out_);
  }

 private:
  FILE* out_;
};

struct ScheduledCommand {
  int64_t period_us = 0;
  bool repeat = false;
  SimCommand command;
};

enum class Mode { kServe, kMakeMedia, kCachedMedia, kHelp };

struct CliOptions {
  Mode mode = Mode::kServe;
  SimulatorConfig server;
  std::string media_dir = DefaultMediaDir();
  bool quit_on_eof = false;
  std::vector<ScheduledCommand> schedule;
  MediaSpec media;
  std::string media_out;
};

Result<CliOptions> ParseArgs(const std::vector<std::string>& args) {
  CliOptions opts;
  for (size_t i = 0; i < args.size();) {
    const std::string& a = args[i];
    auto value = [&](size_t n = 1) -> bool { return i + n < args.size(); };
    if (a == "--help" || a == "-h") {
      opts.mode = Mode::kHelp;
      ++i;
    } else if (a == "--make-media" && value()) {
      opts.mode = Mode::kMakeMedia;
      opts.media_out = args[i + 1];
      i += 2;
    } else if (a == "--cached-media") {
      opts.mode = Mode::kCachedMedia;
      ++i;
    } else if (a == "--port" && value()) {
      if (!ParseIntInRange(args[i + 1], 0, 65535, &opts.server.port)) {
        return InvalidArgument("--port needs 0..65535");
      }
      i += 2;
    } else if (a == "--tls" && value()) {
      opts.server.tls_pem = args[i + 1];
      i += 2;
    } else if (a == "--digest" && value()) {
      opts.server.digest = args[i + 1];
      i += 2;
    } else if (a == "--address" && value()) {
      opts.server.address = args[i + 1];
      i += 2;
    } else if (a == "--media-dir" && value()) {
      opts.media_dir = args[i + 1];
      i += 2;
    } else if (a == "--quit-on-eof") {
      opts.quit_on_eof = true;
      ++i;
    } else if (a == "--log-level" && value()) {
      LogLevel level;
      if (!ParseLogLevel(args[i + 1], &level)) return InvalidArgument("bad --log-level");
      SetLogLevel(level);
      i += 2;
    } else if (a == "--stream" && value()) {
      auto spec = ParseStreamSpec(args[i + 1]);
      if (!spec.ok()) return spec.status();
      opts.server.streams.push_back(std::move(*spec));
      i += 2;
    } else if ((a == "--at" || a == "--every") && value(2)) {
      ScheduledCommand s;
      s.repeat = a == "--every";
      if (!ParseSecondsToMicros(args[i + 1], &s.period_us) || (s.repeat && s.period_us == 0)) {
        return InvalidArgument(a + " needs a number of seconds, not '" + args[i + 1] + "'");
      }
      auto cmd = ParseSimCommand(args[i + 2]);
      if (!cmd.ok()) return InvalidArgument(a + ": " + cmd.status().message());
      s.command = std::move(*cmd);
      opts.schedule.push_back(std::move(s));
      i += 3;
    } else {
      Status st = ParseMediaFlag(args, &i, &opts.media);
      if (st.kind() == ErrorKind::kNotFound) {
        return InvalidArgument("unknown or incomplete option '" + a + "' (see --help)");
      }
      CUSTODIAN_RETURN_IF_ERROR(st);
    }
  }
  if (opts.mode == Mode::kServe && opts.server.streams.empty()) {
    return InvalidArgument("give at least one --stream (see --help)");
  }
  return opts;
}

Status EncodeLogged(const MediaSpec& spec, const std::string& out_path) {
  LogInfo("sim") << "encoding clip " << MediaFileName(spec) << " (first use); this takes a while";
  return EncodeMedia(spec, out_path);
}

// The main loop's view of the running simulator.
struct App {
  GMainLoop* loop = nullptr;
  Simulator* simulator = nullptr;
  ProtocolOut* out = nullptr;
  bool quit_on_eof = false;
};

// Runs a command; returns the reply line ("ok ..." or "error ...").
std::string Run(App& app, const SimCommand& cmd) {
  if (cmd.kind == SimCommand::Kind::kQuit) {
    g_main_loop_quit(app.loop);
    return "ok quit";
  }
  auto payload = app.simulator->Execute(cmd);
  if (!payload.ok()) return "error " + cmd.text + ": " + payload.status().ToString();
  return "ok " + cmd.text + (payload->empty() ? "" : " " + *payload);
}

gboolean OnStdin(GIOChannel* channel, GIOCondition, gpointer data) {
  App& app = *static_cast<App*>(data);
  for (;;) {
    gchar* raw = nullptr;
    GIOStatus status = g_io_channel_read_line(channel, &raw, nullptr, nullptr, nullptr);
    std::string line = raw ? raw : "";
    g_free(raw);
    if (status == G_IO_STATUS_AGAIN) return TRUE;
    if (status != G_IO_STATUS_NORMAL) {
      if (app.quit_on_eof) {
        LogInfo("sim") << "stdin closed; exiting";
        g_main_loop_quit(app.loop);
      }
      return FALSE;
    }
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    auto cmd = ParseSimCommand(line);
    app.out->Line(cmd.ok() ? Run(app, *cmd) : "error " + line + ": " + cmd.status().ToString());
  }
}

void Schedule(App& app, const ScheduledCommand& scheduled) {
  struct Timer {
    App* app;
    ScheduledCommand scheduled;
  };
  auto fire = [](gpointer data) -> gboolean {
    auto* t = static_cast<Timer*>(data);
    LogInfo("sim") << "scheduled '" << t->scheduled.command.text
                   << "': " << Run(*t->app, t->scheduled.command);
    return t->scheduled.repeat ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
  };
  g_timeout_add_full(G_PRIORITY_DEFAULT, static_cast<guint>(scheduled.period_us / 1000), fire,
                     new Timer{&app, scheduled},
                     [](gpointer data) { delete static_cast<Timer*>(data); });
}

int Serve(CliOptions& opts, ProtocolOut& out) {
  for (const StreamSpec& s : opts.server.streams) {
    std::string path = s.file_path;
    if (s.source == SourceKind::kFile && path.empty()) {
      auto cached = EnsureCachedMedia(s.media, opts.media_dir, EncodeLogged);
      if (!cached.ok()) {
        LogError("sim") << "stream " << s.name << ": " << cached.status().ToString();
        return kExitFailure;
      }
      path = *cached;
    }
    opts.server.clip_paths.push_back(path);
  }
  auto simulator = Simulator::Start(opts.server);
  if (!simulator.ok()) {
    LogError("sim") << "cannot start: " << simulator.status().ToString();
    return kExitFailure;
  }
  GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
  App app{loop, simulator->get(), &out, opts.quit_on_eof};
  for (const ScheduledCommand& s : opts.schedule) Schedule(app, s);
  GIOChannel* in = g_io_channel_unix_new(STDIN_FILENO);
  g_io_channel_set_encoding(in, nullptr, nullptr);
  g_io_channel_set_flags(in, G_IO_FLAG_NONBLOCK, nullptr);
  g_io_add_watch(in, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR), OnStdin, &app);
  auto on_signal = [](gpointer l) -> gboolean {
    g_main_loop_quit(static_cast<GMainLoop*>(l));
    return G_SOURCE_CONTINUE;
  };
  g_unix_signal_add(SIGINT, on_signal, loop);
  g_unix_signal_add(SIGTERM, on_signal, loop);

  LogInfo("sim") << "serving " << opts.server.streams.size() << " stream(s) at "
                 << (*simulator)->base_url() << "/NAME";
  out.Line("ready " + (*simulator)->base_url());
  g_main_loop_run(loop);
  simulator->reset();  // closes every client and stops every pipeline
  g_io_channel_unref(in);
  g_main_loop_unref(loop);
  return kExitOk;
}

int Main(int argc, char** argv) {
  ProtocolOut out;
  gst_init(nullptr, nullptr);
  auto opts = ParseArgs(std::vector<std::string>(argv + 1, argv + argc));
  if (!opts.ok()) {
    std::fprintf(stderr, "custodian-sim: %s\n", opts.status().message().c_str());
    return kExitUsage;
  }
  switch (opts->mode) {
    case Mode::kHelp:
      out.Line(kUsage);
      return kExitOk;
    case Mode::kMakeMedia: {
      Status st = EncodeMedia(opts->media, opts->media_out);
      if (!st.ok()) LogError("sim") << st.ToString();
      return st.ok() ? kExitOk : kExitFailure;
    }
    case Mode::kCachedMedia: {
      auto path = EnsureCachedMedia(opts->media, opts->media_dir, EncodeLogged);
      if (!path.ok()) {
        LogError("sim") << path.status().ToString();
        return kExitFailure;
      }
      out.Line(*path);
      return kExitOk;
    }
    case Mode::kServe:
      break;
  }
  return Serve(*opts, out);
}

}  // namespace
}  // namespace custodian::sim

int main(int argc, char** argv) { return custodian::sim::Main(argc, argv); }
