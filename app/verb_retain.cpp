// `custodian retain`: the retention scheduler (docs/design/retention.md).
//   retain                 runs a pass at once, then every minute, and at once when the
//                          recorder raises low_space; until SIGTERM (SIGHUP reloads).
//                          Writes the day's signed access-log checkpoint (see
//                          app/access_checkpoint.h) in its first turn and when the date
//                          changes
//   retain --once          runs one pass and prints its plan and outcome
//   retain --dry-run       prints the plan of a pass; deletes and writes nothing
//   retain --report FROM TO  prints the deletion records made in [FROM, TO), UTC times
//                          as 2026-01-31T00:00:00Z or dates as 2026-01-31
// Passes that delete take <data_dir>/retention.lock, so that a `--once` never runs beside
// the service. Exit codes: 0 ok; 1 a pass failed, or left files it could not delete
// (retried by the next pass); 2 usage; 3 bad config.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>

#include "app/access_checkpoint.h"
#include "app/site_context.h"
#include "base/log.h"
#include "base/sd_notify.h"
#include "base/time.h"
#include "recorder/recorder_service.h"
#include "retention/pass.h"
#include "retention/report.h"
#include "retention/scheduler.h"

namespace custodian {

namespace {

constexpr char kUsage[] =
    "usage: custodian retain [--once | --dry-run | --report FROM TO]\n"
    "  FROM and TO are UTC: 2026-01-31T00:00:00Z, or a date 2026-01-31 for its midnight\n";

enum class Mode { kService, kOnce, kDryRun, kReport };

struct RetainArgs {
  Mode mode = Mode::kService;
  UtcMicros from, to;
};

bool ParseTime(const std::string& text, UtcMicros* out) {
  return ParseUtc(text, out) || (text.size() == 10 && ParseUtc(text + "T00:00:00Z", out));
}

bool ParseArgs(const std::vector<std::string>& args, RetainArgs* out) {
  if (args.empty()) return true;
  if (args.size() == 1 && args[0] == "--once") {
    out->mode = Mode::kOnce;
    return true;
  }
  if (args.size() == 1 && args[0] == "--dry-run") {
    out->mode = Mode::kDryRun;
    return true;
  }
  if (args.size() == 3 && args[0] == "--report") {
    out->mode = Mode::kReport;
    return ParseTime(args[1], &out->from) && ParseTime(args[2], &out->to) && out->from < out->to;
  }
  return false;
}

// Holds an exclusive flock on the file for the life of the process; -1 if another has it.
int TakeLock(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int PrintReport(SiteContext& ctx, const RetainArgs& a) {
  auto rows = ctx.db().ListDeletions(a.from, a.to);
  if (!rows.ok()) {
    std::fprintf(stderr, "custodian: %s\n", rows.status().ToString().c_str());
    return kExitFailure;
  }
  std::fputs(retention::FormatDeletions(*rows).c_str(), stdout);
  return kExitOk;
}

int RunOnePass(SiteContext& ctx, bool dry_run) {
  retention::PassOptions options;
  options.dry_run = dry_run;
  auto report = retention::RunRetentionPass(ctx.db(), ctx.fs(), ctx.clock(),
                                            retention::SettingsFromSite(ctx.site), options);
  if (!report.ok()) {
    std::fprintf(stderr, "custodian: retention pass failed: %s\n",
                 report.status().ToString().c_str());
    return kExitFailure;
  }
  std::fputs(retention::FormatPlan(*report).c_str(), stdout);
  if (dry_run) return kExitOk;
  std::printf("%s\n", retention::SummaryLine(*report).c_str());
  for (const std::string& f : report->execution.failures) std::printf("FAILED: %s\n", f.c_str());
  return report->execution.failures.empty() ? kExitOk : kExitFailure;
}

// The day's signed checkpoint of the access log's head, once per UTC date: written in the
// service's first turn (after it reports ready: verifying a long chain takes a while),
// before its first watchdog ping, and then whenever the date changes. A failure is logged
// once a day and retried the next.
void DailyCheckpoint(SiteContext& ctx, std::string* last_date) {
  const std::string today = FormatUtcDate(ctx.clock().Now());
  if (today == *last_date) return;
  *last_date = today;
  auto written = WriteDailyCheckpoint(ctx);
  if (!written.ok()) {
    LogError("retention") << "no access-log checkpoint today: " << written.status().message();
  } else if (!written->empty()) {
    LogInfo("retention") << "access-log checkpoint written: " << *written;
  }
}

int RunService(SiteContext& ctx, const std::string& config_path) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  retention::RetentionScheduler scheduler(ctx.db(), ctx.fs(), ctx.clock(),
                                          retention::SettingsFromSite(ctx.site));
  LogInfo("retention") << "retention scheduler started for " << ctx.site.data_dir
                       << "; a pass every minute, and at once on low space";
  std::string checkpoint_date;
  NotifyReady("retention");
  const int64_t poll_us = scheduler.options().alarm_poll_us;
  const timespec wait{static_cast<time_t>(poll_us / kMicrosPerSecond),
                      static_cast<long>(poll_us % kMicrosPerSecond * 1000)};
  // Camera files changed in cameras_dir (by the web UI) reload like SIGHUP, so that a
  // camera's new retention period is applied or scheduled without a signal.
  recorder::CamerasDirWatch cameras_dir(ctx.site.cameras_dir);
  for (;;) {
    (void)scheduler.Tick();  // a failed pass is logged and retried at the next interval
    DailyCheckpoint(ctx, &checkpoint_date);
    NotifyWatchdog("retention");
    int sig = sigtimedwait(&set, nullptr, &wait);
    if (sig == SIGTERM || sig == SIGINT) break;
    if (sig != SIGHUP && !cameras_dir.Changed()) continue;
    auto site = config::LoadSiteConfig(config_path);
    if (!site.ok()) {
      LogError("retention") << "reload refused, keeping the running config: "
                            << site.status().message();
      continue;
    }
    if (site->cameras_dir != ctx.site.cameras_dir) cameras_dir.Reset(site->cameras_dir);
    ctx.site = *site;
    scheduler.set_settings(retention::SettingsFromSite(ctx.site));
    LogInfo("retention") << "config reloaded";
  }
  NotifyStopping("retention");
  LogInfo("retention") << "retention scheduler stopped";
  return kExitOk;
}

}  // namespace

int RunRetain(const GlobalOptions& opts, const std::vector<std::string>& args) {
  RetainArgs a;
  if (!ParseArgs(args, &a)) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  auto ctx = SiteContext::Open(opts);
  if (!ctx.ok()) return ReportOpenError(ctx.status());
  if (a.mode == Mode::kReport) return PrintReport(**ctx, a);
  if (a.mode == Mode::kDryRun) return RunOnePass(**ctx, /*dry_run=*/true);

  const std::string lock_path = JoinPath((*ctx)->site.data_dir, "retention.lock");
  const int lock = TakeLock(lock_path);
  if (lock < 0) {
    std::fprintf(stderr,
                 "custodian: another retention pass holds %s (is the retain service "
                 "running?); not starting a second one\n",
                 lock_path.c_str());
    return kExitFailure;
  }
  const int rc = a.mode == Mode::kOnce ? RunOnePass(**ctx, /*dry_run=*/false)
                                       : RunService(**ctx, opts.config_path);
  ::close(lock);
  return rc;
}

}  // namespace custodian
