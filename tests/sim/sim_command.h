// SimCommand: the fault-injection commands custodian-sim reads, one per line, on stdin.
//
//   drop NAME|all              close the connections (and sessions) of the stream's clients
//   refuse NAME|all SECONDS    drop current clients; answer new requests with
//                              503 Service Unavailable for SECONDS
//   stall NAME|all SECONDS     send no media packets for SECONDS, keeping connections open;
//                              video resumes at the next keyframe
//   clients NAME               count connected clients that asked for the stream
//   certificate PEM            (RTSPS) serve this certificate and key from now on and drop
//                              every client, as a camera does after a certificate change
//   quit                       stop serving and exit
//
// custodian-sim answers each command with one line on stdout: "ok COMMAND" (for clients:
// "ok clients NAME COUNT"), or "error COMMAND: REASON".
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace custodian::sim {

inline constexpr const char* kAllStreams = "all";

struct SimCommand {
  enum class Kind { kDrop, kRefuse, kStall, kClients, kCertificate, kQuit };
  Kind kind = Kind::kQuit;
  std::string target;       // a stream name or kAllStreams (the PEM path for certificate)
  int64_t duration_us = 0;  // refuse and stall
  std::string text;         // the command as written, whitespace-normalised (for the ack)
};

Result<SimCommand> ParseSimCommand(const std::string& line);

}  // namespace custodian::sim
