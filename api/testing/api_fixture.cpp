#include "api/testing/api_fixture.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "api/passwords.h"
#include "api/tls_cert.h"
#include "base/sha256.h"

namespace custodian::api::testing {

namespace fs = std::filesystem;

namespace {

// Made once per build directory; concurrent test processes race harmlessly to rename.
const std::string& TestClip() {
  static const std::string path = [] {
    const std::string out = std::string(CUSTODIAN_BINARY_DIR) + "/api-test-clip.mp4";
    if (fs::exists(out)) return out;
    const std::string tmp = out + "." + std::to_string(::getpid()) + ".mp4";
    const std::string cmd =
        std::string(CUSTODIAN_FFMPEG_CLI) +
        " -nostdin -v error -y -f lavfi -i testsrc=size=320x240:rate=25 -t 4 -c:v libx264 "
        "-preset ultrafast -pix_fmt yuv420p -g 25 "
        "-movflags frag_keyframe+empty_moov+default_base_moof '" +
        tmp + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
    fs::rename(tmp, out);
    return out;
  }();
  return path;
}

}  // namespace

std::string At(UtcMicros t) { return FormatUtc(t); }

std::string ApprovedDsar(ApiServerFixture& f, const SignedIn& logger, const SignedIn& decider,
                         UtcMicros from, UtcMicros to) {
  auto logged = f.Call(
      "POST", "/api/v1/requests", logger,
      nlohmann::json{{"type", "dsar"},
                     {"requester_name", "A. Subject"},
                     {"contact", "by post"},
                     {"legal_basis", "right_of_access"},
                     {"description", "me at the front door"},
                     {"ranges", {{{"camera", "door-1"}, {"from", At(from)}, {"to", At(to)}}}}}
          .dump());
  INFO(logged.body);
  REQUIRE(logged.status == 201);
  const std::string path =
      "/api/v1/requests/" + std::to_string(nlohmann::json::parse(logged.body)["id"].get<int64_t>());
  for (const char* step : {"received_in_writing", "identity_documents_seen"}) {
    auto v = f.Call("POST", path + "/verifications", logger,
                    nlohmann::json{{"step", step}, {"note", "checked"}}.dump());
    INFO(v.body);
    REQUIRE(v.status == 204);
  }
  REQUIRE(f.Call("POST", path + "/submit", logger).status == 204);
  auto decided = f.Call("POST", path + "/decision", decider,
                        nlohmann::json{{"approve", true}, {"reason", "identity checked"}}.dump());
  INFO(decided.body);
  REQUIRE(decided.status == 204);
  return path;
}

std::string PurposeParams() {
  return "purpose=incident_review&purpose_text=fight%20reported%20at%20the%20front%20door";
}

ApiServerFixture::ApiServerFixture(FixtureOptions options) {
  std::string tmpl = (fs::temp_directory_path() / "api-test-XXXXXX").string();
  REQUIRE(mkdtemp(tmpl.data()) != nullptr);
  dir_ = tmpl;
  data_dir_ = dir_ + "/data";
  fs::create_directories(data_dir_ + "/footage");

  records::OpenOptions open;
  open.busy_timeout_ms = options.busy_timeout_ms;
  auto db = records::Database::Open(data_dir_ + "/records.db", clock, open);
  REQUIRE(db.ok());
  db_ = std::move(db).value();
  auto log_db = records::Database::Open(data_dir_ + "/records.db", clock, open);
  REQUIRE(log_db.ok());
  access_log_db_ = std::move(log_db).value();
  REQUIRE(db_->UpsertCamera({"door-1", "Front door", {}}).ok());
  REQUIRE(db_->UpsertCamera({"yard", "Yard", {}}).ok());

  ApiOptions api_options;
  api_options.data_dir = data_dir_;
  api_options.sessions.password_cost = PasswordCost::kTestMinimal;
  api_options.sessions.failed_login_delay_ms = options.failed_login_delay_ms;
  api_options.site_config_path = options.site_config_path;
  api_options.sessions.password_check_hook = options.password_check_hook;
  if (options.rate_limits) {
    api_options.rate_limits = *options.rate_limits;
  } else {
    api_options.rate_limits.sign_in.burst = 1'000'000;
    api_options.rate_limits.no_session.burst = 1'000'000;
  }
  api_options.viewing_sweep_interval_us = options.viewing_sweep_interval_us;
  api_options.filesystem = options.filesystem;
  api_ = std::make_unique<Api>(*db_, *access_log_db_, clock, api_options);

  auto tls = EnsureTlsCertificate(data_dir_ + "/keys", "", "");
  REQUIRE(tls.ok());
  cert_path_ = tls->cert_path;
  ServerOptions server_options;
  server_options.listen = "127.0.0.1:0";
  server_options.cert_path = tls->cert_path;
  server_options.key_path = tls->key_path;
  server_options.io_threads = 2;
  server_options.handler_threads = options.handler_threads;
  server_options.password_threads = options.password_threads;
  server_options.limits.shutdown_deadline_ms = 2000;
  auto server = Server::Start(*api_, server_options);
  REQUIRE(server.ok());
  server_ = std::move(server).value();
  client_ = std::make_unique<HttpsClient>(server_->port(), cert_path_);
}

void ApiServerFixture::StopServer() {
  client_.reset();
  server_.reset();
  api_.reset();
}

ApiServerFixture::~ApiServerFixture() {
  client_.reset();
  server_.reset();
  api_.reset();
  access_log_db_.reset();
  db_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

int64_t ApiServerFixture::AddUser(const std::string& name, records::Role role,
                                  const std::vector<std::string>& cameras, bool must_change) {
  auto hash = HashPassword(PasswordOf(name), PasswordCost::kTestMinimal);
  REQUIRE(hash.ok());
  auto id = db_->CreateUser({name, role, *hash, must_change});
  REQUIRE(id.ok());
  for (const auto& c : cameras) REQUIRE(db_->GrantCamera(*id, c).ok());
  return *id;
}

SignedIn ApiServerFixture::Login(const std::string& name) {
  nlohmann::json body = {{"name", name}, {"password", PasswordOf(name)}};
  ClientResponse r = Call("POST", "/api/v1/auth/login", std::nullopt, body.dump());
  INFO(r.body);
  REQUIRE(r.status == 200);
  std::string set_cookie = r.Header("set-cookie");
  SignedIn s;
  s.name = name;
  s.cookie = set_cookie.substr(0, set_cookie.find(';'));
  s.csrf = nlohmann::json::parse(r.body)["csrf_token"];
  return s;
}

ClientResponse ApiServerFixture::Call(const std::string& method, const std::string& target,
                                      const std::optional<SignedIn>& who, const std::string& body,
                                      Headers extra) {
  Headers h = std::move(extra);
  if (who) {
    h.emplace_back("Cookie", who->cookie);
    if (method != "GET") h.emplace_back("X-CSRF-Token", who->csrf);
  }
  if (!body.empty()) h.emplace_back("Content-Type", "application/json");
  return client_->Send(method, target, h, body);
}

int64_t ApiServerFixture::AddSegment(const std::string& camera, UtcMicros start) {
  const std::string rel =
      "footage/" + camera + "/" + FormatUtcDate(start) + "/" + FormatUtcCompact(start) + ".mp4";
  fs::create_directories(fs::path(data_dir_ + "/" + rel).parent_path());
  fs::copy_file(TestClip(), data_dir_ + "/" + rel, fs::copy_options::overwrite_existing);
  records::SegmentRow row;
  row.camera_id = camera;
  row.start = start;
  row.path = rel;
  row.video_codec = "h264";
  row.width = 320;
  row.height = 240;
  row.clock_synced = true;
  auto id = db_->BeginSegment(row);
  REQUIRE(id.ok());
  auto sha = Sha256File(data_dir_ + "/" + rel);
  REQUIRE(sha.ok());
  records::SegmentFinish fin;
  fin.end = start + 4 * kSecond;
  fin.bytes = static_cast<int64_t>(fs::file_size(data_dir_ + "/" + rel));
  fin.duration_us = 4 * kSecond;
  fin.sha256 = *sha;
  fin.video_codec = "h264";
  fin.width = 320;
  fin.height = 240;
  fin.audio_note = "test clip has no audio";
  REQUIRE(db_->FinishSegment(*id, fin).ok());
  return *id;
}

std::string ApiServerFixture::SegmentFilePath(int64_t id) {
  auto s = db_->GetSegment(id);
  REQUIRE(s.ok());
  REQUIRE(*s);
  return data_dir_ + "/" + (*s)->path;
}

std::vector<records::AccessEntry> ApiServerFixture::AccessLog() {
  records::AccessFilter f;
  f.limit = 100000;
  f.newest_first = false;
  auto rows = db_->QueryAccess(f);
  REQUIRE(rows.ok());
  return *rows;
}

records::AccessEntry ApiServerFixture::LastAccess() {
  auto log = AccessLog();
  REQUIRE_FALSE(log.empty());
  return log.back();
}

}  // namespace custodian::api::testing
