// Camera administration against the real server, the real camera simulator and the real
// `custodian record`; and the access log's chain status after a row is altered with the
// sqlite3 tool.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/testing/api_fixture.h"
#include "config/site_config.h"
#include "tests/recorder/recorder_harness.h"
#include "tests/sim/sim_process.h"

namespace custodian::api::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using custodian::testing::RecorderProcess;
using custodian::testing::TestSite;
using custodian::testing::WaitFor;

constexpr char kCameraPassword[] = "pw-Zq7-not-in-any-log";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Sends this process's stdout (where the server logs) to a file while it lives.
class LogCapture {
 public:
  explicit LogCapture(std::string path) : path_(std::move(path)) {
    std::fflush(stdout);
    saved_ = ::dup(1);
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    ::dup2(fd, 1);
    ::close(fd);
  }
  ~LogCapture() { Restore(); }
  std::string Text() {
    Restore();
    return ReadAll(path_);
  }

 private:
  void Restore() {
    if (saved_ < 0) return;
    std::fflush(stdout);
    ::dup2(saved_, 1);
    ::close(saved_);
    saved_ = -1;
  }
  std::string path_;
  int saved_ = -1;
};

// A site file with a camera of its own (read-only through the API) and, unless
// with_cameras_dir is false, a cameras_dir for the API's files. Segments of 1 s.
struct CameraSite {
  explicit CameraSite(bool with_cameras_dir = true) : site({}, /*segment_seconds=*/1) {
    cameras_dir = site.dir() + "/cameras";
    fs::create_directories(cameras_dir);
    std::ofstream out(site.config());
    out << "site: { name: \"Camera administration test\" }\n"
        << "data_dir: data\n"
        << "recorder: { segment_seconds: 1, connect_timeout_seconds: 3 }\n"
        << "retention: { max_age_days: 31 }\n"
        << "cameras:\n"
        << "  - id: fixed\n    url: rtsp://127.0.0.1:9/fixed\n";
    if (with_cameras_dir) out << "cameras_dir: cameras\n";
  }
  TestSite site;
  std::string cameras_dir;
};

struct AdminServer {
  explicit AdminServer(const CameraSite& s)
      : f([&] {
          FixtureOptions o;
          o.site_config_path = s.site.config();
          return o;
        }()) {
    f.AddUser("ada", records::Role::kAdmin);
    f.AddUser("sam", records::Role::kStaff, {"door-1"});
    f.AddUser("dee", records::Role::kDpo);
    admin = f.Login("ada");
  }
  ApiServerFixture f;
  SignedIn admin;
};

std::unique_ptr<sim::SimulatorProcess> StartSim() {
  auto sim = sim::SimulatorProcess::Start(
      {"lobby:width=320,height=240,gop=25,clip=4,bitrate=500",
       "yard:width=320,height=240,gop=25,clip=4,bitrate=500,user=admin,password=right-pw"});
  REQUIRE(sim.ok());
  return std::move(sim).value();
}

TEST_CASE("an admin adds a camera on the simulator and the connection test reports its codec") {
  CameraSite s;
  AdminServer a(s);
  auto sim = StartSim();

  auto created = a.f.Call("POST", "/api/v1/cameras", a.admin,
                          json{{"id", "lobby"},
                               {"name", "Lobby"},
                               {"url", sim->Url("lobby")},
                               {"transport", "tcp"},
                               {"retention", {{"max_age_days", 14}}}}
                              .dump());
  INFO(created.body);
  REQUIRE(created.status == 201);
  const std::string file = s.cameras_dir + "/lobby.yaml";
  REQUIRE(fs::exists(file));

  // The file is one the strict loader accepts, as part of the whole site.
  auto site = config::LoadSiteConfig(s.site.config());
  REQUIRE(site.ok());
  REQUIRE(site->cameras.size() == 2);
  CHECK(site->cameras[1].id == "lobby");
  CHECK(site->cameras[1].url == sim->Url("lobby"));
  CHECK(site->cameras[1].max_age_days == 14);
  CHECK(config::EffectiveMaxAgeDays(*site, site->cameras[1]) == 14);

  auto tested = a.f.Call("POST", "/api/v1/cameras/lobby/test", a.admin);
  INFO(tested.body);
  REQUIRE(tested.status == 200);
  json t = json::parse(tested.body);
  CHECK(t["reachable"] == true);
  CHECK(t["codec"] == "h264");
  CHECK(t["width"] == 320);
  CHECK(t["height"] == 240);

  // The list shows the camera with its retention and, to the admin, that it is editable.
  json list = json::parse(a.f.Get("/api/v1/cameras", a.admin).body);
  bool found = false;
  for (const auto& c : list["cameras"]) {
    if (c["id"] != "lobby") continue;
    found = true;
    CHECK(c["retention"]["configured_max_age_days"] == 14);
    CHECK(c["config"]["editable"] == true);
    CHECK(c["config"]["has_password"] == false);
  }
  CHECK(found);
  CHECK(a.f.LastAccess().action == "camera_test");

  // A shortening is only written to the file: the effective age stays what the retention
  // scheduler has on record until its delayed change is due.
  REQUIRE(a.f.db().SetSetting("retention.max_age_days.lobby", "14", std::nullopt).ok());
  auto shortened = a.f.Call("PATCH", "/api/v1/cameras/lobby", a.admin,
                            json{{"retention", {{"max_age_days", 3}}}}.dump());
  INFO(shortened.body);
  REQUIRE(shortened.status == 200);
  CHECK(a.f.LastAccess().detail == "camera lobby changed: retention.max_age_days");
  // Named: a range-for over a member of a temporary reads freed memory (found by ASan).
  json cameras = json::parse(a.f.Get("/api/v1/cameras", a.admin).body);
  for (const auto& c : cameras["cameras"]) {
    if (c["id"] != "lobby") continue;
    CHECK(c["retention"]["max_age_days"] == 14);
    CHECK(c["retention"]["configured_max_age_days"] == 3);
  }
  CHECK(a.f.db().GetSetting("retention.max_age_days.lobby")->value() == "14");
}

TEST_CASE("a wrong camera password is reported as unauthorized and appears nowhere") {
  CameraSite s;
  LogCapture server_log(s.site.dir() + "/server.log");
  AdminServer a(s);
  auto sim = StartSim();

  auto created = a.f.Call("POST", "/api/v1/cameras", a.admin,
                          json{{"id", "yard"},
                               {"url", sim->Url("yard")},
                               {"username", "admin"},
                               {"password", kCameraPassword}}
                              .dump());
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(created.body.find(kCameraPassword) == std::string::npos);
  const std::string yaml = ReadAll(s.cameras_dir + "/yard.yaml");
  CHECK(yaml.find(kCameraPassword) == std::string::npos);
  auto site = config::LoadSiteConfig(s.site.config());
  REQUIRE(site.ok());
  const std::string password_file = site->cameras[1].password_file;
  REQUIRE(!password_file.empty());
  struct stat st;
  REQUIRE(::stat(password_file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto tested = a.f.Call("POST", "/api/v1/cameras/yard/test", a.admin);
  INFO(tested.body);
  REQUIRE(tested.status == 200);
  json t = json::parse(tested.body);
  CHECK(t["reachable"] == false);
  CHECK(t["error"] == "unauthorized");
  CHECK(tested.body.find(kCameraPassword) == std::string::npos);
  auto list = a.f.Get("/api/v1/cameras", a.admin);
  CHECK(list.body.find(kCameraPassword) == std::string::npos);
  for (const auto& e : a.f.AccessLog()) {
    CHECK(e.detail.find(kCameraPassword) == std::string::npos);
  }

  // The right password, through PATCH: a new password file, the old one removed.
  auto patched = a.f.Call("PATCH", "/api/v1/cameras/yard", a.admin,
                          json{{"password", "right-pw"}}.dump());
  INFO(patched.body);
  REQUIRE(patched.status == 200);
  CHECK_FALSE(fs::exists(password_file));
  CHECK(a.f.LastAccess().action == "camera_update");
  CHECK(a.f.LastAccess().detail.find("right-pw") == std::string::npos);
  json ok = json::parse(a.f.Call("POST", "/api/v1/cameras/yard/test", a.admin).body);
  CHECK(ok["reachable"] == true);

  const std::string logged = server_log.Text();
  CHECK(logged.find("camera yard added") != std::string::npos);  // the capture works
  CHECK(logged.find(kCameraPassword) == std::string::npos);
  CHECK(logged.find("right-pw") == std::string::npos);
}

TEST_CASE("camera administration refuses bad input and other roles, writing nothing") {
  CameraSite s;
  AdminServer a(s);
  const std::string body = json{{"id", "gate"}, {"url", "http://127.0.0.1/gate"}}.dump();

  SECTION("a bad url is a 400 naming the key, and no file is written") {
    auto r = a.f.Call("POST", "/api/v1/cameras", a.admin, body);
    INFO(r.body);
    CHECK(r.status == 400);
    CHECK(r.body.find("url") != std::string::npos);
    CHECK(fs::is_empty(s.cameras_dir));
  }
  SECTION("a non-admin gets 403 and nothing is written") {
    SignedIn sam = a.f.Login("sam");
    CHECK(a.f.Call("POST", "/api/v1/cameras", sam,
                   json{{"id", "gate"}, {"url", "rtsp://127.0.0.1:9/gate"}}.dump())
              .status == 403);
    CHECK(a.f.Call("PATCH", "/api/v1/cameras/fixed", sam, json{{"name", "x"}}.dump()).status ==
          403);
    CHECK(a.f.Call("POST", "/api/v1/cameras/fixed/test", sam).status == 403);
    CHECK(fs::is_empty(s.cameras_dir));
  }
  SECTION("a camera of the site file is read-only through the API") {
    auto r = a.f.Call("PATCH", "/api/v1/cameras/fixed", a.admin, json{{"name", "x"}}.dump());
    CHECK(r.status == 409);
    CHECK(r.body.find("site.yaml") != std::string::npos);
    CHECK(fs::is_empty(s.cameras_dir));
  }
  SECTION("an unknown key or a used id is refused") {
    CHECK(a.f.Call("POST", "/api/v1/cameras", a.admin,
                   json{{"id", "gate"}, {"url", "rtsp://127.0.0.1:9/g"}, {"enabled", true}}.dump())
              .status == 400);
    CHECK(a.f.Call("POST", "/api/v1/cameras", a.admin,
                   json{{"id", "fixed"}, {"url", "rtsp://127.0.0.1:9/g"}}.dump())
              .status == 409);
    CHECK(fs::is_empty(s.cameras_dir));
  }
}

TEST_CASE("without a cameras_dir, adding a camera is a 409 that says to configure one") {
  CameraSite s(/*with_cameras_dir=*/false);
  AdminServer a(s);
  auto r = a.f.Call("POST", "/api/v1/cameras", a.admin,
                    json{{"id", "gate"}, {"url", "rtsp://127.0.0.1:9/gate"}}.dump());
  CHECK(r.status == 409);
  CHECK(r.body.find("cameras_dir") != std::string::npos);
}

TEST_CASE("a running recorder records a camera added through the API without a signal") {
  CameraSite s;
  AdminServer a(s);
  auto sim = StartSim();
  RecorderProcess recorder(s.site);
  // The recorder is up (it registered the site file's camera) before the camera is added.
  REQUIRE(WaitFor([&] {
    auto db = s.site.OpenRecords();
    auto cams = db->ListCameras();
    return cams.ok() && !cams->empty();
  }, 15000));

  REQUIRE(a.f.Call("POST", "/api/v1/cameras", a.admin,
                   json{{"id", "lobby"}, {"url", sim->Url("lobby")}, {"transport", "tcp"}}.dump())
              .status == 201);
  const auto added = std::chrono::steady_clock::now();
  auto db = s.site.OpenRecords();
  const bool recorded = WaitFor([&] {
    return !custodian::testing::CompleteSegments(*db, "lobby").empty();
  }, 15000);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - added).count();
  WARN("first complete segment of the added camera after " << seconds << " s");
  CHECK(recorded);

  // A broken file is refused on reload, and the cameras already running keep recording.
  std::ofstream(s.cameras_dir + "/broken.yaml") << "id: Not An Id\nurl: ftp://x\n";
  REQUIRE(WaitFor([&] { return ReadAll(s.site.log()).find("reload refused") != std::string::npos; },
                  10000));
  const size_t before = custodian::testing::CompleteSegments(*db, "lobby").size();
  CHECK(WaitFor([&] {
    return custodian::testing::CompleteSegments(*db, "lobby").size() >= before + 2;
  }, 10000));

  CHECK(recorder.Stop() == 0);
  const std::string log = ReadAll(s.site.log());
  CHECK(log.find("camera files changed in cameras_dir") != std::string::npos);
  if (!recorded) WARN(log);
}

TEST_CASE("the access-log verify route names the first altered entry") {
  ApiServerFixture f;
  f.AddUser("dee", records::Role::kDpo);
  SignedIn dee = f.Login("dee");
  auto first = f.Get("/api/v1/access-log/verify", dee);
  REQUIRE(first.status == 200);
  json v = json::parse(first.body);
  CHECK(v["ok"] == true);
  CHECK(v["first_bad"].is_null());
  CHECK(v["entries"].get<int>() >= 1);
  CHECK(f.LastAccess().action == "access_log_verify");

  const int64_t target = f.AccessLog().front().id;
  const std::string sql = std::string(CUSTODIAN_SQLITE3_CLI) + " '" + f.data_dir() +
                          "/records.db' \"DROP TRIGGER access_log_no_update; UPDATE access_log "
                          "SET detail='altered' WHERE id=" +
                          std::to_string(target) + "\"";
  REQUIRE(std::system(sql.c_str()) == 0);
  auto second = f.Get("/api/v1/access-log/verify", dee);
  REQUIRE(second.status == 200);
  json w = json::parse(second.body);
  CHECK(w["ok"] == false);
  CHECK(w["first_bad"] == target);
}

}  // namespace
}  // namespace custodian::api::testing
