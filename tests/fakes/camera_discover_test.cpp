// `custodian camera discover`, the real binary, against the fake ONVIF camera
// (fake_onvif.cpp) on loopback: what an installer sees with and without the camera's
// password, and with a wrong one; the camera found by multicast on the loopback interface;
// a camera serving ONVIF over HTTPS with HTTP Digest.
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "base/testing/temp_dir.h"
#include "tests/fakes/fake_onvif_process.h"

namespace {

using custodian::testing::TempDir;

using custodian::testing::FakeOnvif;
using custodian::testing::kFakeMainUri;
using custodian::testing::kFakePassword;
using custodian::testing::kFakeSubUri;

int Run(const std::string& args, std::string* out) {
  const std::string cmd = std::string(CUSTODIAN_BINARY) + " camera discover " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  out->clear();
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string PasswordFile(const TempDir& dir, const std::string& password) {
  const std::string path = dir.File("camera.password");
  std::ofstream(path) << password << "\n";
  return path;
}

TEST_CASE("camera discover with the camera's password lists it with firmware and streams") {
  FakeOnvif fake;
  TempDir dir;
  std::string out;
  const int rc = Run("--address " + fake.Address() + " --timeout-ms 1500 --username installer" +
                         " --password-file " + PasswordFile(dir, kFakePassword),
                     &out);
  INFO(out);
  CHECK(rc == 0);
  CHECK(out.find("1 ONVIF camera(s) found at " + fake.Address()) != std::string::npos);
  CHECK(std::regex_search(out, std::regex("address:  http://127\\.0\\.0\\.1:\\d+/onvif/"
                                          "device_service")));
  CHECK(out.find("make:     FakeVision") != std::string::npos);
  CHECK(out.find("model:    FV-100") != std::string::npos);
  CHECK(out.find("firmware: 2.4.1-fake") != std::string::npos);
  CHECK(out.find(std::string("main_url: ") + kFakeMainUri + "  (mainStream, 1280x720 H264)") !=
        std::string::npos);
  CHECK(out.find(std::string("sub_url:  ") + kFakeSubUri + "  (subStream, 640x360 H264)") !=
        std::string::npos);
  CHECK(out.find(kFakePassword) == std::string::npos);
}

TEST_CASE("camera discover without credentials names the camera from its discovery scopes") {
  FakeOnvif fake;
  std::string out;
  const int rc = Run("--address " + fake.Address() + " --timeout-ms 1500", &out);
  INFO(out);
  CHECK(rc == 0);
  CHECK(out.find("make:     FakeVision") != std::string::npos);
  CHECK(out.find("model:    FV-100") != std::string::npos);
  CHECK(out.find("firmware: (unknown)") != std::string::npos);
  CHECK(out.find("note: the camera refused the user name or password") != std::string::npos);
  CHECK(out.find("main_url") == std::string::npos);
}

TEST_CASE("camera discover with a wrong password says so and never prints it") {
  FakeOnvif fake;
  TempDir dir;
  std::string out;
  const std::string wrong = "not the porch password";
  const int rc = Run("--address " + fake.Address() + " --timeout-ms 1500 --username installer" +
                         " --password-file " + PasswordFile(dir, wrong),
                     &out);
  INFO(out);
  CHECK(rc == 1);
  CHECK(out.find("streams: the camera refused the user name or password") != std::string::npos);
  CHECK(out.find(wrong) == std::string::npos);
  CHECK(out.find(kFakePassword) == std::string::npos);
}

TEST_CASE("camera discover finds the fake camera by multicast on the loopback interface") {
  auto fake = custodian::testing::MulticastFakeOrSkip();
  if (!fake) return;
  std::string out;
  // No --address: the probe goes to 239.255.255.250:3702, by the loopback interface.
  const int rc = Run("--interface 127.0.0.1 --timeout-ms 4000", &out);
  INFO(out);
  CHECK(rc == 0);
  CHECK(out.find("camera(s) found on the local network of the interface 127.0.0.1") !=
        std::string::npos);
  // Other fakes on this machine may answer too; this one must be among them.
  CHECK(out.find("address:  " + fake->DeviceService() +
                 "\nmake:     FakeVision\nmodel:    FV-100") != std::string::npos);
  std::string usage;
  CHECK(Run("--interface not-an-address --timeout-ms 100", &usage) == 1);
  CHECK(usage.find("not an IPv4 address") != std::string::npos);
}

TEST_CASE("camera discover shows an https camera's certificate and gets its streams by it") {
  TempDir dir;
  const std::string sha256 = custodian::testing::MakeFakeCertificate(dir, "porch");
  FakeOnvif fake({"--tls-cert", dir.File("porch.crt"), "--tls-key", dir.File("porch.key"),
                  "--http-auth", "digest"});
  std::string out;
  const int rc = Run("--address " + fake.Address() + " --timeout-ms 1500 --username installer" +
                         " --password-file " + PasswordFile(dir, kFakePassword),
                     &out);
  INFO(out);
  CHECK(rc == 0);
  CHECK(out.find("address:  " + fake.DeviceService()) != std::string::npos);
  CHECK(out.find("https://") != std::string::npos);
  CHECK(out.find("certificate: SHA-256 " + sha256) != std::string::npos);
  CHECK(out.find("firmware: 2.4.1-fake") != std::string::npos);
  CHECK(out.find(std::string("main_url: ") + kFakeMainUri) != std::string::npos);
  CHECK(out.find(kFakePassword) == std::string::npos);
}

TEST_CASE("camera discover of an address where nothing answers finds no camera") {
  std::string out;
  const int rc = Run("--address 127.0.0.1:9 --timeout-ms 300", &out);
  INFO(out);
  CHECK(rc == 1);
  CHECK(out.find("0 ONVIF camera(s) found at 127.0.0.1:9") != std::string::npos);
  std::string usage;
  CHECK(Run("--timeout-ms", &usage) == 2);
  CHECK(Run("--password-file /nonexistent", &usage) == 2);  // a password needs a user name
}

}  // namespace
