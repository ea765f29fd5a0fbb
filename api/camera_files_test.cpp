// CameraFiles when a read or a write of the site's files fails: a clear error, the files as
// they were, and no temporary or password file left behind.
#include "api/camera_files.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "base/filesystem.h"
#include "base/testing/temp_dir.h"

using namespace custodian;
using namespace custodian::api;
using custodian::testing::TempDir;

namespace {

struct Site {
  TempDir dir;
  std::string site_path = dir.File("site.yaml");
  std::string cameras = dir.File("cameras");
  Site() {
    std::filesystem::create_directories(cameras);
    std::filesystem::create_directories(dir.File("data"));
    auto& fs = PosixFilesystem::Instance();
    REQUIRE(WriteFileAtomically(fs, site_path,
                                "site: { name: Test }\ndata_dir: data\ncameras_dir: cameras\n")
                .ok());
  }
  // Every file under cameras_dir, secrets included, by path relative to it.
  std::vector<std::string> Files() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(cameras)) {
      if (e.is_regular_file()) out.push_back(std::filesystem::relative(e.path(), cameras));
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

CameraChange Yard(const std::string& password) {
  CameraChange c;
  c.id = "yard";
  c.url = "rtsp://192.0.2.7/stream1";
  c.username = "viewer";
  c.password = password;
  return c;
}

}  // namespace

TEST_CASE("a camera write that fails part way leaves the old files and nothing else") {
  Site s;
  FaultInjectingFilesystem fs(PosixFilesystem::Instance());
  CameraFiles files(s.site_path, fs);
  REQUIRE(files.Write(Yard("first-secret"), /*create=*/true).ok());
  const std::vector<std::string> before = s.Files();
  REQUIRE(before.size() == 2);  // yard.yaml and its password file
  const std::string yaml_before = *ReadFileToString(fs, s.cameras + "/yard.yaml");

  // The disk fills after a few bytes: first within the new password file, then (with room
  // for the password) within the camera file.
  for (int64_t room : {int64_t{4}, int64_t{20}}) {
    INFO("room " << room);
    fs.FailWritesAfter(room);
    CameraChange change = Yard("second-secret");
    change.name = "Yard, renamed";
    auto written = files.Write(change, /*create=*/false);
    REQUIRE(written.status().kind() == ErrorKind::kResourceExhausted);
    fs.FailWritesAfter(-1);
    CHECK(s.Files() == before);
    CHECK(*ReadFileToString(fs, s.cameras + "/yard.yaml") == yaml_before);
    auto site = files.LoadSite();
    REQUIRE(site.ok());
    REQUIRE(site->cameras.size() == 1);
    CHECK(site->cameras[0].name == "yard");
  }

  // A new camera whose file cannot be written is not half made.
  fs.FailWritesAfter(20);
  CameraChange gate = Yard("gate-secret");
  gate.id = "gate";
  REQUIRE(files.Write(gate, /*create=*/true).status().kind() == ErrorKind::kResourceExhausted);
  fs.FailWritesAfter(-1);
  CHECK(s.Files() == before);
}

TEST_CASE("camera files that cannot be read are a clear error and nothing is written") {
  Site s;
  FaultInjectingFilesystem fs(PosixFilesystem::Instance());
  CameraFiles files(s.site_path, fs);
  REQUIRE(files.Write(Yard("first-secret"), /*create=*/true).ok());
  const std::vector<std::string> before = s.Files();

  fs.FailReads(true);
  auto site = files.LoadSite();
  REQUIRE(site.status().kind() == ErrorKind::kFailedPrecondition);
  CHECK(site.status().message().find(s.site_path + ": cannot read: Input/output error") !=
        std::string::npos);
  CameraChange change;
  change.id = "yard";
  change.name = "Yard, renamed";
  REQUIRE_FALSE(files.Write(change, /*create=*/false).ok());
  fs.FailReads(false);
  CHECK(s.Files() == before);
  auto again = files.LoadSite();
  REQUIRE(again.ok());
  CHECK(again->cameras.at(0).name == "yard");
}
