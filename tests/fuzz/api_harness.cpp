#include "tests/fuzz/api_harness.h"

#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "api/passwords.h"

namespace custodian::fuzz {

using namespace custodian::api;

namespace {

constexpr char kPassword[] = "fuzzing-password-1";

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "fuzz harness setup failed: %s\n", what.c_str());
  std::abort();
}

std::string MakeDir() {
  struct stat st;
  std::string tmpl = (stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp") + std::string("/custodian-fuzz-XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp");
  return tmpl;
}

}  // namespace

ApiHarness& ApiHarness::Get() {
  static ApiHarness* harness = new ApiHarness();  // lives until exit, as libFuzzer expects
  static const std::string* dir = &harness->dir_;
  static const int registered = std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(*dir, ec);
  });
  (void)registered;
  return *harness;
}

ApiHarness::ApiHarness() : dir_(MakeDir()) {
  const Clock& clock = SystemClock::Instance();
  auto db = records::Database::Open(dir_ + "/records.db", clock);
  if (!db.ok()) Die(db.status().ToString());
  db_ = std::move(db).value();
  auto log_db = records::Database::Open(dir_ + "/records.db", clock);
  if (!log_db.ok()) Die(log_db.status().ToString());
  log_db_ = std::move(log_db).value();
  if (!db_->UpsertCamera({"lobby", "Lobby", {}}).ok()) Die("camera");
  auto hash = HashPassword(kPassword, PasswordCost::kTestMinimal);
  if (!hash.ok()) Die(hash.status().ToString());
  if (!db_->CreateUser({"fuzz-admin", records::Role::kAdmin, *hash, false}).ok()) Die("admin");
  if (!db_->CreateUser({"fuzz-dpo", records::Role::kDpo, *hash, false}).ok()) Die("dpo");
  // User 3 is the one the JSON target edits, so that the two sessions stay valid.
  if (!db_->CreateUser({"fuzz-staff", records::Role::kStaff, *hash, false}).ok()) Die("staff");
  ApiOptions options;
  options.data_dir = dir_;
  // Every input comes from one address on a clock that does not move: the per-address
  // limits would answer 429 to all but the first few and hide the handlers from the fuzzer.
  options.rate_limits.sign_in.burst = 1 << 30;
  options.rate_limits.no_session.burst = 1 << 30;
  // No sweeper thread: the clock does not move, so no viewing would ever end idle.
  options.viewing_sweep_interval_us = 0;
  api_ = std::make_unique<Api>(*db_, *log_db_, clock, options);
  admin_ = Login("fuzz-admin");
  dpo_ = Login("fuzz-dpo");
}

SignedIn ApiHarness::Login(const std::string& name) {
  HttpRequest r;
  r.method = Method::kPost;
  r.target = r.path = "/api/v1/auth/login";
  r.headers = {{"host", "127.0.0.1:8443"}, {"content-type", "application/json"}};
  r.body = nlohmann::json{{"name", name}, {"password", kPassword}}.dump();
  r.client = "127.0.0.1";
  r.client_is_loopback = true;
  HttpResponse resp = api_->Handle(r);
  const std::string* cookie = resp.FindHeader("set-cookie");
  if (resp.status != 200 || cookie == nullptr) Die("login of " + name + ": " + resp.body);
  SignedIn s;
  s.cookie = cookie->substr(0, cookie->find(';'));
  s.csrf = nlohmann::json::parse(resp.body).value("csrf_token", "");
  return s;
}

void ApiHarness::SignIn(HttpRequest& request, const SignedIn& who) {
  request.headers.emplace_back("cookie", who.cookie);
  request.headers.emplace_back("x-csrf-token", who.csrf);
  if (request.Header("host") == nullptr) request.headers.emplace_back("host", "127.0.0.1:8443");
  request.headers.emplace_back("origin", "https://" + *request.Header("host"));
}

}  // namespace custodian::fuzz
