#include "tests/sim/sim_command.h"

#include <sstream>
#include <vector>

#include "tests/sim/parse_util.h"

namespace custodian::sim {

Result<SimCommand> ParseSimCommand(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  if (words.empty()) return InvalidArgument("empty command");

  SimCommand cmd;
  for (const std::string& w : words) cmd.text += (cmd.text.empty() ? "" : " ") + w;
  const std::string& verb = words[0];
  size_t want_args = 0;
  if (verb == "quit") {
    cmd.kind = SimCommand::Kind::kQuit;
  } else if (verb == "drop") {
    cmd.kind = SimCommand::Kind::kDrop;
    want_args = 1;
  } else if (verb == "clients") {
    cmd.kind = SimCommand::Kind::kClients;
    want_args = 1;
  } else if (verb == "certificate") {
    cmd.kind = SimCommand::Kind::kCertificate;
    want_args = 1;
  } else if (verb == "refuse") {
    cmd.kind = SimCommand::Kind::kRefuse;
    want_args = 2;
  } else if (verb == "stall") {
    cmd.kind = SimCommand::Kind::kStall;
    want_args = 2;
  } else {
    return InvalidArgument("unknown command '" + verb + "'");
  }
  if (words.size() != want_args + 1) {
    return InvalidArgument("'" + verb + "' takes " + std::to_string(want_args) + " argument(s)");
  }
  if (want_args >= 1) cmd.target = words[1];
  if (cmd.kind == SimCommand::Kind::kClients && cmd.target == kAllStreams) {
    return InvalidArgument("'clients' takes one stream name");
  }
  if (want_args == 2 && !ParseSecondsToMicros(words[2], &cmd.duration_us)) {
    return InvalidArgument("'" + words[2] + "' is not a number of seconds");
  }
  return cmd;
}

}  // namespace custodian::sim
