// Camera administration against the real server, the real camera simulator and the real
// `custodian record`; and the access log's chain status after a row is altered with the
// sqlite3 tool.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "api/testing/api_fixture.h"
#include "base/filesystem.h"
#include "config/site_config.h"
#include "media/rtsp/certificate_pin.h"
#include "tests/recorder/recorder_harness.h"
#include "tests/sim/sim_process.h"

namespace custodian::api::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using custodian::testing::RecorderProcess;
using custodian::testing::TestSite;
using custodian::testing::WaitFor;
using custodian::testing::WallNow;

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

TEST_CASE("api the camera list gives each configured camera's segment length") {
  CameraSite s;
  AdminServer a(s);
  REQUIRE(a.f.db().UpsertCamera({"fixed", "Fixed", {}}).ok());  // as the recorder would
  // Review tells someone looking at a new camera when its first segment is complete.
  json list = json::parse(a.f.Get("/api/v1/cameras", a.admin).body);
  bool found = false;
  for (const auto& c : list["cameras"]) {
    if (c["id"] != "fixed") continue;
    found = true;
    CHECK(c["segment_seconds"] == 1);
  }
  CHECK(found);
}

TEST_CASE("a camera's sub stream, make, model and firmware go to its file, list and record") {
  CameraSite s;
  AdminServer a(s);
  auto created = a.f.Call("POST", "/api/v1/cameras", a.admin,
                          json{{"id", "porch"},
                               {"url", "rtsp://127.0.0.1:9/main"},
                               {"sub_url", "rtsp://127.0.0.1:9/sub"},
                               {"make", "Acme"},
                               {"model", "Dome 9"},
                               {"firmware", "V5.7.3"}}
                              .dump());
  INFO(created.body);
  REQUIRE(created.status == 201);
  const std::string yaml = ReadAll(s.cameras_dir + "/porch.yaml");
  CHECK(yaml.find("sub_url: \"rtsp://127.0.0.1:9/sub\"") != std::string::npos);
  CHECK(yaml.find("model: \"Dome 9\"") != std::string::npos);
  json list = json::parse(a.f.Get("/api/v1/cameras", a.admin).body);
  bool found = false;
  for (const auto& c : list["cameras"]) {
    if (c["id"] != "porch") continue;
    found = true;
    CHECK(c["config"]["sub_url"] == "rtsp://127.0.0.1:9/sub");
    CHECK(c["config"]["make"] == "Acme");
    CHECK(c["config"]["firmware"] == "V5.7.3");
  }
  CHECK(found);
  auto rows = a.f.db().ListCameras();
  REQUIRE(rows.ok());
  bool recorded = false;
  for (const auto& r : *rows) {
    if (r.id == "porch")
      recorded = r.make == "Acme" && r.model == "Dome 9" && r.firmware == "V5.7.3";
  }
  CHECK(recorded);

  // A sub stream that is not rtsp is refused like a bad url; "" removes it.
  auto bad = a.f.Call("PATCH", "/api/v1/cameras/porch", a.admin,
                      json{{"sub_url", "http://127.0.0.1/sub"}}.dump());
  CHECK(bad.status == 400);
  CHECK(bad.body.find("sub_url") != std::string::npos);
  auto cleared = a.f.Call("PATCH", "/api/v1/cameras/porch", a.admin, json{{"sub_url", ""}}.dump());
  CHECK(cleared.status == 200);
  CHECK(ReadAll(s.cameras_dir + "/porch.yaml").find("sub_url") == std::string::npos);
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

// A host an administrator controls, posing as a camera: it answers every RTSP request
// with 401 and a Basic challenge (the scheme that gives it the password outright) and
// keeps everything it is sent. Listens on 127.0.0.2, another host than the simulator's.
class HarvestingHost {
 public:
  HarvestingHost() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listener_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(0x7f000002);  // 127.0.0.2
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener_, 4) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~HarvestingHost() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  std::string Url() const { return "rtsp://127.0.0.2:" + std::to_string(port_) + "/stream"; }
  std::string Received() {
    std::lock_guard l(mu_);
    return received_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::string pending;
      while (!stop_) {
        pollfd q{fd, POLLIN, 0};
        if (::poll(&q, 1, 50) <= 0) continue;
        char buf[4096];
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        pending.append(buf, static_cast<size_t>(n));
        {
          std::lock_guard l(mu_);
          received_.append(buf, static_cast<size_t>(n));
        }
        for (size_t end; (end = pending.find("\r\n\r\n")) != std::string::npos;) {
          const std::string request = pending.substr(0, end);
          pending.erase(0, end + 4);
          std::string cseq = "1";
          if (size_t at = request.find("CSeq: "); at != std::string::npos) {
            cseq = request.substr(at + 6, request.find("\r\n", at) - at - 6);
          }
          const std::string answer = "RTSP/1.0 401 Unauthorized\r\nCSeq: " + cseq +
                                     "\r\nWWW-Authenticate: Basic realm=\"cam\"\r\n\r\n";
          (void)::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
        }
      }
      ::close(fd);
    }
  }
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::string received_;
};

// An admin who may change a camera's URL but never sees its password points the
// camera at their own host and presses "test connection". The stored password must not go
// there: a change of host, scheme or port drops it (and the access log says so), even for
// a camera that allows Basic (where the password would travel base64-encoded).
TEST_CASE("changing a camera's host drops its stored password") {
  CameraSite s;
  AdminServer a(s);
  auto sim = StartSim();
  HarvestingHost attacker;

  auto created = a.f.Call("POST", "/api/v1/cameras", a.admin,
                          json{{"id", "yard"},
                               {"url", sim->Url("yard")},
                               {"username", "admin"},
                               {"password", "right-pw"},
                               {"allow_basic_auth", true}}
                              .dump());
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(json::parse(created.body)["password_dropped"] == false);
  auto site = config::LoadSiteConfig(s.site.config());
  REQUIRE(site.ok());
  const std::string password_file = site->cameras[1].password_file;
  REQUIRE_FALSE(password_file.empty());
  CHECK(site->cameras[1].allow_basic_auth);
  CHECK(json::parse(a.f.Call("POST", "/api/v1/cameras/yard/test", a.admin).body)["reachable"] ==
        true);

  // Another path on the same endpoint keeps the password.
  auto same = a.f.Call("PATCH", "/api/v1/cameras/yard", a.admin,
                       json{{"url", sim->Url("yard") + "?same=host"}}.dump());
  INFO(same.body);
  REQUIRE(same.status == 200);
  CHECK(json::parse(same.body)["password_dropped"] == false);
  CHECK(fs::exists(password_file));

  // The attack: the URL now names the admin's host.
  auto moved = a.f.Call("PATCH", "/api/v1/cameras/yard", a.admin,
                        json{{"url", attacker.Url()}}.dump());
  INFO(moved.body);
  REQUIRE(moved.status == 200);
  CHECK(json::parse(moved.body)["password_dropped"] == true);
  const records::AccessEntry logged = a.f.LastAccess();
  CHECK(logged.action == "camera_update");
  CHECK(logged.detail.find("stored password was dropped") != std::string::npos);
  CHECK_FALSE(fs::exists(password_file));
  CHECK(ReadAll(s.cameras_dir + "/yard.yaml").find("password_file") == std::string::npos);

  auto tested = a.f.Call("POST", "/api/v1/cameras/yard/test", a.admin);
  INFO(tested.body);
  REQUIRE(tested.status == 200);
  CHECK(json::parse(tested.body)["reachable"] == false);
  const std::string harvested = attacker.Received();
  CHECK(harvested.find("OPTIONS") != std::string::npos);  // the test did reach it
  CHECK(harvested.find("right-pw") == std::string::npos);
  CHECK(harvested.find("YWRtaW46cmlnaHQtcHc=") == std::string::npos);  // base64 admin:right-pw

  json list = json::parse(a.f.Get("/api/v1/cameras", a.admin).body);
  for (const auto& c : list["cameras"]) {
    if (c["id"] == "yard") CHECK(c["config"]["has_password"] == false);
  }

  // A new password given with the new URL is the admin's own: kept.
  auto both = a.f.Call("PATCH", "/api/v1/cameras/yard", a.admin,
                       json{{"url", sim->Url("yard")}, {"password", "right-pw"}}.dump());
  REQUIRE(both.status == 200);
  CHECK(json::parse(both.body)["password_dropped"] == false);
  CHECK(json::parse(a.f.Call("POST", "/api/v1/cameras/yard/test", a.admin).body)["reachable"] ==
        true);
}

// The same attack by editing the camera's file by hand: the password stays bound to the
// endpoint the API recorded beside it, so the test route does not send it, and the next
// change through the API removes it and logs that.
TEST_CASE("changing a camera's host in its file by hand drops its stored password") {
  CameraSite s;
  AdminServer a(s);
  auto sim = StartSim();
  HarvestingHost attacker;
  REQUIRE(a.f.Call("POST", "/api/v1/cameras", a.admin,
                   json{{"id", "yard"},
                        {"url", sim->Url("yard")},
                        {"username", "admin"},
                        {"password", "right-pw"},
                        {"allow_basic_auth", true}}
                       .dump())
              .status == 201);
  const std::string file = s.cameras_dir + "/yard.yaml";
  std::string yaml = ReadAll(file);
  REQUIRE(yaml.find("password_for") != std::string::npos);
  const std::string sim_url = sim->Url("yard");
  yaml.replace(yaml.find(sim_url), sim_url.size(), attacker.Url());
  std::ofstream(file) << yaml;

  auto tested = a.f.Call("POST", "/api/v1/cameras/yard/test", a.admin);
  INFO(tested.body);
  REQUIRE(tested.status == 200);
  CHECK(json::parse(tested.body)["reachable"] == false);
  CHECK(attacker.Received().find("OPTIONS") != std::string::npos);
  CHECK(attacker.Received().find("YWRtaW46cmlnaHQtcHc=") == std::string::npos);
  json list = json::parse(a.f.Get("/api/v1/cameras", a.admin).body);
  for (const auto& c : list["cameras"]) {
    if (c["id"] != "yard") continue;
    CHECK(c["config"]["has_password"] == false);
    CHECK(c["config"]["password_withheld"].get<std::string>().find("enter the password again") !=
          std::string::npos);
  }
  auto renamed = a.f.Call("PATCH", "/api/v1/cameras/yard", a.admin, json{{"name", "Yard"}}.dump());
  INFO(renamed.body);
  REQUIRE(renamed.status == 200);
  CHECK(json::parse(renamed.body)["password_dropped"] == true);
  CHECK(a.f.LastAccess().detail.find("stored password was dropped") != std::string::npos);
  CHECK(fs::directory_iterator(s.cameras_dir + "/secrets") == fs::directory_iterator());
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

TEST_CASE("an admin accepts the new certificate an rtsps camera presents, and only that one") {
  CameraSite s;
  AdminServer a(s);
  const std::string first(64, 'a'), second(64, 'b'), third(64, 'c');
  PosixFilesystem files;
  const std::string pin = media::rtsp::CertificatePinPath(a.f.data_dir(), "fixed");
  // Ten days after the server's (manual) clock: within the 30 days warned of.
  const UtcMicros clock_now = a.f.clock.Now();
  const UtcMicros expires{(clock_now.us / kMicrosPerSecond + 10 * 86'400) * kMicrosPerSecond};
  REQUIRE(media::rtsp::CheckCertificate(files, pin, {first, "CN=fixed", expires}, clock_now).ok());
  REQUIRE(*media::rtsp::CheckCertificate(files, pin, {second, "", std::nullopt}, clock_now) ==
          media::rtsp::PinCheck::kChanged);
  REQUIRE(a.f.db().RaiseAlarm("camera_certificate:fixed", "changed").ok());
  REQUIRE(a.f.db().UpsertCamera({"fixed", "Fixed", {}}).ok());

  // Shown to admins only.
  auto list = json::parse(a.f.Get("/api/v1/cameras", a.admin).body);
  json fixed;
  for (const auto& c : list["cameras"]) {
    if (c["id"] == "fixed") fixed = c;
  }
  REQUIRE(fixed.contains("certificate"));
  CHECK(fixed["certificate"]["sha256"] == first);
  CHECK(fixed["certificate"]["presented_sha256"] == second);
  // What the pinned certificate states, and that it expires within the 30 days warned of.
  CHECK(fixed["certificate"]["subject"] == "CN=fixed");
  CHECK(fixed["certificate"]["expires"] == FormatUtc(expires));
  CHECK(fixed["certificate"]["expiry"] == "expires_soon");
  CHECK(fixed["certificate"]["presented_subject"].is_null());
  const std::string path = "/api/v1/cameras/fixed/certificate/accept";
  SignedIn sam = a.f.Login("sam");
  CHECK(a.f.Call("POST", path, sam, json{{"sha256", second}}.dump()).status == 403);
  // Another fingerprint than the one presented is refused, and nothing changes.
  CHECK(a.f.Call("POST", path, a.admin, json{{"sha256", third}}.dump()).status == 409);
  CHECK((*media::rtsp::ReadCertificatePin(files, pin))->sha256 == first);

  auto r = a.f.Call("POST", path, a.admin, json{{"sha256", second}}.dump());
  INFO(r.body);
  REQUIRE(r.status == 200);
  auto now = media::rtsp::ReadCertificatePin(files, pin);
  REQUIRE(now.ok());
  CHECK((*now)->sha256 == second);
  CHECK((*now)->pinned_by == "ada");
  CHECK((*now)->presented.empty());
  auto alarms = a.f.db().ListActiveAlarms();
  REQUIRE(alarms.ok());
  for (const auto& alarm : *alarms) CHECK(alarm.kind != "camera_certificate:fixed");
  bool logged = false;
  for (const auto& e : a.f.AccessLog()) {
    logged = logged || (e.action == "camera_certificate_accept" && e.user_name == "ada" &&
                        e.detail.find(first + " -> " + second) != std::string::npos);
  }
  CHECK(logged);
  // Nothing presented any more: a second acceptance is a 409.
  CHECK(a.f.Call("POST", path, a.admin, json{{"sha256", second}}.dump()).status == 409);
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
