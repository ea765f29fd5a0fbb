// The whole police flow, end to end: log the request, verify, approve as a
// second manager, export (with the custodian binary), verify with the minisign CLI and with
// `custodian export verify`, record the handover, close; then show that one altered byte
// fails verification.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "exports/export_jobs.h"
#include "exports/signing.h"
#include "exports/testing.h"
#include "requests/workflow.h"

using namespace custodian;
using namespace custodian::exports::testing;
using records::RequestState;
using records::VerificationStep;

namespace {

constexpr int64_t kSecond = kMicrosPerSecond;

std::string Custodian(const Site& s, const std::string& args, int* status) {
  return RunOutput(std::string(CUSTODIAN_BINARY) + " --log-level warn --config '" +
                       s.dir.File("site.yaml") + "' " + args,
                   status);
}

void FlipByte(const std::string& path, long from_end) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(-from_end, std::ios::end);
  char c = 0;
  f.get(c);
  f.seekp(-from_end, std::ios::end);
  f.put(static_cast<char>(c ^ 0x01));
}

}  // namespace

TEST_CASE("police flow: log, verify, approve as a second manager, export, verify, hand over") {
  Site s;
  std::ofstream(s.dir.File("site.yaml"))
      << "site: { name: \"Hostel A\" }\n"
      << "data_dir: .\n"
      << "cameras:\n  - id: door-1\n    url: rtsp://127.0.0.1:1/door\n";
  const UtcMicros t = kT0 - kHour;  // 09:00 GMT
  for (int i = 0; i < 6; ++i) {
    AddSegment(*s.db, s.dir.path(), "door-1", t + i * 10 * kSecond, 320, 240, 10);
  }
  requests::Workflow w(*s.db, s.clock);

  // 1. A manager logs the request; its footage is held at once.
  requests::NewRequest r;
  r.type = records::RequestType::kPolice;
  r.requester_name = "DC Jo Example";
  r.organisation = "Example Constabulary";
  r.contact = "CID office, via force switchboard";
  r.reference = "CR/2026/0042";
  r.legal_basis = records::LegalBasis::kCrimePrevention;
  r.legal_basis_detail = "DPA 2018 Sch. 2 para 2; request form signed by Insp. Example";
  r.description = "assault at the front door at about 09:00";
  r.ranges = {{"door-1", t + 15 * kSecond, t + 45 * kSecond}};
  auto id = w.LogRequest(r, s.manager_a);
  REQUIRE(id.ok());
  REQUIRE(*s.db->IsSegmentHeld("door-1", t + 20 * kSecond, t + 30 * kSecond));

  // 2. Staff verify it: in writing, and a call back through the switchboard.
  REQUIRE(w.AddVerification(*id, VerificationStep::kReceivedInWriting, s.staff,
                            "form on force letterhead, emailed from a police.uk address")
              .ok());
  REQUIRE(w.AddVerification(*id, VerificationStep::kIdentityCallback, s.staff,
                            "rang the force switchboard, put through to DC Example")
              .ok());
  REQUIRE(w.SubmitForDecision(*id, s.staff).ok());

  // 3. The manager who logged it cannot approve it, nor can staff; a second manager does.
  REQUIRE(w.Decide(*id, {true, s.manager_a, "lawful", {}}).kind() == ErrorKind::kPermissionDenied);
  REQUIRE(w.Decide(*id, {true, s.staff, "lawful", {}}).kind() == ErrorKind::kPermissionDenied);
  REQUIRE(w.Decide(*id, {true, s.manager_b, "Sch. 2 para 2 applies; 30 s of one camera", {}}).ok());

  // 4. Export, built by the custodian binary.
  auto ticket = exports::RequestExport(*s.db, *id, s.staff, /*include_originals=*/true);
  REQUIRE(ticket.ok());
  int status = -1;
  std::string out = Custodian(s, "export run", &status);
  INFO(out);
  REQUIRE(status == 0);
  auto e = **s.db->GetExport(ticket->export_id);
  REQUIRE(e.state == records::ExportState::kReady);
  REQUIRE((*s.db->GetFootageRequest(*id))->state == RequestState::kExportPrepared);
  const std::string package = s.dir.File(*e.path + "/" + exports::PackageName(ticket->export_id));
  auto manifest = nlohmann::json::parse(std::ifstream(package + "/manifest.json"));
  REQUIRE(manifest["request"]["reference"] == "CR/2026/0042");
  REQUIRE(manifest["approver"]["name"] == "blake");
  REQUIRE(manifest["site"] == "Hostel A");
  REQUIRE(manifest["ranges"][0]["covered_from_local"] == "2026-01-15T09:00:15+00:00");
  REQUIRE(manifest["gaps"].empty());
  // The working copy is named for the export, the camera and its start (UTC).
  const std::string working =
      "working/export-" + std::to_string(ticket->export_id) + "_door-1_20260115T090015Z.mp4";
  REQUIRE(ProbeVideo(package + "/" + working) == "320x240x750");
  REQUIRE(DecodesCleanly(package + "/" + working));

  // 5. The recipient's checks: minisign with the published key, and sha256sum.
  auto key = exports::SigningKey::Load(s.dir.File("keys"));
  REQUIRE(key.ok());
  const std::string pub = key->public_key().Base64();
  const std::string minisign = CUSTODIAN_MINISIGN_CLI;
  const bool have_minisign = minisign.find("NOTFOUND") == std::string::npos;
  if (have_minisign) {
    out =
        RunOutput("cd '" + package + "' && " + minisign + " -Vm manifest.json -P " + pub, &status);
    INFO(out);
    REQUIRE(status == 0);
    REQUIRE(out.find("Signature and comment signature verified") != std::string::npos);
  }
  REQUIRE(Run("cd '" + package + "' && sha256sum --quiet -c SHA256SUMS") == 0);
  out = Custodian(s, "export verify '" + package + "'", &status);
  INFO(out);
  REQUIRE(status == 0);
  REQUIRE(out.find("VERIFIED") != std::string::npos);
  REQUIRE(out.find("this appliance's signing key") != std::string::npos);

  // 6. The handover, on a manager's authority; then the data subject decision, and close.
  requests::Handover h;
  h.export_id = ticket->export_id;
  h.recipient_name = "DC Jo Example";
  h.organisation = "Example Constabulary";
  h.reference = "collar 4471";
  h.method = records::DisclosureMethod::kInPerson;
  h.authorised_by = s.manager_b;
  h.recorded_by = s.staff;
  auto disclosure = w.RecordDisclosure(h);
  REQUIRE(disclosure.ok());
  auto handed = *s.db->ListDisclosuresForExport(ticket->export_id);
  REQUIRE(handed.size() == 1);
  REQUIRE(handed[0].manifest_sha256 == *e.manifest_sha256);
  REQUIRE(
      w.RecordSubjectNotification(
           *id, {false, std::nullopt, "police asked us not to: live investigation", s.manager_b})
          .ok());
  REQUIRE(w.Close(*id, s.manager_b, "handed over").ok());
  REQUIRE((*s.db->GetFootageRequest(*id))->state == RequestState::kClosed);
  REQUIRE(s.db->ListActiveHolds()->size() == 1);  // until the request's own retention passes

  out = Custodian(s, "request stats 2026-01", &status);
  REQUIRE(status == 0);
  auto stats = nlohmann::json::parse(out);
  REQUIRE(stats["requests"]["police"]["approved"] == 1);
  REQUIRE(stats["disclosures"]["by_method"]["in_person"] == 1);
  REQUIRE(out.find("CR/2026") == std::string::npos);

  // 7. One byte altered in a video file: the hashes catch it.
  const std::string video = package + "/" + working;
  FlipByte(video, 1000);
  out = Custodian(s, "export verify '" + package + "'", &status);
  INFO(out);
  REQUIRE(status == 1);
  REQUIRE(out.find("PROBLEM:   " + working + ": SHA-256 does not match") != std::string::npos);
  REQUIRE(Run("cd '" + package + "' && sha256sum --quiet -c SHA256SUMS >/dev/null 2>&1") != 0);
  FlipByte(video, 1000);
  REQUIRE(Custodian(s, "export verify '" + package + "'", &status).find("VERIFIED") !=
          std::string::npos);

  // ... and one byte altered in the manifest: the signature catches it.
  FlipByte(package + "/manifest.json", 20);
  out = Custodian(s, "export verify '" + package + "'", &status);
  REQUIRE(status == 1);
  REQUIRE(out.find("signature: NOT VERIFIED") != std::string::npos);
  if (have_minisign) {
    RunOutput("cd '" + package + "' && " + minisign + " -Vm manifest.json -P " + pub, &status);
    REQUIRE(status != 0);
  }
}

TEST_CASE("export build --burned-in at the console adds the working copy with the time drawn in") {
  Site s;
  std::ofstream(s.dir.File("site.yaml"))
      << "site: { name: \"Hostel A\" }\n"
      << "data_dir: .\n"
      << "cameras:\n  - id: door-1\n    url: rtsp://127.0.0.1:1/door\n";
  const UtcMicros t = kT0 - kHour;
  AddSegment(*s.db, s.dir.path(), "door-1", t, 320, 240, 10);
  const int64_t id = ApprovedPoliceRequest(s, {{"door-1", t, t + 4 * kSecond}}, "CR/7");

  int status = -1;
  std::string out = Custodian(
      s, "export build --request " + std::to_string(id) + " --user sam --burned-in --originals",
      &status);
  INFO(out);
  REQUIRE(status == 0);
  auto exports = *s.db->ListExportsForRequest(id);
  REQUIRE(exports.size() == 1);
  const std::string package =
      s.dir.File(*exports[0].path + "/" + exports::PackageName(exports[0].id));
  auto manifest = nlohmann::json::parse(std::ifstream(package + "/manifest.json"));
  std::map<std::string, int> kinds;
  for (const auto& f : manifest["files"]) ++kinds[f["kind"].get<std::string>()];
  CHECK(kinds["video"] == 1);
  CHECK(kinds["original"] == 1);
  REQUIRE(kinds["burned_in"] == 1);
  REQUIRE(Run("cd '" + package + "' && sha256sum --quiet -c SHA256SUMS") == 0);

  // An unknown flag is a usage error, and builds nothing.
  Custodian(s, "export build --request " + std::to_string(id) + " --user sam --burnt", &status);
  CHECK(status == 2);
  CHECK(s.db->ListExportsForRequest(id)->size() == 1);
}
