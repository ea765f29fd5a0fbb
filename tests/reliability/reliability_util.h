// Shared pieces of the fault and load suite (docs/design/reliability.md): a site file with
// the extra settings these tests need, any `custodian` verb as a child process, and the
// figures each test prints for the report.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/clock.h"
#include "records/database.h"
#include "tests/reliability/figures.h"
#include "tests/recorder/recorder_harness.h"

namespace custodian::testing {

// Writes SITE/site.yaml for `cameras` with `extra` YAML appended (top-level keys such as
// "retention: {...}"); recorder settings as given.
void WriteReliabilitySite(const TestSite& site, const std::vector<TestCamera>& cameras,
                          int segment_seconds, const std::string& extra = "",
                          int low_space_percent = 10);

// `custodian --config SITE VERB ARGS...`, stdout and stderr appended to `log`.
class CustodianProcess {
 public:
  CustodianProcess(const std::string& config, const std::vector<std::string>& verb_args,
                   const std::string& log);
  ~CustodianProcess();
  CustodianProcess(const CustodianProcess&) = delete;
  CustodianProcess& operator=(const CustodianProcess&) = delete;
  int Stop();   // StopChild: SIGTERM, bounded wait, SIGKILL; exit status (128+signal)
  void Kill();  // SIGKILL, wait
  bool Running();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// Number of fault rounds: `default_rounds`, or CUSTODIAN_RELIABILITY_ROUNDS when set.
int Rounds(int default_rounds);

void SleepMs(int ms);

// The end of the last footage of `camera` that started before `t` (complete segments only).
std::optional<UtcMicros> LastEndBefore(records::Database& db, const std::string& camera, UtcMicros t);

}  // namespace custodian::testing
