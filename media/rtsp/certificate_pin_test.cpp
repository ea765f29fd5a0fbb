// The pin of an rtsps:// camera's certificate: first use, a match, a change noted and
// refused, acceptance of what was presented and nothing else, the subject and expiry kept
// with each, a damaged file.
#include "media/rtsp/certificate_pin.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "base/testing/temp_dir.h"

using namespace custodian;
using namespace custodian::media::rtsp;

namespace {

const std::string kFirst(64, 'a');
const std::string kSecond(64, 'b');
const std::string kThird(64, 'c');
constexpr UtcMicros kT0{1'767'225'600'000'000};

// A certificate known by its fingerprint alone.
PeerCertificate Cert(const std::string& sha256) { return {sha256, "", std::nullopt}; }

}  // namespace

TEST_CASE("a camera's first certificate is pinned and later ones must match it") {
  custodian::testing::TempDir dir;
  PosixFilesystem fs;
  const std::string path = CertificatePinPath(dir.path(), "lobby");
  CHECK(path == dir.path() + "/state/tls/lobby.pin");
  CHECK(*CheckCertificate(fs, path, Cert(kFirst), kT0) == PinCheck::kFirstUse);
  CHECK(*CheckCertificate(fs, path, Cert(kFirst), kT0) == PinCheck::kMatches);

  CHECK(*CheckCertificate(fs, path, Cert(kSecond), kT0) == PinCheck::kChanged);
  auto pin = ReadCertificatePin(fs, path);
  REQUIRE(pin.ok());
  REQUIRE(pin->has_value());
  CHECK((*pin)->sha256 == kFirst);
  CHECK((*pin)->pinned_by == "first use");
  CHECK((*pin)->presented == kSecond);
  // Still refused on every attempt until accepted.
  CHECK(*CheckCertificate(fs, path, Cert(kSecond), kT0) == PinCheck::kChanged);
}

TEST_CASE("only the certificate presented can be accepted, and it becomes the pin") {
  custodian::testing::TempDir dir;
  PosixFilesystem fs;
  const std::string path = CertificatePinPath(dir.path(), "yard");
  CHECK(AcceptPresentedCertificate(fs, path, kSecond, "admin", kT0).status().kind() ==
        ErrorKind::kFailedPrecondition);
  REQUIRE(*CheckCertificate(fs, path, Cert(kFirst), kT0) == PinCheck::kFirstUse);
  CHECK(AcceptPresentedCertificate(fs, path, kSecond, "admin", kT0).status().kind() ==
        ErrorKind::kFailedPrecondition);  // nothing presented yet
  REQUIRE(*CheckCertificate(fs, path, Cert(kSecond), kT0) == PinCheck::kChanged);
  CHECK(AcceptPresentedCertificate(fs, path, kThird, "admin", kT0).status().kind() ==
        ErrorKind::kFailedPrecondition);  // not what was presented
  auto accepted = AcceptPresentedCertificate(fs, path, kSecond, "admin", kT0 + 5);
  REQUIRE(accepted.ok());
  CHECK(accepted->sha256 == kSecond);
  CHECK(accepted->pinned_by == "admin");
  CHECK(accepted->presented.empty());
  CHECK(*CheckCertificate(fs, path, Cert(kSecond), kT0) == PinCheck::kMatches);
  CHECK(*CheckCertificate(fs, path, Cert(kFirst), kT0) == PinCheck::kChanged);
}

TEST_CASE("a damaged pin file is an error, never a first use") {
  custodian::testing::TempDir dir;
  PosixFilesystem fs;
  const std::string path = CertificatePinPath(dir.path(), "gate");
  REQUIRE(fs.CreateDirs(dir.path() + "/state/tls").ok());
  std::ofstream(path) << "pinned not-a-hash 2026-01-01T00:00:00Z first use\n";
  CHECK(CheckCertificate(fs, path, Cert(kFirst), kT0).status().kind() == ErrorKind::kDataLoss);
  CHECK(CheckCertificate(fs, path, Cert(""), kT0).status().kind() == ErrorKind::kInvalidArgument);
}

TEST_CASE("the pin keeps each certificate's subject and expiry, and fills in an older file's") {
  custodian::testing::TempDir dir;
  PosixFilesystem fs;
  const std::string path = CertificatePinPath(dir.path(), "porch");
  REQUIRE(fs.CreateDirs(dir.path() + "/state/tls").ok());
  // A file from before subjects and expiries were kept.
  std::ofstream(path) << "pinned " << kFirst << " 2026-01-01T00:00:00Z first use\n";
  auto old = ReadCertificatePin(fs, path);
  REQUIRE(old.ok());
  CHECK((*old)->subject.empty());
  CHECK_FALSE((*old)->expires);
  const UtcMicros expires = kT0 + 20 * kMicrosPerDay;
  CHECK(*CheckCertificate(fs, path, {kFirst, "CN=porch,O=Vendor", expires}, kT0) ==
        PinCheck::kMatches);
  auto pin = ReadCertificatePin(fs, path);
  REQUIRE(pin.ok());
  CHECK((*pin)->subject == "CN=porch,O=Vendor");
  CHECK((*pin)->expires == expires);
  CHECK((*pin)->pinned_by == "first use");

  // A new certificate: noted with its own subject and expiry, and they go with it when
  // it is accepted.
  const UtcMicros renewed = kT0 + 400 * kMicrosPerDay;
  CHECK(*CheckCertificate(fs, path, {kSecond, "CN=porch-2", renewed}, kT0) == PinCheck::kChanged);
  pin = ReadCertificatePin(fs, path);
  REQUIRE(pin.ok());
  CHECK((*pin)->subject == "CN=porch,O=Vendor");
  CHECK((*pin)->presented_subject == "CN=porch-2");
  CHECK((*pin)->presented_expires == renewed);
  auto accepted = AcceptPresentedCertificate(fs, path, kSecond, "admin", kT0);
  REQUIRE(accepted.ok());
  CHECK(accepted->subject == "CN=porch-2");
  CHECK(accepted->expires == renewed);
  pin = ReadCertificatePin(fs, path);
  REQUIRE(pin.ok());
  CHECK((*pin)->subject == "CN=porch-2");
  CHECK((*pin)->expires == renewed);
  CHECK((*pin)->presented_subject.empty());
  CHECK_FALSE((*pin)->presented_expires);

  // A subject with control characters is not what this code writes: damaged.
  std::ofstream(path) << "pinned " << kFirst << " 2026-01-01T00:00:00Z first use\n"
                      << "pinned_subject CN=a\tb\n";
  CHECK(ReadCertificatePin(fs, path).status().kind() == ErrorKind::kDataLoss);
}
