// Api: the REST API as a function from HttpRequest to HttpResponse.
//
// Handle() routes the request through the route table (routes.h), resolves the session,
// applies the CSRF checks and the route's role rule, refuses (and logs) what is not
// allowed, runs the route's handler and adds the security headers. It never throws and
// never blocks on the network; it does block on the records (and on the access log's
// group commit), so the server calls it from a pool of handler threads, not from the
// threads that run the sockets.
//
// Handlers live in handlers_*.cpp, one function per route; see handlers.h.
// Thread-safe: many threads may call Handle() at once.
//
// Footage is logged as viewings (viewings.h). Constructing an Api ends the viewings a
// crashed predecessor left open; it runs one thread, the sweeper, which ends idle viewings;
// destroying it ends every open viewing, so destroy it after the server has stopped (no
// Handle() call in progress).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "api/http.h"
#include "api/rate_limit.h"
#include "api/sessions.h"
#include "base/clock.h"
#include "base/filesystem.h"
#include "records/database.h"

namespace custodian::api {

class AccessLogWriter;
class Metrics;
class ViewingLog;
struct ApiContext;

struct ApiOptions {
  std::string data_dir;  // absolute; segment rows' paths are relative to it
  std::string site_name;  // named in signed access-log checkpoints
  SessionPolicy sessions;
  std::string web_root;  // the web UI's files (absolute); empty or missing: no UI, 404
  // The site file, for camera administration (its cameras_dir); empty: cameras are
  // read-only through the API (409).
  std::string site_config_path;
  // Per-address limits on sign-ins and on requests without a session (429 beyond them),
  // and how refusals without a session are logged (rate_limit.h).
  RateLimits rate_limits;
  // A viewing of footage ends after this long without a request (viewings.h).
  int64_t viewing_idle_timeout_us = 120 * kMicrosPerSecond;
  // How often idle viewings are looked for; 0: only when a footage request comes or
  // EndIdleViewings is called (tests that move a manual clock).
  int64_t viewing_sweep_interval_us = 5 * kMicrosPerSecond;
  // Whether alarms are e-mailed (alarms.email in the site file); the health page says so.
  bool alarm_email = false;
  // The files the API writes and the whole files it reads (a sign-off's manifest, a copy
  // for removable media) go through this seam; nullptr: PosixFilesystem. Not owned.
  Filesystem* filesystem = nullptr;
};

class Api {
 public:
  // access_log_db is a second connection to the same records.db, used only to append to
  // the access log: its commits (an fsync each) then never hold up the reads that every
  // request makes on db. Passing the same Database for both works, with less throughput.
  Api(records::Database& db, records::Database& access_log_db, const Clock& clock,
      ApiOptions options);
  Api(records::Database& db, const Clock& clock, ApiOptions options)
      : Api(db, db, clock, std::move(options)) {}
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  HttpResponse Handle(const HttpRequest& request);

  Metrics& metrics();
  AccessLogWriter& access_log();
  SessionService& sessions();
  ViewingLog& viewings();
  // Ends the viewings idle past their timeout now; the sweeper does this every
  // viewing_sweep_interval_us. Returns how many ended.
  int EndIdleViewings();

 private:
  void Sweep(std::stop_token stop);

  std::unique_ptr<ApiContext> ctx_;
  std::mutex sweep_mu_;
  std::condition_variable_any sweep_wake_;
  std::jthread sweeper_;  // last: stopped and joined first
};

}  // namespace custodian::api
