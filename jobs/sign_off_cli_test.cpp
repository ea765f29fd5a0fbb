// `custodian redact sign-off` through the real binary: the same procedure as the API's, so
// the same manifest, signature and access-log entry, and the same refusals.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/sha256.h"
#include "exports/signing.h"
#include "jobs/sign_off_fixture.h"

using namespace custodian;
using namespace custodian::jobs;
using namespace custodian::jobs::testing;
using json = nlohmann::json;

TEST_CASE("custodian redact sign-off is the same sign-off, with the same manifest and entry") {
  ReadyRedaction r;
  std::filesystem::create_directories(r.s.dir.File("cameras"));
  std::ofstream(r.s.dir.File("site.yaml")) << "site: { name: \"Test site\" }\n"
                                              "data_dir: "
                                           << r.s.dir.path()
                                           << "\n"
                                              "cameras_dir: cameras\n";
  const std::string cli = std::string(CUSTODIAN_BINARY) + " --config " + r.s.dir.File("site.yaml") +
                          " redact sign-off " + std::to_string(r.redaction_id) + " --reviewer dana";

  // One flagged range not confirmed: refused, naming it, and nothing written.
  int status = 0;
  std::string out = RunOutput(cli + " --note 'both watched' --checked 0:10-20", &status);
  INFO(out);
  REQUIRE(status == 1);
  REQUIRE(out.find("0:40-55") != std::string::npos);
  r.RequireUnsigned();
  REQUIRE_FALSE(std::filesystem::exists(r.package + "/" + kRedactionManifestName));

  out = RunOutput(cli + " --note 'both watched' --checked 0:10-20 --checked 0:40-55", &status);
  INFO(out);
  REQUIRE(status == 0);
  auto row = **r.s.db->GetRedaction(r.redaction_id);
  REQUIRE(row.reviewer_user_id == r.s.dpo);
  const json record = RedactionRecord(row);
  const std::string manifest_path = r.package + "/" + kRedactionManifestName;
  REQUIRE(*Sha256File(manifest_path) == record["sign_off"]["manifest_sha256"]);
  const json manifest = json::parse(*ReadFileToString(PosixFilesystem::Instance(), manifest_path));
  REQUIRE(manifest["format"] == "custodian-redaction-manifest-1");
  REQUIRE(manifest["reviewer"]["role"] == "dpo");
  REQUIRE(manifest["files"].size() == 3);
  auto key = exports::SigningKey::Load(r.s.dir.File("keys"));
  REQUIRE(key.ok());
  REQUIRE(exports::VerifyMinisign(
              key->public_key(), *ReadFileToString(PosixFilesystem::Instance(), manifest_path),
              *ReadFileToString(PosixFilesystem::Instance(), manifest_path + ".minisig"))
              .ok);
  const auto entries = r.SignOffEntries();
  REQUIRE(entries.size() == 1);
  REQUIRE(entries[0].user_name == "dana");
  REQUIRE(entries[0].client == "console");
  REQUIRE(entries[0].detail.find("signed off") != std::string::npos);

  // A second sign-off from the command line is refused like the API's.
  out = RunOutput(cli + " --note again --checked 0:10-20 --checked 0:40-55", &status);
  REQUIRE(status == 1);
  REQUIRE(out.find("signed off already") != std::string::npos);
  REQUIRE(r.SignOffEntries().size() == 1);
}

TEST_CASE("custodian redact sign-off refuses a manager without the camera's permission") {
  ReadyRedaction r;
  REQUIRE(r.s.db->RevokeCamera(r.s.manager_b, "door-1").ok());
  std::filesystem::create_directories(r.s.dir.File("cameras"));
  std::ofstream(r.s.dir.File("site.yaml")) << "site: { name: \"Test site\" }\n"
                                           << "data_dir: " << r.s.dir.path() << "\n"
                                           << "cameras_dir: cameras\n";
  int status = 0;
  const std::string out =
      RunOutput(std::string(CUSTODIAN_BINARY) + " --config " + r.s.dir.File("site.yaml") +
                    " redact sign-off " + std::to_string(r.redaction_id) +
                    " --reviewer blake --note 'both watched' --checked 0:10-20 --checked 0:40-55",
                &status);
  INFO(out);
  REQUIRE(status == 1);
  REQUIRE(out.find("camera door-1, which blake has no permission for") != std::string::npos);
  r.RequireUnsigned();
}
