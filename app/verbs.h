// The custodian command line: `custodian [--config SITE.yaml] [--log-level L] VERB [ARGS]`.
// Each verb is a function from its arguments to an exit code; they are listed in one table
// in main.cpp. A verb that is not built does not exist.
#pragma once

#include <string>
#include <vector>

namespace custodian {

struct GlobalOptions {
  std::string config_path = "/etc/custodian/site.yaml";
  bool log_level_given = false;  // --log-level beats the site file's log_level
};

// Exit codes shared by all verbs.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;   // the verb ran and found a problem (check, verify)
constexpr int kExitUsage = 2;     // bad command line
constexpr int kExitConfig = 3;    // the site configuration is invalid

using VerbFn = int (*)(const GlobalOptions&, const std::vector<std::string>& args);

struct Verb {
  const char* name;
  const char* summary;
  VerbFn run;
};

int RunRecord(const GlobalOptions&, const std::vector<std::string>&);
int RunCheck(const GlobalOptions&, const std::vector<std::string>&);
int RunAudit(const GlobalOptions&, const std::vector<std::string>&);
int RunRetain(const GlobalOptions&, const std::vector<std::string>&);
int RunServe(const GlobalOptions&, const std::vector<std::string>&);
int RunUser(const GlobalOptions&, const std::vector<std::string>&);
int RunExport(const GlobalOptions&, const std::vector<std::string>&);
int RunRequest(const GlobalOptions&, const std::vector<std::string>&);
int RunRedact(const GlobalOptions&, const std::vector<std::string>&);
int RunSetup(const GlobalOptions&, const std::vector<std::string>&);
int RunMigrate(const GlobalOptions&, const std::vector<std::string>&);
int RunBackup(const GlobalOptions&, const std::vector<std::string>&);
int RunRestore(const GlobalOptions&, const std::vector<std::string>&);
int RunCamera(const GlobalOptions&, const std::vector<std::string>&);

}  // namespace custodian
