// `custodian camera discover`, the real binary, against the fake ONVIF camera
// (fake_onvif.cpp) on loopback: what an installer sees with and without the camera's
// password, and with a wrong one.
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <regex>
#include <string>

#include "base/testing/child_process.h"
#include "base/testing/temp_dir.h"

namespace {

using custodian::testing::TempDir;

constexpr char kMainUri[] = "rtsp://127.0.0.1:8554/porch";
constexpr char kSubUri[] = "rtsp://127.0.0.1:8554/porch-sub";
constexpr char kPassword[] = "the porch camera's password";

// The fake camera as a child process; it exits when its stdin closes.
class FakeOnvif {
 public:
  FakeOnvif() {
    int in[2], out[2];
    REQUIRE(pipe(in) == 0);
    REQUIRE(pipe(out) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      execl(FAKE_ONVIF_BINARY, FAKE_ONVIF_BINARY, "--username", "installer", "--password",
            kPassword, "--main-uri", kMainUri, "--sub-uri", kSubUri, "--make", "FakeVision",
            "--model", "FV-100", "--firmware", "2.4.1-fake", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    std::string line;
    pollfd p{stdout_, POLLIN, 0};
    char c;
    while (line.find('\n') == std::string::npos && poll(&p, 1, 30'000) > 0 &&
           read(stdout_, &c, 1) == 1) {
      line += c;
    }
    std::smatch m;
    REQUIRE(std::regex_search(line, m, std::regex("ready http=(\\d+) discovery=(\\d+)")));
    discovery_port_ = std::stoi(m[2]);
  }
  ~FakeOnvif() {
    close(stdin_);
    close(stdout_);
    custodian::testing::StopChild(pid_);
  }
  std::string Address() const { return "127.0.0.1:" + std::to_string(discovery_port_); }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  int discovery_port_ = 0;
};

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
                         " --password-file " + PasswordFile(dir, kPassword),
                     &out);
  INFO(out);
  CHECK(rc == 0);
  CHECK(out.find("1 ONVIF camera(s) found at " + fake.Address()) != std::string::npos);
  CHECK(std::regex_search(out, std::regex("address:  http://127\\.0\\.0\\.1:\\d+/onvif/"
                                          "device_service")));
  CHECK(out.find("make:     FakeVision") != std::string::npos);
  CHECK(out.find("model:    FV-100") != std::string::npos);
  CHECK(out.find("firmware: 2.4.1-fake") != std::string::npos);
  CHECK(out.find(std::string("main_url: ") + kMainUri + "  (mainStream, 1280x720 H264)") !=
        std::string::npos);
  CHECK(out.find(std::string("sub_url:  ") + kSubUri + "  (subStream, 640x360 H264)") !=
        std::string::npos);
  CHECK(out.find(kPassword) == std::string::npos);
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
  CHECK(out.find(kPassword) == std::string::npos);
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
