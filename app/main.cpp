#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "app/verbs.h"
#include "base/log.h"
#include "version.h"

namespace custodian {
namespace {

const Verb kVerbs[] = {
    {"record", "record every configured camera until SIGTERM (SIGHUP reloads)", RunRecord},
    {"check", "validate the config; compare records with footage on disk [--hashes]", RunCheck},
    {"audit", "audit verify | checkpoint: check the access log's hash chain, sign its head",
     RunAudit},
    {"retain", "delete footage past its retention [--once | --dry-run | --report FROM TO]",
     RunRetain},
    {"serve", "serve the HTTPS API until SIGTERM", RunServe},
    {"user", "user add NAME --role ROLE [--camera ID]... | passwd | disable | enable NAME | list",
     RunUser},
    {"export", "export verify PATH | keygen | pubkey | build --request ID --user NAME | run | zip",
     RunExport},
    {"request", "request stats YYYY-MM | release-holds", RunRequest},
    {"redact",
     "redact IN OUT [--mode faces|keep-subject|keep-region] ...: masked copy + record | "
     "sign-off REDACTION --reviewer NAME --note TEXT --checked RANGE...",
     RunRedact},
    {"setup", "make missing data dirs, keys and the first admin [--admin NAME]", RunSetup},
    {"migrate", "apply pending records migrations; print the schema version", RunMigrate},
    {"backup", "backup DEST [--key-file FILE]: records, keys and config, encrypted", RunBackup},
    {"restore", "restore SRC [--key-file FILE] [--force] [--verify-only]", RunRestore},
    {"camera",
     "camera discover [--address HOST[:PORT]] [--username U --password-file F]: "
     "ONVIF cameras, their make, model, firmware and stream URLs",
     RunCamera},
};

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "usage: custodian [--config SITE.yaml] [--log-level debug|info|warn|error] VERB "
               "[ARGS]\n"
               "       custodian --version\n\n"
               "verbs:\n");
  for (const Verb& v : kVerbs) {
    if (v.name) std::fprintf(out, "  %-10s %s\n", v.name, v.summary);
  }
  std::fprintf(out, "\n--config defaults to /etc/custodian/site.yaml\n");
}

int Main(int argc, char** argv) {
  GlobalOptions opts;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--version") {
      std::printf("custodian %s (git %s)\n", CUSTODIAN_VERSION, CUSTODIAN_GIT_REVISION);
      return kExitOk;
    } else if (a == "--help" || a == "-h") {
      PrintUsage(stdout);
      return kExitOk;
    } else if (a == "--config" && i + 1 < argc) {
      opts.config_path = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      opts.config_path = a.substr(9);
    } else if (a == "--log-level" && i + 1 < argc) {
      LogLevel level;
      if (!ParseLogLevel(argv[++i], &level)) {
        std::fprintf(stderr, "custodian: unknown log level '%s'\n", argv[i]);
        return kExitUsage;
      }
      SetLogLevel(level);
      opts.log_level_given = true;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "custodian: unknown option '%s'\n", a.c_str());
      PrintUsage(stderr);
      return kExitUsage;
    } else {
      break;
    }
  }
  if (i >= argc) {
    PrintUsage(stderr);
    return kExitUsage;
  }
  std::string verb = argv[i];
  std::vector<std::string> args(argv + i + 1, argv + argc);
  for (const Verb& v : kVerbs) {
    if (v.name && verb == v.name) return v.run(opts, args);
  }
  std::fprintf(stderr, "custodian: unknown verb '%s'\n", verb.c_str());
  PrintUsage(stderr);
  return kExitUsage;
}

}  // namespace
}  // namespace custodian

int main(int argc, char** argv) { return custodian::Main(argc, argv); }
