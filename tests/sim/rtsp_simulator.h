// Simulator: an RTSP server (gst-rtsp-server) serving simulated cameras, with fault
// injection.
//
// Each stream is mounted at /NAME with a shared media factory: all clients of a stream
// watch one pipeline, created when the first client arrives and torn down after the last
// leaves (so a new pipeline starts at the clip's first keyframe). Payloaders repeat
// SPS/PPS (and VPS) before every keyframe, so a client joining mid-stream can decode from
// the next keyframe.
//
//   file source:    appsrc (ClipFeeder, shared in-memory Clip) ! clocksync ! rtpXpay
//   pattern source: videotestsrc is-live ! x264enc/x265enc ! parse ! rtpXpay
//   audio:          appsrc (clip's AAC) or audiotestsrc ! voaacenc, ! rtpmp4gpay
//
// Streams with credentials need RTSP digest authentication: a request without valid
// credentials gets 401 with a challenge. Users are global to the server, so one user name
// must have one password across streams.
//
// Threading: create, run and command a Simulator from the thread running the default
// GMainContext's loop. gst-rtsp-server serves clients from its own threads; what they
// share with commands (a stream's fault deadlines) is atomic.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "tests/sim/sim_command.h"
#include "tests/sim/stream_spec.h"

namespace custodian::sim {

struct SimulatorConfig {
  std::string address = "127.0.0.1";
  int port = 8554;  // 0 picks a free port
  std::vector<StreamSpec> streams;
  // For each stream, the clip a file source loops (already encoded); empty for patterns.
  std::vector<std::string> clip_paths;
  // A PEM file holding a certificate and its private key: serve RTSPS (rtsps://) with it.
  // Empty: plain RTSP.
  std::string tls_pem;
  // How streams with credentials authenticate: "" for gst-rtsp-server's own Digest (MD5,
  // no qop, as many cameras); "auth-int-userhash" for RFC 7616's strictest form
  // (strict_digest_auth.h).
  std::string digest;
};

class Simulator {
 public:
  // Loads the clips, mounts the streams and starts listening on the default main context.
  static Result<std::unique_ptr<Simulator>> Start(const SimulatorConfig& config);
  ~Simulator();  // disconnects every client and stops listening
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  int port() const;
  // "rtsp://ADDRESS:PORT"
  std::string base_url() const;

  // Applies drop, refuse, stall or clients (not quit). Returns the reply payload: the
  // client count for `clients`, otherwise empty. NotFound for an unknown stream.
  Result<std::string> Execute(const SimCommand& command);

 private:
  class Impl;
  explicit Simulator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custodian::sim
