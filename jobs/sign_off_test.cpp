#include "jobs/sign_off.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/sha256.h"
#include "exports/signing.h"
#include "jobs/sign_off_fixture.h"

using namespace custodian;
using namespace custodian::jobs;
using namespace custodian::jobs::testing;
using json = nlohmann::json;

TEST_CASE("a sign-off signs the manifest, records it and logs one access entry") {
  ReadyRedaction r;
  REQUIRE(r.SignOff(r.By(r.s.manager_a)).ok());

  auto row = **r.s.db->GetRedaction(r.redaction_id);
  REQUIRE(row.signed_off.has_value());
  REQUIRE(row.reviewer_user_id == r.s.manager_a);
  REQUIRE((*r.s.db->GetExport(r.e.id))->redacted);
  const json record = RedactionRecord(row);
  const std::string manifest_path = r.package + "/" + kRedactionManifestName;
  REQUIRE(*Sha256File(manifest_path) == record["sign_off"]["manifest_sha256"]);
  REQUIRE(record["sign_off"]["reviewer"]["name"] == "alex");
  REQUIRE(record["sign_off"]["reviewer"]["role"] == "manager");

  // The manifest names each file with the hash and size of what is on disk.
  const json manifest = json::parse(*ReadFileToString(PosixFilesystem::Instance(), manifest_path));
  REQUIRE(manifest["files"].size() == 3);
  for (const json& f : manifest["files"]) {
    const std::string path = r.package + "/" + f["path"].get<std::string>();
    REQUIRE(f["sha256"] == *Sha256File(path));
    REQUIRE(f["bytes"] == std::filesystem::file_size(path));
  }
  REQUIRE(manifest["files"][0]["bytes"] == 3 << 20);
  REQUIRE(manifest["flagged_ranges_checked"].size() == 2);
  REQUIRE(manifest["note"] == "watched it all");

  // Signed with the site's key.
  auto key = exports::SigningKey::Load(r.s.dir.File("keys"));
  REQUIRE(key.ok());
  auto sig = ReadFileToString(PosixFilesystem::Instance(), manifest_path + ".minisig");
  REQUIRE(sig.ok());
  const auto checked = exports::VerifyMinisign(
      key->public_key(), *ReadFileToString(PosixFilesystem::Instance(), manifest_path), *sig);
  INFO(checked.reason);
  REQUIRE(checked.ok);

  const auto entries = r.SignOffEntries();
  REQUIRE(entries.size() == 1);
  REQUIRE(entries[0].user_name == "alex");
  REQUIRE(entries[0].client == "console");
  REQUIRE(entries[0].detail == "redaction " + std::to_string(r.redaction_id) + " of export " +
                                   std::to_string(r.e.id) + " signed off");
  auto served = SignedOffRedaction(*r.s.db, PosixFilesystem::Instance(), r.s.dir.path(), r.e.id);
  REQUIRE(served.ok());
  REQUIRE((*served)->id == r.redaction_id);
}

TEST_CASE("a manager without the permission for the export's camera cannot sign it off") {
  ReadyRedaction r;
  REQUIRE(r.s.db->RevokeCamera(r.s.manager_b, "door-1").ok());
  Status st = r.SignOff(r.By(r.s.manager_b));
  REQUIRE(st.kind() == ErrorKind::kPermissionDenied);
  REQUIRE(st.message().find("camera door-1") != std::string::npos);
  r.RequireUnsigned();
  REQUIRE_FALSE(std::filesystem::exists(r.package + "/" + kRedactionManifestName));
  REQUIRE(r.SignOff(r.By(r.s.dpo)).ok());  // the DPO oversees every camera
}

TEST_CASE("a sign-off is refused without a note, a checked range, a manager, or a second time") {
  ReadyRedaction r;
  RedactionSignOff blank = r.By(r.s.manager_a, "  \n");
  REQUIRE(r.SignOff(blank).kind() == ErrorKind::kInvalidArgument);
  RedactionSignOff partial = r.By(r.s.manager_a);
  partial.checked = {kFlaggedRanges[0]};
  REQUIRE(r.SignOff(partial).kind() == ErrorKind::kInvalidArgument);
  RedactionSignOff unknown = r.By(r.s.manager_a);
  unknown.checked.push_back("0:1-2");
  REQUIRE(r.SignOff(unknown).kind() == ErrorKind::kInvalidArgument);
  REQUIRE(r.SignOff(r.By(r.s.staff)).kind() == ErrorKind::kPermissionDenied);
  REQUIRE(r.SignOff(r.By(9999)).kind() == ErrorKind::kNotFound);
  r.RequireUnsigned();
  REQUIRE_FALSE(std::filesystem::exists(r.package + "/" + kRedactionManifestName));

  REQUIRE(r.SignOff(r.By(r.s.dpo)).ok());
  const std::string manifest = *Sha256File(r.package + "/" + kRedactionManifestName);
  REQUIRE(r.SignOff(r.By(r.s.manager_b, "again")).kind() == ErrorKind::kFailedPrecondition);
  // The second attempt did not touch the signed package.
  REQUIRE(*Sha256File(r.package + "/" + kRedactionManifestName) == manifest);
  REQUIRE(r.SignOffEntries().size() == 1);
}

TEST_CASE("a sign-off that cannot write its manifest records nothing, and a retry succeeds") {
  ReadyRedaction r;
  FaultInjectingFilesystem faulty(PosixFilesystem::Instance());
  faulty.FailWritesAfter(100);  // part of the manifest
  Status st = r.SignOff(r.By(r.s.manager_a), faulty);
  INFO(st.ToString());
  REQUIRE(st.kind() == ErrorKind::kResourceExhausted);
  r.RequireUnsigned();
  REQUIRE_FALSE(std::filesystem::exists(r.package + "/" + kRedactionManifestName));

  faulty.FailWritesAfter(-1);
  REQUIRE(r.SignOff(r.By(r.s.manager_a), faulty).ok());
  REQUIRE(r.SignOffEntries().size() == 1);
}

TEST_CASE("a sign-off that cannot read the package records nothing") {
  ReadyRedaction r;
  FaultInjectingFilesystem faulty(PosixFilesystem::Instance());
  faulty.FailReads(true);
  Status st = r.SignOff(r.By(r.s.manager_a), faulty);
  INFO(st.ToString());
  REQUIRE(st.kind() == ErrorKind::kIo);
  r.RequireUnsigned();
  REQUIRE_FALSE(std::filesystem::exists(r.package + "/" + kRedactionManifestName));
}

TEST_CASE("of two sign-offs at once one is recorded, and its manifest is the one on disk") {
  ReadyRedaction r(32 << 20);
  Status a, b;
  std::thread first([&] { a = r.SignOff(r.By(r.s.manager_a, "first")); });
  std::thread second([&] { b = r.SignOff(r.By(r.s.manager_b, "second")); });
  first.join();
  second.join();
  INFO(a.ToString() << " / " << b.ToString());
  REQUIRE(a.ok() != b.ok());
  REQUIRE((a.ok() ? b : a).kind() == ErrorKind::kFailedPrecondition);
  const json record = RedactionRecord(**r.s.db->GetRedaction(r.redaction_id));
  REQUIRE(*Sha256File(r.package + "/" + kRedactionManifestName) ==
          record["sign_off"]["manifest_sha256"]);
  REQUIRE(record["sign_off"]["note"] == (a.ok() ? "first" : "second"));
  REQUIRE(r.SignOffEntries().size() == 1);
}
