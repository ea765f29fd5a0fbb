// AlarmWatcher: raises and clears the alarms the site's state calls for, and e-mails every
// raised alarm through the site's SMTP relay (docs/design/health.md).
//
// One thread, started by `custodian serve` on a records connection of its own. Every
// interval it gathers the facts (camera status, each camera's clock offset last measured
// in the past day, the clock, the last backup, open subject access requests, and every
// access_log_interval the access log's chain), applies
// alarm_check.h's decision, then sends the e-mails not yet sent, oldest first. An alarm is
// marked notified only after the relay accepted its message, so a relay that is down
// delays mail (retried with a back-off up to 5 minutes) and loses none. Alarms raised more
// than a day before the watcher starts are not mailed (a relay configured for the first
// time does not send a site's history).
//
// Logs say which alarm was mailed (its id and kind) or why sending failed; never a
// password, never an address list.
#pragma once

#include <condition_variable>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/filesystem.h"
#include "base/mutex.h"
#include "base/status.h"
#include "health/alarm_check.h"
#include "health/smtp.h"
#include "records/database.h"

namespace custodian::health {

struct AlarmEmail {
  SmtpRelay relay;             // relay.password is read from password_file at each send
  std::string password_file;   // empty: no password
  std::string from;
  std::vector<std::string> to;
};

struct AlarmWatcherOptions {
  std::string site_name;
  std::vector<std::pair<std::string, std::string>> cameras;  // id, name (configured)
  AlarmPolicy policy;
  std::optional<AlarmEmail> email;
  int64_t interval_us = 5 * kMicrosPerSecond;
  int64_t access_log_interval_us = 3600 * kMicrosPerSecond;
  // The SMTP password file is read through this (the process's PosixFilesystem when null);
  // when it cannot be read nothing is sent that round and the alarms stay to be e-mailed.
  Filesystem* fs = nullptr;
};

class AlarmWatcher {
 public:
  static Result<std::unique_ptr<AlarmWatcher>> Start(records::Database& db, const Clock& clock,
                                                     AlarmWatcherOptions options);
  ~AlarmWatcher();
  AlarmWatcher(const AlarmWatcher&) = delete;
  AlarmWatcher& operator=(const AlarmWatcher&) = delete;

  // Stops the thread after its current round (a send in progress finishes or times out).
  void Stop();

  // The mail for one alarm, as sent (for tests and the documentation).
  static Mail MailFor(const AlarmWatcherOptions& options, const records::AlarmRow& alarm);

 private:
  AlarmWatcher(records::Database& db, const Clock& clock, AlarmWatcherOptions options);
  void Run();
  Status Check();
  void Notify();

  records::Database& db_;
  const Clock& clock_;
  const AlarmWatcherOptions options_;
  const UtcMicros started_;
  std::optional<MonoMicros> last_access_log_check_;
  MonoMicros next_send_{0};
  int64_t send_backoff_us_ = 0;

  Mutex mu_;
  std::condition_variable wake_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace custodian::health
