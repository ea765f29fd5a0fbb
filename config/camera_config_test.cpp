#include "config/camera_config.h"

#include <catch2/catch.hpp>
#include <string>

#include "config/config_test_util.h"

using namespace custodian;
using namespace custodian::config;
using custodian::config::testing::TempConfigDir;

TEST_CASE("a camera password is its file's content without one trailing newline") {
  TempConfigDir d;
  CameraConfig camera;
  camera.id = "lobby";
  camera.password_file = d.Write("lobby", "s3cret\n");
  CHECK(*ReadCameraPassword(camera) == "s3cret");
  camera.password_file = d.Write("lobby", "s3cret\r\n");
  CHECK(*ReadCameraPassword(camera) == "s3cret");
  camera.password_file = d.Write("lobby", "s3cret\n\n");
  CHECK(*ReadCameraPassword(camera) == "s3cret\n");
  camera.password_file = d.Write("lobby", " spaces kept ");
  CHECK(*ReadCameraPassword(camera) == " spaces kept ");
}

TEST_CASE("a camera without a password file has an empty password") {
  CameraConfig camera;
  camera.id = "yard";
  Result<std::string> password = ReadCameraPassword(camera);
  REQUIRE(password.ok());
  CHECK(password->empty());
}

TEST_CASE("a password file that has gone is an error naming the camera") {
  TempConfigDir d;
  CameraConfig camera;
  camera.id = "yard";
  camera.password_file = d.Path("gone");
  Result<std::string> password = ReadCameraPassword(camera);
  REQUIRE_FALSE(password.ok());
  CHECK(password.status().kind() == ErrorKind::kNotFound);
  CHECK(password.status().message() ==
        "camera yard: read password_file: No such file or directory");
}

TEST_CASE("a password file that cannot be read is an error naming the camera and not the file") {
  TempConfigDir d;
  CameraConfig camera;
  camera.id = "yard";
  camera.password_file = d.Write("hunter2", "hunter2\n");
  FaultInjectingFilesystem fs(PosixFilesystem::Instance());
  fs.FailReads(true);
  Result<std::string> password = ReadCameraPassword(camera, fs);
  REQUIRE(password.status().kind() == ErrorKind::kIo);
  CHECK(password.status().message() == "camera yard: read password_file: Input/output error");
  fs.FailReads(false);
  CHECK(*ReadCameraPassword(camera, fs) == "hunter2");
}

TEST_CASE("an oversized password file is refused") {
  TempConfigDir d;
  CameraConfig camera;
  camera.id = "yard";
  camera.password_file = d.Write("big", std::string(5000, 'x'));
  Result<std::string> password = ReadCameraPassword(camera);
  REQUIRE_FALSE(password.ok());
  CHECK(password.status().message() ==
        "camera yard: read password_file: the file is larger than 4096 bytes");
}

TEST_CASE("transports are named as the config file spells them") {
  CHECK(std::string(TransportName(Transport::kTcp)) == "tcp");
  CHECK(std::string(TransportName(Transport::kUdp)) == "udp");
  CHECK(std::string(TransportName(Transport::kAuto)) == "auto");
}
