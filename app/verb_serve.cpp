// `custodian serve`: the HTTPS API (api/) and its background work (jobs/worker.h:
// export jobs, and releasing the holds of closed requests every 10 minutes; and
// health/alarm_watcher.h: alarms raised, cleared and e-mailed) until SIGTERM
// or SIGINT, which stop it gracefully: no new connections, requests in progress finish (up
// to the server's shutdown deadline), an export being built finishes, then the process
// exits 0.
#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include "api/api.h"
#include "api/server.h"
#include "api/tls_cert.h"
#include "app/site_context.h"
#include "base/log.h"
#include "base/sd_notify.h"
#include "health/alarm_watcher.h"
#include "jobs/worker.h"
#include "version.h"

namespace custodian {

namespace {

constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;

// Configured cameras appear in the camera list before the recorder first runs.
Status RegisterCameras(SiteContext& ctx) {
  for (const auto& c : ctx.site.cameras) {
    CUSTODIAN_RETURN_IF_ERROR(
        ctx.db().UpsertCamera({c.id, c.name, {}, c.make, c.model, c.firmware}));
  }
  return Status::Ok();
}

jobs::JobWorkerOptions WorkerOptions(SiteContext& ctx) {
  jobs::JobWorkerOptions o;
  o.exports.data_dir = ctx.site.data_dir;
  o.exports.keys_dir = config::KeysDir(ctx.site);
  o.exports.site_name = ctx.site.site_name;
  o.exports.expiry_us = int64_t{ctx.site.retention.export_expiry_days} * kMicrosPerDay;
  o.exports.build.software_version = CUSTODIAN_VERSION;
  o.exports.build.software_revision = CUSTODIAN_GIT_REVISION;
  o.exports.worker = "serve-" + std::to_string(::getpid());
  return o;
}

// The alarm watcher's settings from the site file (docs/design/health.md).
Result<health::AlarmWatcherOptions> WatcherOptions(SiteContext& ctx) {
  const config::AlarmsConfig& a = ctx.site.alarms;
  health::AlarmWatcherOptions o;
  o.site_name = ctx.site.site_name;
  for (const auto& c : ctx.site.cameras) o.cameras.emplace_back(c.id, c.name.empty() ? c.id : c.name);
  o.policy.camera_offline_us = int64_t{a.camera_offline_seconds} * kMicrosPerSecond;
  o.policy.backup_overdue_us = int64_t{a.backup_overdue_days} * kMicrosPerDay;
  o.policy.dsar_warning_us = int64_t{a.dsar_warning_days} * kMicrosPerDay;
  o.policy.camera_clock_limit_us = int64_t{a.camera_clock_limit_seconds} * kMicrosPerSecond;
  o.policy.clock_sync_watched = a.clock_sync_watched;
  if (a.email.relay.empty()) return o;
  health::AlarmEmail email;
  size_t colon = a.email.relay.rfind(':');
  email.relay.host = a.email.relay.substr(0, colon);
  if (email.relay.host.size() > 2 && email.relay.host.front() == '[') {
    email.relay.host = email.relay.host.substr(1, email.relay.host.size() - 2);
  }
  email.relay.port = std::stoi(a.email.relay.substr(colon + 1));
  email.relay.security = a.email.security == "tls" ? health::SmtpRelay::Security::kTls
                                                   : health::SmtpRelay::Security::kStartTls;
  email.relay.ca_file = a.email.ca_file;
  email.relay.username = a.email.username;
  email.password_file = a.email.password_file;
  email.from = a.email.from;
  email.to = a.email.to;
  o.email = email;
  return o;
}

}  // namespace

int RunServe(const GlobalOptions& opts, const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::fprintf(stderr, "usage: custodian serve\n");
    return kExitUsage;
  }
  // Blocked before any thread starts, so that only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto opened = SiteContext::Open(opts);
  if (!opened.ok()) return ReportOpenError(opened.status());
  SiteContext& ctx = **opened;
  const config::HttpConfig& http = ctx.site.http;
  Status registered = RegisterCameras(ctx);
  if (!registered.ok()) {
    std::fprintf(stderr, "custodian: serve: %s\n", registered.ToString().c_str());
    return kExitFailure;
  }
  auto tls =
      api::EnsureTlsCertificate(config::KeysDir(ctx.site), http.tls_cert, http.tls_key, ctx.fs());
  if (!tls.ok()) {
    std::fprintf(stderr, "custodian: serve: %s\n", tls.status().ToString().c_str());
    return tls.status().kind() == ErrorKind::kInvalidArgument ? kExitConfig : kExitFailure;
  }

  // The access log gets a connection of its own so that its commits do not stall reads.
  auto access_log_db = records::Database::Open(config::RecordsDbPath(ctx.site), ctx.clock());
  if (!access_log_db.ok()) return ReportOpenError(access_log_db.status());

  api::ApiOptions api_options;
  api_options.data_dir = ctx.site.data_dir;
  api_options.site_name = ctx.site.site_name;
  api_options.web_root = http.web_root;
  api_options.site_config_path = ctx.site.path;
  api_options.filesystem = &ctx.fs();
  api_options.sessions.idle_timeout_us = http.session_idle_minutes * kMicrosPerMinute;
  api_options.sessions.absolute_timeout_us = http.session_absolute_hours * 60 * kMicrosPerMinute;
  if (http.test_only_viewing_idle_seconds > 0) {
    api_options.viewing_idle_timeout_us = http.test_only_viewing_idle_seconds * kMicrosPerSecond;
  }
  api_options.alarm_email = !ctx.site.alarms.email.relay.empty();
  api::Api api(ctx.db(), **access_log_db, ctx.clock(), api_options);

  api::ServerOptions server_options;
  server_options.listen = http.listen;
  server_options.cert_path = tls->cert_path;
  server_options.key_path = tls->key_path;
  server_options.filesystem = &ctx.fs();
  auto server = api::Server::Start(api, server_options);
  if (!server.ok()) {
    std::fprintf(stderr, "custodian: serve: %s\n", server.status().ToString().c_str());
    return kExitFailure;
  }
  // The worker's own connection: job progress commits then never wait behind API reads.
  auto worker_db = records::Database::Open(config::RecordsDbPath(ctx.site), ctx.clock());
  if (!worker_db.ok()) return ReportOpenError(worker_db.status());
  auto worker = jobs::JobWorker::Start(**worker_db, ctx.fs(), ctx.clock(), WorkerOptions(ctx));
  if (!worker.ok()) {
    std::fprintf(stderr, "custodian: serve: %s\n", worker.status().ToString().c_str());
    (*server)->Stop();
    return kExitFailure;
  }
  // The alarm watcher's own connection, like the worker's.
  auto alarms_db = records::Database::Open(config::RecordsDbPath(ctx.site), ctx.clock());
  if (!alarms_db.ok()) return ReportOpenError(alarms_db.status());
  auto watcher_options = WatcherOptions(ctx);
  auto watcher = watcher_options.ok()
                     ? health::AlarmWatcher::Start(**alarms_db, ctx.clock(), *watcher_options)
                     : Result<std::unique_ptr<health::AlarmWatcher>>(watcher_options.status());
  if (!watcher.ok()) {
    std::fprintf(stderr, "custodian: serve: %s\n", watcher.status().ToString().c_str());
    (*server)->Stop();
    (*worker)->Stop();
    return kExitFailure;
  }
  LogInfo("serve") << "API at https://" << http.listen << "/api/v1; export worker running; "
                   << "SIGTERM stops";

  NotifyReady("serve");  // systemd's watchdog (WatchdogSec) expects a ping every few seconds
  const timespec watchdog_every{5, 0};
  int sig;
  while ((sig = sigtimedwait(&stop_signals, nullptr, &watchdog_every)) < 0) {
    NotifyWatchdog("serve");
  }
  NotifyStopping("serve");
  LogInfo("serve") << "signal " << sig
                   << ": finishing requests and any export in progress, then stopping";
  (*server)->Stop();
  (*worker)->Stop();
  (*watcher)->Stop();
  return kExitOk;
}

}  // namespace custodian
