// The onvif library's calls against the fake ONVIF camera (fake_onvif.cpp): the multicast
// probe by the loopback interface, and the fake playing a camera that demands more than
// WS-Security: HTTP Digest on every call (right and wrong passwords, SHA-256 and MD5, qop
// auth-int with userhash), HTTP
// Basic (never answered), and ONVIF over HTTPS with its certificate trusted on first use.
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "base/testing/temp_dir.h"
#include "onvif/device.h"
#include "onvif/discovery.h"
#include "onvif/soap.h"
#include "tests/fakes/fake_onvif_process.h"

namespace custodian::onvif {
namespace {

using testing::FakeOnvif;
using testing::kFakeMainUri;
using testing::kFakePassword;
using testing::kFakeSubUri;
using testing::TempDir;

constexpr int64_t kCallMs = 10'000;  // generous: a loaded CI machine, sanitized builds

using testing::Slurp;
TEST_CASE("a multicast probe by the loopback interface finds the fake camera in the group") {
  auto fake = testing::MulticastFakeOrSkip();
  if (!fake) return;
  ProbeOptions multicast;  // no address: 239.255.255.250:3702
  multicast.timeout_ms = 4000;
  multicast.interface_address = "127.0.0.1";
  auto found = Probe(multicast);
  REQUIRE(found.ok());
  bool this_fake = false;  // other fakes running at once may answer too
  for (const DiscoveredDevice& d : found->devices) {
    if (!d.xaddrs.empty() && d.xaddrs[0] == fake->DeviceService()) {
      this_fake = true;
      CHECK(d.name == "FakeVision");
      CHECK(d.hardware == "FV-100");
      CHECK(d.from == "127.0.0.1");
    }
  }
  CHECK(this_fake);
}

TEST_CASE("a camera that demands HTTP Digest gives its streams for the right password") {
  // digest-auth-int-userhash: SHA-256 with only qop auth-int (the SOAP body hashed in) and
  // userhash, which the client did not answer before it did them.
  for (const char* mode : {"digest-sha256", "digest-md5", "digest", "digest-auth-int-userhash"}) {
    INFO(mode);
    TempDir dir;
    FakeOnvif fake({"--http-auth", mode}, dir.File("fake.log"));
    OnvifCamera camera(fake.DeviceService(), {"installer", kFakePassword}, kCallMs);
    auto info = camera.GetDeviceInformation();
    REQUIRE(info.ok());
    CHECK(info->make == "FakeVision");
    auto streams = camera.GetStreams();
    REQUIRE(streams.ok());
    CHECK(streams->main_url == kFakeMainUri);
    CHECK(streams->sub_url == kFakeSubUri);
    CHECK(camera.certificate_sha256().empty());
    // Each call was first refused with the challenge, then answered.
    const std::string log = Slurp(dir.File("fake.log"));
    CHECK(log.find("GetProfiles: refused (HTTP " + std::string(mode) + ")") != std::string::npos);
    CHECK(log.find("GetProfiles: ok") != std::string::npos);
  }
}

TEST_CASE("a camera that demands HTTP Digest refuses a wrong or missing password") {
  const char* mode = GENERATE("digest", "digest-auth-int-userhash");
  INFO(mode);
  TempDir dir;
  FakeOnvif fake({"--http-auth", mode}, dir.File("fake.log"));
  const std::string wrong = "not the porch password";
  auto refused = OnvifCamera(fake.DeviceService(), {"installer", wrong}, kCallMs).GetStreams();
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().kind() == ErrorKind::kUnauthenticated);
  CHECK(refused.status().message() == kRefusedCredentials);
  auto other_user = OnvifCamera(fake.DeviceService(), {"intruder", kFakePassword}, kCallMs)
                        .GetDeviceInformation();
  REQUIRE_FALSE(other_user.ok());
  CHECK(other_user.status().message() == kRefusedCredentials);
  auto anonymous = OnvifCamera(fake.DeviceService(), {}, kCallMs).GetDeviceInformation();
  REQUIRE_FALSE(anonymous.ok());
  CHECK(anonymous.status().message() == kRefusedCredentials);
  const std::string log = Slurp(dir.File("fake.log"));
  CHECK(log.find(": ok") == std::string::npos);  // no call got through
  CHECK(log.find(wrong) == std::string::npos);
}

TEST_CASE("a camera that asks for HTTP Basic is not sent the password") {
  TempDir dir;
  FakeOnvif fake({"--http-auth", "basic"}, dir.File("fake.log"));
  auto info = OnvifCamera(fake.DeviceService(), {"installer", kFakePassword}, kCallMs)
                  .GetDeviceInformation();
  REQUIRE_FALSE(info.ok());
  CHECK(info.status().kind() == ErrorKind::kFailedPrecondition);
  CHECK(info.status().message().find("offered: basic") != std::string::npos);
  // One request, without credentials in any header, and no second one.
  CHECK(Slurp(dir.File("fake.log")) == "GetDeviceInformation: refused (HTTP basic)\n");
}

TEST_CASE("a camera over HTTPS is trusted on first use and refused with another certificate") {
  TempDir dir;
  const std::string first = testing::MakeFakeCertificate(dir, "first");
  const std::string second = testing::MakeFakeCertificate(dir, "second");
  FakeOnvif fake({"--tls-cert", dir.File("first.crt"), "--tls-key", dir.File("first.key"),
                  "--http-auth", "digest"},
                 dir.File("fake.log"));
  REQUIRE(fake.DeviceService().rfind("https://", 0) == 0);

  OnvifCamera camera(fake.DeviceService(), {"installer", kFakePassword}, kCallMs);
  auto streams = camera.GetStreams();  // device service, then the media service, both TLS
  REQUIRE(streams.ok());
  CHECK(streams->main_url == kFakeMainUri);
  CHECK(camera.certificate_sha256() == first);

  auto pinned = OnvifCamera(fake.DeviceService(), {"installer", kFakePassword}, kCallMs, first)
                    .GetDeviceInformation();
  CHECK(pinned.ok());

  const size_t calls_before = Slurp(dir.File("fake.log")).size();
  auto changed = OnvifCamera(fake.DeviceService(), {"installer", kFakePassword}, kCallMs, second)
                     .GetDeviceInformation();
  REQUIRE_FALSE(changed.ok());
  CHECK(changed.status().kind() == ErrorKind::kFailedPrecondition);
  CHECK(changed.status().message().find("presented another certificate (SHA-256 " + first) !=
        std::string::npos);
  // Closed after the handshake: the fake saw no request at all.
  CHECK(Slurp(dir.File("fake.log")).size() == calls_before);
}

}  // namespace
}  // namespace custodian::onvif
