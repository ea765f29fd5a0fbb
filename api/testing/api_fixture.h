// ApiServerFixture: a real server on 127.0.0.1:0 over a temporary data_dir, for the
// server tests. The records use a ManualClock, so tests move time to expire sessions and
// locks. Accounts are made through the records API with the cheapest Argon2id cost.
//
// Footage: a 4-second fragmented MP4 clip (320x240, 25 fps, a keyframe a second) is made
// once per build with the ffmpeg CLI and copied for every segment row a test adds.
#pragma once

#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/api.h"
#include "api/server.h"
#include "api/testing/https_client.h"
#include "base/clock.h"
#include "base/filesystem.h"
#include "records/database.h"

namespace custodian::api::testing {

// 2026-01-01T00:00:00Z: footage in the tests starts here; the clock starts an hour later.
inline constexpr UtcMicros kFootageT0{1767225600LL * kMicrosPerSecond};
inline constexpr int64_t kSecond = kMicrosPerSecond;

struct SignedIn {
  std::string name;
  std::string cookie;  // "__Host-custodian_session=..."
  std::string csrf;
};

struct FixtureOptions {
  int busy_timeout_ms = 5000;
  int failed_login_delay_ms = 0;
  std::string site_config_path;  // ApiOptions::site_config_path (camera administration)
  // Per-address limits; unset: so high that no test meets them by accident.
  std::optional<RateLimits> rate_limits;
  int handler_threads = 8;
  int password_threads = 2;
  std::function<void()> password_check_hook;  // SessionPolicy::password_check_hook
  // Idle viewings end when a test calls api().EndIdleViewings() after moving the clock,
  // not on a sweeper's real-time schedule (ApiOptions::viewing_sweep_interval_us).
  int64_t viewing_sweep_interval_us = 0;
  // ApiOptions::filesystem: the seam for the files the API writes and reads (not owned).
  Filesystem* filesystem = nullptr;
};

class ApiServerFixture {
 public:
  explicit ApiServerFixture(FixtureOptions options = {});
  ~ApiServerFixture();

  ManualClock clock{kFootageT0 + 3600 * kSecond};
  records::Database& db() { return *db_; }
  Api& api() { return *api_; }
  Server& server() { return *server_; }
  // Stops the server and destroys the Api as `custodian serve` does on SIGTERM; the
  // records stay open for the test to read.
  void StopServer();
  const std::string& data_dir() const { return data_dir_; }
  const std::string& cert_path() const { return cert_path_; }

  // Creates an account with password PasswordOf(name) and the given cameras.
  int64_t AddUser(const std::string& name, records::Role role,
                  const std::vector<std::string>& cameras = {}, bool must_change = false);
  static std::string PasswordOf(const std::string& name) { return name + "-correct-horse"; }
  SignedIn Login(const std::string& name);

  // A request as a browser on this origin would make it: the session cookie, and for
  // state-changing methods the CSRF token.
  ClientResponse Call(const std::string& method, const std::string& target,
                      const std::optional<SignedIn>& who = std::nullopt,
                      const std::string& body = "", Headers extra = {});
  ClientResponse Get(const std::string& target, const std::optional<SignedIn>& who = std::nullopt,
                     Headers extra = {}) {
    return Call("GET", target, who, "", std::move(extra));
  }
  HttpsClient& client() { return *client_; }

  // A complete segment of the test clip; returns its id.
  int64_t AddSegment(const std::string& camera, UtcMicros start);
  std::string SegmentFilePath(int64_t segment_id);
  // Every access-log entry, oldest first.
  std::vector<records::AccessEntry> AccessLog();
  records::AccessEntry LastAccess();

 private:
  std::string dir_;
  std::string data_dir_;
  std::string cert_path_;
  std::unique_ptr<records::Database> db_;
  std::unique_ptr<records::Database> access_log_db_;  // the API's second connection
  std::unique_ptr<Api> api_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<HttpsClient> client_;
};

// A DSAR of door-1 over [from, to) logged and verified by `logger`, approved by `decider`
// (both managers with door-1), over HTTP; returns the request's path.
std::string ApprovedDsar(ApiServerFixture& f, const SignedIn& logger, const SignedIn& decider,
                         UtcMicros from, UtcMicros to);

// "2026-01-01T00:00:04Z" for kFootageT0 + 4 s, for query strings.
std::string At(UtcMicros t);
// A fixed purpose as query parameters: "purpose=incident_review&purpose_text=...".
std::string PurposeParams();
inline constexpr char kPurposeText[] = "fight reported at the front door";

}  // namespace custodian::api::testing
