// ReadyRedaction: a site with a ready export built by the export run and a done redaction
// of it (jobs/testing.h), for the sign-off tests of the library and of the CLI.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "exports/export_jobs.h"
#include "exports/testing.h"
#include "jobs/export_run.h"
#include "jobs/redactions.h"
#include "jobs/sign_off.h"
#include "jobs/testing.h"

namespace custodian::jobs::testing {

using namespace custodian::exports::testing;

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
    // The managers may see door-1, whose footage they review; the DPO needs no permission.
    REQUIRE(s.db->GrantCamera(s.manager_a, "door-1").ok());
    REQUIRE(s.db->GrantCamera(s.manager_b, "door-1").ok());
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

}  // namespace custodian::jobs::testing
