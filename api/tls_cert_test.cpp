#include "api/tls_cert.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <string>

#include "base/testing/temp_dir.h"

namespace custodian::api {
namespace {

using custodian::testing::TempDir;

TEST_CASE("a self-signed certificate whose write fails leaves no key and is made whole next time") {
  TempDir dir;
  const std::string keys = dir.File("keys");
  FaultInjectingFilesystem fs(PosixFilesystem::Instance());
  fs.FailWritesAfter(40);  // inside the key's PEM text
  auto tls = EnsureTlsCertificate(keys, "", "", fs);
  REQUIRE(tls.status().kind() == ErrorKind::kResourceExhausted);
  REQUIRE(fs.List(keys)->empty());  // neither a cut key nor its temporary

  fs.FailWritesAfter(-1);
  tls = EnsureTlsCertificate(keys, "", "", fs);
  REQUIRE(tls.ok());
  REQUIRE(tls->generated);
  struct stat st {};
  REQUIRE(::stat(tls->key_path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(tls->cert_path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
  REQUIRE(fs.List(keys)->size() == 2);
  auto pem = ReadTlsCredentials(tls->cert_path, tls->key_path, fs);
  REQUIRE(pem.ok());
  CHECK(pem->key_pem.find("-----BEGIN PRIVATE KEY-----") == 0);
  auto fingerprint = CertificateFingerprint(pem->cert_pem);
  REQUIRE(fingerprint.ok());
  CHECK(fingerprint->size() == 32 * 3 - 1);
  CHECK(CertificateFingerprint("not a certificate").status().kind() == ErrorKind::kInvalidArgument);
}

TEST_CASE("a certificate or key that cannot be read is an error naming the file") {
  TempDir dir;
  FaultInjectingFilesystem fs(PosixFilesystem::Instance());
  auto tls = EnsureTlsCertificate(dir.File("keys"), "", "", fs);
  REQUIRE(tls.ok());
  fs.FailReads(true);
  auto pem = ReadTlsCredentials(tls->cert_path, tls->key_path, fs);
  REQUIRE(pem.status().kind() == ErrorKind::kIo);
  CHECK(pem.status().message().find("cannot read the TLS certificate " + tls->cert_path) == 0);
  fs.FailReads(false);
  pem = ReadTlsCredentials(tls->cert_path, dir.File("keys/absent.pem"), fs);
  REQUIRE(pem.status().kind() == ErrorKind::kNotFound);
  CHECK(pem.status().message().find("cannot read the TLS key " + dir.File("keys/absent.pem")) == 0);
}

}  // namespace
}  // namespace custodian::api
