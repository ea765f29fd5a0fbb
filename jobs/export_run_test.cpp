#include "jobs/export_run.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "exports/testing.h"
#include "exports/verify.h"
#include "exports/zip.h"
#include "requests/workflow.h"

using namespace custodian;
using namespace custodian::exports;
using namespace custodian::jobs;
using namespace custodian::exports::testing;

namespace {

constexpr int64_t kSecond = kMicrosPerSecond;

int64_t ApprovedRequest(Site& s, const std::vector<records::FootageRange>& ranges) {
  return ApprovedPoliceRequest(s, ranges, "CR/9");
}

// Passes everything to the real filesystem, calling on_create before each file is made.
class HookedFilesystem final : public ForwardingFilesystem {
 public:
  explicit HookedFilesystem(std::function<void()> on_create)
      : ForwardingFilesystem(PosixFilesystem::Instance()), on_create_(std::move(on_create)) {}
  Result<std::unique_ptr<WritableFile>> Create(const std::string& path) override {
    on_create_();
    return base_.Create(path);
  }

 private:
  std::function<void()> on_create_;
};

ExportServiceOptions Options(const Site& s) {
  ExportServiceOptions o;
  o.data_dir = s.dir.path();
  o.keys_dir = s.dir.File("keys");
  o.site_name = "Test site";
  o.build.software_version = "test";
  return o;
}

}  // namespace

TEST_CASE("an export is only requested for an approved request") {
  Site s;
  requests::Workflow w(*s.db, s.clock);
  requests::NewRequest r;
  r.requester_name = "DC Example";
  r.ranges = {{"door-1", kT0 - kHour, kT0}};
  auto id = *w.LogRequest(r, s.staff);
  REQUIRE(RequestExport(*s.db, id, s.staff, false).status().kind() ==
          ErrorKind::kFailedPrecondition);
  REQUIRE(s.db->ListJobs(std::nullopt)->empty());
}

TEST_CASE("an export job runs to a ready, verified package and the request moves on") {
  Site s;
  const UtcMicros t = kT0 - kHour;
  AddSegment(*s.db, s.dir.path(), "door-1", t, 320, 240, 4);
  const int64_t req = ApprovedRequest(s, {{"door-1", t, t + 4 * kSecond}});
  auto ticket = RequestExport(*s.db, req, s.staff, false);
  REQUIRE(ticket.ok());
  ExportJobRunner runner(*s.db, PosixFilesystem::Instance(), s.clock, Options(s));
  auto ran = runner.RunNext();
  REQUIRE(ran.ok());
  REQUIRE(*ran == ticket->job_id);
  REQUIRE_FALSE(runner.RunNext()->has_value());

  auto job = **s.db->GetJob(ticket->job_id);
  INFO(job.error.value_or(""));
  REQUIRE(job.state == records::JobState::kSucceeded);
  REQUIRE(job.progress == Approx(1.0));
  auto e = **s.db->GetExport(ticket->export_id);
  REQUIRE(e.state == records::ExportState::kReady);
  REQUIRE(e.path == ExportDirRelative(ticket->export_id));
  REQUIRE(e.expires == kT0 + 30 * kMicrosPerDay);
  REQUIRE((*s.db->GetFootageRequest(req))->state == records::RequestState::kExportPrepared);
  const std::string package = s.dir.File(*e.path + "/" + PackageName(e.id));
  auto v = VerifyPackage(package, SigningKey::Load(s.dir.File("keys"))->public_key());
  REQUIRE(v.ok());
  REQUIRE(v->ok);
  REQUIRE_FALSE(v->key_from_package);
  REQUIRE(*Sha256File(package + "/manifest.json") == e.manifest_sha256);
  records::AccessFilter filter;
  filter.action = "export";
  auto access = s.db->QueryAccess(filter);
  REQUIRE(access->size() == 1);
  REQUIRE(access->front().camera_id == "door-1");
}

TEST_CASE("after a restart a half-built export is rebuilt from scratch") {
  Site s;
  const UtcMicros t = kT0 - kHour;
  AddSegment(*s.db, s.dir.path(), "door-1", t, 320, 240, 2);
  const int64_t req = ApprovedRequest(s, {{"door-1", t, t + 2 * kSecond}});
  auto ticket = *RequestExport(*s.db, req, s.staff, false);
  // A worker claims the job, writes some files and dies.
  REQUIRE(s.db->ClaimNextJob({kExportJobKind}, "dead-worker")->has_value());
  const std::string leftover =
      s.dir.File(ExportDirRelative(ticket.export_id) + "/export-1.partial");
  std::filesystem::create_directories(leftover + "/working");
  { std::ofstream(leftover + "/working/half.mp4") << "partial"; }

  ExportJobRunner runner(*s.db, PosixFilesystem::Instance(), s.clock, Options(s));
  REQUIRE_FALSE(runner.RunNext()->has_value());  // still "running" for the dead worker
  REQUIRE(*runner.RecoverAfterRestart() == 1);
  REQUIRE(runner.RunNext()->has_value());
  auto job = **s.db->GetJob(ticket.job_id);
  REQUIRE(job.state == records::JobState::kSucceeded);
  REQUIRE(job.attempts == 2);
  REQUIRE_FALSE(std::filesystem::exists(leftover));
  const std::string package =
      s.dir.File(ExportDirRelative(ticket.export_id) + "/" + PackageName(ticket.export_id));
  REQUIRE_FALSE(std::filesystem::exists(package + "/working/half.mp4"));
  REQUIRE(VerifyPackage(package, std::nullopt)->ok);
}

TEST_CASE("a cancelled export leaves no files and a failed export record") {
  Site s;
  const UtcMicros t = kT0 - kHour;
  AddSegment(*s.db, s.dir.path(), "door-1", t, 320, 240, 2);
  const int64_t req = ApprovedRequest(s, {{"door-1", t, t + 2 * kSecond}});
  auto queued = *RequestExport(*s.db, req, s.staff, false);
  REQUIRE(*CancelExport(*s.db, queued.export_id) == records::JobState::kCancelled);
  REQUIRE((*s.db->GetExport(queued.export_id))->state == records::ExportState::kFailed);

  auto running = *RequestExport(*s.db, req, s.staff, false);
  REQUIRE(s.db->ClaimNextJob({kExportJobKind}, "w")->has_value());
  REQUIRE(*CancelExport(*s.db, running.export_id) == records::JobState::kRunning);
  REQUIRE(*ExportJobRunner(*s.db, PosixFilesystem::Instance(), s.clock, Options(s))
               .RecoverAfterRestart() == 1);
  REQUIRE((*s.db->GetJob(running.job_id))->state == records::JobState::kCancelled);

  // Cancelled while building (as the first file is written): the runner stops at the next
  // segment and removes what it wrote.
  AddSegment(*s.db, s.dir.path(), "door-1", t + 2 * kSecond, 320, 240, 2);
  const int64_t wider = ApprovedRequest(s, {{"door-1", t, t + 4 * kSecond}});
  auto third = *RequestExport(*s.db, wider, s.staff, false);
  HookedFilesystem fs([&] { (void)s.db->RequestJobCancel(third.job_id); });
  ExportJobRunner runner(*s.db, fs, s.clock, Options(s));
  REQUIRE(runner.RunNext().ok());
  auto job = **s.db->GetJob(third.job_id);
  REQUIRE(job.state == records::JobState::kCancelled);
  auto e = **s.db->GetExport(third.export_id);
  REQUIRE(e.state == records::ExportState::kFailed);
  REQUIRE(e.error == "cancelled");
  REQUIRE_FALSE(std::filesystem::exists(s.dir.File(ExportDirRelative(third.export_id))));
}

TEST_CASE("the encrypted zip opens with 7z and the right password only") {
  if (std::string(CUSTODIAN_7Z_CLI).find("NOTFOUND") != std::string::npos) {
    WARN("7z is not installed; skipped");
    return;
  }
  Site s;
  const UtcMicros t = kT0 - kHour;
  AddSegment(*s.db, s.dir.path(), "door-1", t, 320, 240, 2);
  const int64_t req = ApprovedRequest(s, {{"door-1", t, t + 2 * kSecond}});
  auto ticket = *RequestExport(*s.db, req, s.staff, false);
  ExportJobRunner runner(*s.db, PosixFilesystem::Instance(), s.clock, Options(s));
  REQUIRE(runner.RunNext().ok());
  REQUIRE(MakeRemovableMediaCopy(*s.db, PosixFilesystem::Instance(), s.dir.path(), ticket.export_id,
                                 s.staff)
              .status()
              .kind() == ErrorKind::kPermissionDenied);
  auto copy = MakeRemovableMediaCopy(*s.db, PosixFilesystem::Instance(), s.dir.path(),
                                     ticket.export_id, s.manager_b);
  INFO(copy.status().ToString());
  REQUIRE(copy.ok());
  REQUIRE(copy->password.size() == 29);
  const std::string sevenzip = CUSTODIAN_7Z_CLI;
  int status = -1;
  std::string listing =
      RunOutput(sevenzip + " l -slt -p" + copy->password + " '" + copy->zip_path + "'", &status);
  REQUIRE(status == 0);
  REQUIRE(listing.find("AES-256") != std::string::npos);
  REQUIRE(listing.find("export-1/manifest.json") != std::string::npos);
  RunOutput(sevenzip + " t -pwrong-password '" + copy->zip_path + "'", &status);
  REQUIRE(status != 0);
  const std::string out = s.dir.File("unzipped");
  RunOutput(sevenzip + " x -y -p" + copy->password + " -o'" + out + "' '" + copy->zip_path + "'",
            &status);
  REQUIRE(status == 0);
  REQUIRE(VerifyPackage(out + "/export-1", std::nullopt)->ok);
  const std::string denied = s.dir.File("denied");
  RunOutput(sevenzip + " x -y -pnot-it -o'" + denied + "' '" + copy->zip_path + "'", &status);
  REQUIRE(status != 0);
  // The password is nowhere in the records.
  REQUIRE(RunOutput("grep -c '" + copy->password + "' '" + s.dir.File("records.db") + "'") ==
          "0\n");
}
