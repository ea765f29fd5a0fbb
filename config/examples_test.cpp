// The shipped configuration files in camera-configs/ must always load.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "config/config_test_util.h"
#include "config/site_config.h"

using namespace custodian;
using namespace custodian::config;
using custodian::config::testing::TempConfigDir;

namespace {

namespace fs = std::filesystem;

const std::string kCameraConfigs = std::string(CUSTODIAN_SOURCE_DIR) + "/camera-configs";

std::vector<std::string> YamlFilesIn(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".yaml") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("every site file in camera-configs loads") {
  std::vector<std::string> sites = YamlFilesIn(kCameraConfigs);
  CHECK(sites.size() >= 2);
  for (const std::string& path : sites) {
    Result<SiteConfig> site = LoadSiteConfig(path);
    INFO(path << "\n" << site.status().message());
    CHECK(site.ok());
  }
}

TEST_CASE("the demo site records two simulated cameras into demo-data, and has a cameras_dir") {
  Result<SiteConfig> site = LoadSiteConfig(kCameraConfigs + "/demo-site.yaml");
  INFO(site.status().message());
  REQUIRE(site.ok());
  CHECK(site->site_name == "Demo House");
  CHECK(site->data_dir == fs::path(CUSTODIAN_SOURCE_DIR "/demo-data").lexically_normal().string());
  // Camera setup in the web UI can add cameras out of the box (more than these two, in a
  // checkout where someone tried it).
  CHECK(site->cameras_dir ==
        fs::path(kCameraConfigs + "/demo-cameras").lexically_normal().string());
  REQUIRE(site->cameras.size() >= 2);
  CHECK(site->cameras[0].url == "rtsp://127.0.0.1:8554/lobby");
  CHECK(site->cameras[1].url == "rtsp://127.0.0.1:8554/yard");
  CHECK(EffectiveMaxAgeDays(*site, site->cameras[1]) == 14);
}

TEST_CASE("the example site loads every camera example alongside its own camera") {
  Result<SiteConfig> site = LoadSiteConfig(kCameraConfigs + "/site-example.yaml");
  INFO(site.status().message());
  REQUIRE(site.ok());
  std::vector<std::string> examples = YamlFilesIn(kCameraConfigs + "/examples");
  CHECK(examples.size() == 6);
  REQUIRE(site->cameras.size() == 1 + examples.size());
  for (const CameraConfig& camera : site->cameras) {
    INFO(camera.source);
    // Documentation addresses only, and never a credential.
    CHECK(camera.url.rfind("rtsp://192.0.2.", 0) == 0);
    CHECK(camera.password_file.empty());
  }
}

TEST_CASE("each camera example loads on its own from a cameras_dir") {
  for (const std::string& example : YamlFilesIn(kCameraConfigs + "/examples")) {
    TempConfigDir d;
    fs::create_directories(d.Path("cameras.d"));
    fs::copy_file(example, d.Path("cameras.d/" + fs::path(example).filename().string()),
                  fs::copy_options::none);
    Result<SiteConfig> site = LoadSiteConfig(
        d.Write("site.yaml", "site: { name: Test }\ndata_dir: data\ncameras_dir: cameras.d\n"));
    INFO(example << "\n" << site.status().message());
    REQUIRE(site.ok());
    CHECK(site->cameras.size() == 1);
  }
}
