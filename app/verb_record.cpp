// `custodian record`: the recorder service. Records every configured camera until SIGTERM
// or SIGINT; SIGHUP reloads the site file (a bad file is reported and the running config
// kept). Before any camera starts, recovery finishes what a crash left behind.
#include <signal.h>

#include <cstdio>

#include "app/site_context.h"
#include "base/log.h"
#include "base/sd_notify.h"
#include "recorder/recorder_service.h"
#include "recorder/recovery.h"

namespace custodian {

namespace {

// Checks free space and raises or clears the `low_space` alarm that the retention
// scheduler watches, so that it frees space before the disk fills.
void CheckSpace(SiteContext& ctx) {
  auto space = ctx.fs().Space(ctx.site.data_dir);
  if (!space.ok()) return;
  double free_pct = 100.0 * (1.0 - space->UsedFraction());
  if (free_pct < ctx.site.recorder.low_space_percent) {
    auto raised = ctx.db().RaiseAlarm("low_space", "free space " + std::to_string(static_cast<int>(free_pct)) + "%");
    (void)raised;
  } else {
    (void)ctx.db().ClearAlarm("low_space");
  }
}

}  // namespace

int RunRecord(const GlobalOptions& opts, const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::fprintf(stderr, "usage: custodian record\n");
    return kExitUsage;
  }
  // Signals are taken synchronously by this thread; camera threads inherit the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  auto opened = SiteContext::Open(opts);
  if (!opened.ok()) return ReportOpenError(opened.status());
  SiteContext* ctx = opened->get();

  Status registered = recorder::RegisterCameras(ctx->db(), ctx->site);
  if (!registered.ok()) {
    LogError("recorder") << "cameras not registered in the records: " << registered.ToString();
    return kExitFailure;
  }
  recorder::RecoveryOptions recovery;
  recovery.activity_index = ctx->site.recorder.activity_index;
  auto report = recorder::RecoverFootage(ctx->db(), ctx->fs(), ctx->site.data_dir, recovery);
  if (!report.ok()) {
    LogError("recorder") << "recovery failed: " << report.status().ToString() << "; not recording";
    return kExitFailure;
  }
  auto cameras = recorder::CameraSettingsFromConfig(ctx->site);
  if (!cameras.ok()) {
    std::fprintf(stderr, "custodian: %s\n", cameras.status().message().c_str());
    return kExitConfig;
  }
  recorder::RecorderService service(ctx->db(), ctx->fs(), ctx->clock(), ctx->site.data_dir);
  service.Apply(*cameras);
  LogInfo("recorder") << "recording " << service.size() << " camera(s) into " << ctx->site.data_dir;
  NotifyReady("recorder");

  // Camera files added or changed in cameras_dir (by the web UI) reload like SIGHUP.
  recorder::CamerasDirWatch cameras_dir(ctx->site.cameras_dir);
  timespec check_every{2, 0};
  for (int tick = 0;; ++tick) {
    if (tick % 5 == 0) CheckSpace(*ctx);
    NotifyWatchdog("recorder");
    int sig = sigtimedwait(&set, nullptr, &check_every);
    if (sig == SIGTERM || sig == SIGINT) break;
    if (sig != SIGHUP) {
      if (!cameras_dir.Changed()) continue;
      LogInfo("recorder") << "camera files changed in cameras_dir; reloading the config";
    }
    auto site = config::LoadSiteConfig(opts.config_path);
    if (!site.ok()) {
      LogError("recorder") << "reload refused, keeping the running config: " << site.status().message();
      continue;
    }
    auto next = recorder::CameraSettingsFromConfig(*site);
    if (!next.ok()) {
      LogError("recorder") << "reload refused, keeping the running config: " << next.status().message();
      continue;
    }
    Status st = recorder::RegisterCameras(ctx->db(), *site);
    if (!st.ok()) LogError("recorder") << "reload: cameras not registered: " << st.ToString();
    if (site->cameras_dir != ctx->site.cameras_dir) cameras_dir.Reset(site->cameras_dir);
    ctx->site = *site;
    service.Apply(*next);
    LogInfo("recorder") << "config reloaded: " << service.size() << " camera(s)";
  }
  NotifyStopping("recorder");
  LogInfo("recorder") << "stopping: closing segments";
  service.Stop();
  LogInfo("recorder") << "stopped cleanly";
  return kExitOk;
}

}  // namespace custodian
