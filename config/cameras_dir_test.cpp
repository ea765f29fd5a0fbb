#include <catch2/catch.hpp>
#include <string>

#include "config/config_test_util.h"
#include "config/site_config.h"

using namespace custodian;
using namespace custodian::config;
using custodian::config::testing::kSiteHead;
using custodian::config::testing::Lines;
using custodian::config::testing::LoadErrors;
using custodian::config::testing::TempConfigDir;

TEST_CASE("cameras_dir adds the cameras of each yaml file after the site file's, by file name") {
  TempConfigDir d;
  std::string site_path = d.Write("site.yaml", std::string(kSiteHead) +
                                                   "cameras_dir: cameras.d\n"
                                                   "cameras:\n"
                                                   "  - id: lobby\n"
                                                   "    url: rtsp://cam/lobby\n");
  // A single camera mapping, and a list of cameras.
  d.Write("cameras.d/20-yard.yaml",
          "id: yard\n"
          "url: rtsp://cam/yard\n"
          "password_file: ../secrets/yard\n"
          "username: viewer\n");
  d.Write("cameras.d/10-gates.yml",
          "- id: gate-north\n"
          "  url: rtsp://cam/north\n"
          "- id: gate-south\n"
          "  url: rtsp://cam/south\n"
          "  transport: tcp\n");
  // Not camera files: skipped without complaint.
  d.Write("cameras.d/README.md", "Cameras for the demo site.\n");
  d.Write("cameras.d/.30-draft.yaml", "id: Not Valid\n");
  d.Write("cameras.d/old.yaml.bak", "id: Not Valid\n");
  d.Write("secrets/yard", "pw\n");

  Result<SiteConfig> site = LoadSiteConfig(site_path);
  INFO(site.status().message());
  REQUIRE(site.ok());
  CHECK(site->cameras_dir == d.Path("cameras.d"));
  REQUIRE(site->cameras.size() == 4);
  CHECK(site->cameras[0].id == "lobby");
  CHECK(site->cameras[1].id == "gate-north");
  CHECK(site->cameras[1].source == d.Path("cameras.d/10-gates.yml") + ":1");
  CHECK(site->cameras[2].id == "gate-south");
  CHECK(site->cameras[2].transport == Transport::kTcp);
  CHECK(site->cameras[2].source == d.Path("cameras.d/10-gates.yml") + ":3");
  CHECK(site->cameras[3].id == "yard");
  CHECK(site->cameras[3].source == d.Path("cameras.d/20-yard.yaml") + ":1");
  // Paths in a camera file resolve against that file's directory.
  CHECK(site->cameras[3].password_file == d.Path("secrets/yard"));
}

TEST_CASE("a camera id used twice across cameras_dir files is an error naming both places") {
  TempConfigDir d;
  std::string site_path = d.Write("site.yaml", std::string(kSiteHead) +
                                                   "cameras_dir: cams\n"
                                                   "cameras:\n"
                                                   "  - id: lobby\n"
                                                   "    url: rtsp://cam/lobby\n");
  d.Write("cams/a.yaml", "id: yard\nurl: rtsp://cam/yard\n");
  d.Write("cams/b.yaml",
          "- id: lobby\n"
          "  url: rtsp://cam/lobby-2\n"
          "- id: yard\n"
          "  url: rtsp://cam/yard-2\n");
  const std::string a = d.Path("cams/a.yaml"), b = d.Path("cams/b.yaml");
  CHECK(LoadErrors(site_path) ==
        Lines({b + ":1: [0].id: camera id \"lobby\" is already used by the camera at " +
                   d.Path("site.yaml") + ":5",
               b + ":3: [1].id: camera id \"yard\" is already used by the camera at " + a + ":1"}));
}

TEST_CASE("errors in cameras_dir files name the camera file and come after the site file's") {
  TempConfigDir d;
  std::string site_path = d.Write("site.yaml", std::string(kSiteHead) +
                                                   "cameras_dir: cams\n"
                                                   "log_level: loud\n");
  d.Write("cams/a.yaml", "id: yard\nurl: rtsp://cam/yard\ntransport: carrier-pigeon\n");
  d.Write("cams/b.yaml", "rtsp://cam/porch\n");
  d.Write("cams/c.yaml", "");
  d.Write("cams/d.yaml", "id: [porch\n");
  CHECK(LoadErrors(site_path) ==
        Lines({
            d.Path("site.yaml") +
                ":4: log_level: expected one of debug, info, warn, error, got \"loud\"",
            d.Path("cams/a.yaml") +
                ":3: transport: expected one of tcp, udp, auto, got \"carrier-pigeon\"",
            d.Path("cams/b.yaml") +
                ":1: expected a camera mapping or a list of cameras, got \"rtsp://cam/porch\"",
            d.Path("cams/c.yaml") + ":1: the file is empty",
            d.Path("cams/d.yaml") + ":2: invalid YAML: end of sequence flow not found",
        }));
}

TEST_CASE("a cameras_dir that is not a directory is an error") {
  TempConfigDir d;
  std::string site_path = d.Write("site.yaml", std::string(kSiteHead) + "cameras_dir: cams\n");
  CHECK(LoadErrors(site_path) ==
        site_path + ":3: cameras_dir: not a directory: \"" + d.Path("cams") + "\"");
}

// A password is stored for one endpoint (password_for, written by the API). A
// camera file whose URL was changed by hand to another host, scheme or port keeps naming
// the password file, but the loader drops the password, so neither the recorder nor the
// connection test sends it to the new host.
TEST_CASE("changing a camera's host in its config file drops its stored password") {
  TempConfigDir d;
  std::string site_path = d.Write("site.yaml", std::string(kSiteHead) + "cameras_dir: cameras.d\n");
  d.Write("secrets/pw", "s3cret\n");
  auto camera_file = [&](const std::string& url) {
    d.Write("cameras.d/yard.yaml", "id: yard\nurl: " + url +
                                       "\nusername: viewer\npassword_file: ../secrets/pw\n"
                                       "password_for: \"rtsp://cam.local:554\"\n");
  };
  // The same endpoint spelt differently (default port, upper case, another path) keeps it.
  camera_file("rtsp://CAM.local/other-stream");
  Result<SiteConfig> site = LoadSiteConfig(site_path);
  INFO(site.status().message());
  REQUIRE(site.ok());
  CHECK(site->cameras[0].password_file == d.Path("secrets/pw"));
  CHECK(site->cameras[0].password_withheld.empty());
  CHECK(*ReadCameraPassword(site->cameras[0]) == "s3cret");

  for (const char* url : {"rtsp://attacker.example/yard", "rtsp://cam.local:8554/yard",
                          "rtsps://cam.local:554/yard"}) {
    INFO(url);
    camera_file(url);
    site = LoadSiteConfig(site_path);
    REQUIRE(site.ok());
    const CameraConfig& c = site->cameras[0];
    CHECK(c.password_file.empty());
    CHECK(c.password_withheld.find("enter the password again") != std::string::npos);
    CHECK(c.withheld_password_file == d.Path("secrets/pw"));
    CHECK(ReadCameraPassword(c)->empty());
  }
}

TEST_CASE("allow_basic_auth is off unless a camera says true") {
  TempConfigDir d;
  std::string site_path = d.Write("site.yaml", std::string(kSiteHead) +
                                                   "cameras:\n"
                                                   "  - id: old\n    url: rtsp://cam/old\n"
                                                   "    allow_basic_auth: true\n"
                                                   "  - id: new\n    url: rtsp://cam/new\n");
  Result<SiteConfig> site = LoadSiteConfig(site_path);
  INFO(site.status().message());
  REQUIRE(site.ok());
  CHECK(site->cameras[0].allow_basic_auth);
  CHECK_FALSE(site->cameras[1].allow_basic_auth);
}

TEST_CASE("a camera file may name its sub stream and what the camera is, checked like url") {
  TempConfigDir d;
  std::string site_path = d.Write("site.yaml", std::string(kSiteHead) + "cameras_dir: cameras.d\n");
  d.Write("cameras.d/porch.yaml",
          "id: porch\n"
          "url: rtsp://cam/main\n"
          "sub_url: rtsps://cam:8322/sub\n"
          "make: \"Acme\"\n"
          "model: \"Dome 9\"\n"
          "firmware: \"V5.7.3 build 2021\"\n");
  Result<SiteConfig> site = LoadSiteConfig(site_path);
  INFO(site.status().message());
  REQUIRE(site.ok());
  REQUIRE(site->cameras.size() == 1);
  CHECK(site->cameras[0].sub_url == "rtsps://cam:8322/sub");
  CHECK(site->cameras[0].make == "Acme");
  CHECK(site->cameras[0].model == "Dome 9");
  CHECK(site->cameras[0].firmware == "V5.7.3 build 2021");

  d.Write("cameras.d/porch.yaml",
          "id: porch\n"
          "url: rtsp://cam/main\n"
          "sub_url: http://cam/sub\n"
          "model: \"" +
              std::string(65, 'x') +
              "\"\n"
              "firmware: \"tab\\there\"\n");
  const std::string errors = LoadErrors(site_path);
  CHECK(errors.find("sub_url: ") != std::string::npos);
  CHECK(errors.find("model: at most 64 characters") != std::string::npos);
  CHECK(errors.find("firmware: printable ASCII characters only") != std::string::npos);
}
