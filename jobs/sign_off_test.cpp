#include "jobs/sign_off.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/sha256.h"
#include "exports/export_jobs.h"
#include "exports/signing.h"
#include "exports/testing.h"
#include "jobs/export_run.h"
#include "jobs/redactions.h"
#include "jobs/testing.h"

using namespace custodian;
using namespace custodian::exports::testing;
using namespace custodian::jobs;
using namespace custodian::jobs::testing;
using json = nlohmann::json;

namespace {

// A site with a ready export of two seconds of door-1, built by the export run, and a done
// redaction of it whose video is video_bytes long.
struct ReadyRedaction {
  explicit ReadyRedaction(uint64_t video_bytes = 3 << 20) {
    const UtcMicros t = kT0 - kHour;
    AddSegment(*s.db, s.dir.path(), "door-1", t, 320, 240, 2);
    const int64_t req = ApprovedPoliceRequest(s, {{"door-1", t, t + 2 * kMicrosPerSecond}}, "CR/1");
    auto ticket = exports::RequestExport(*s.db, req, s.staff, false);
    REQUIRE(ticket.ok());
    exports::ExportServiceOptions o;
    o.data_dir = s.dir.path();
    o.keys_dir = s.dir.File("keys");
    o.site_name = "Test site";
    ExportJobRunner runner(*s.db, PosixFilesystem::Instance(), s.clock, o);
    REQUIRE(runner.RunNext().ok());
    e = **s.db->GetExport(ticket->export_id);
    REQUIRE(e.state == records::ExportState::kReady);
    redaction_id = DoneRedaction(*s.db, s.dir.path(), e, s.manager_a, video_bytes);
    package = RedactedPackageDir(s.dir.path(), e.id, redaction_id);
  }

  RedactionSignOff By(int64_t reviewer, const std::string& note = "watched it all") const {
    RedactionSignOff r;
    r.reviewer_id = reviewer;
    r.note = note;
    r.checked = kFlaggedRanges;
    r.now = s.clock.Now();
    r.client = "console";
    return r;
  }
  SignOffPaths Paths() const { return {s.dir.path(), s.dir.File("keys")}; }
  Status SignOff(const RedactionSignOff& r, Filesystem& fs = PosixFilesystem::Instance()) {
    return SignOffRedaction(*s.db, fs, Paths(), redaction_id, r);
  }
  std::vector<records::AccessEntry> SignOffEntries() {
    records::AccessFilter filter;
    filter.action = kSignOffAction;
    return *s.db->QueryAccess(filter);
  }
  // Nothing of a sign-off is recorded.
  void RequireUnsigned() {
    auto row = **s.db->GetRedaction(redaction_id);
    REQUIRE_FALSE(row.signed_off.has_value());
    REQUIRE_FALSE(RedactionRecord(row).contains("sign_off"));
    REQUIRE_FALSE((*s.db->GetExport(e.id))->redacted);
    REQUIRE(SignOffEntries().empty());
    REQUIRE_FALSE(
        (*SignedOffRedaction(*s.db, PosixFilesystem::Instance(), s.dir.path(), e.id)).has_value());
  }

  Site s;
  records::ExportRow e;
  int64_t redaction_id = 0;
  std::string package;
};

}  // namespace

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
