#include "api/package_tar.h"

#include <catch2/catch.hpp>
#include <string>

#include "base/testing/temp_dir.h"

namespace custodian::api {
namespace {

using custodian::testing::TempDir;

TEST_CASE("a package archive whose disk fills leaves no archive and no partial file") {
  TempDir dir;
  auto& posix = PosixFilesystem::Instance();
  const std::string package = dir.File("export-7");
  REQUIRE(posix.CreateDirs(package + "/working").ok());
  const std::string video(300000, 'v');
  REQUIRE(WriteFileAtomically(posix, package + "/working/a.mp4", video).ok());
  REQUIRE(WriteFileAtomically(posix, package + "/manifest.json", "{}\n").ok());
  const std::string tar = dir.File("export-7.tar");

  FaultInjectingFilesystem fs(posix);
  fs.FailWritesAfter(100000);  // inside the video
  REQUIRE(WritePackageTar(package, "export-7", tar, fs).kind() == ErrorKind::kResourceExhausted);
  REQUIRE_FALSE(fs.Exists(tar));
  REQUIRE_FALSE(fs.Exists(tar + ".partial"));

  fs.FailWritesAfter(-1);
  REQUIRE(WritePackageTar(package, "export-7", tar, fs).ok());
  REQUIRE_FALSE(fs.Exists(tar + ".partial"));
  auto bytes = ReadFileToString(fs, tar);
  REQUIRE(bytes.ok());
  CHECK(bytes->size() % 512 == 0);
  CHECK(bytes->find(video) != std::string::npos);
  CHECK(bytes->find("export-7/working/a.mp4") != std::string::npos);
}

}  // namespace
}  // namespace custodian::api
