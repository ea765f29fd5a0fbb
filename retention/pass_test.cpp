// Whole passes over a real records.db and real files: disk pressure, alarms, holds with
// quotas, export expiry, dry runs, the report, and a clock that goes backwards.
#include "retention/pass.h"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "config/site_config.h"
#include "retention/report.h"
#include "retention/test_util.h"

namespace custodian::retention {
namespace {

using namespace testing;

TEST_CASE("disk pressure across cameras deletes the oldest unheld footage first") {
  TestSite site;
  const UtcMicros t = site.clock.Now() - 5 * kDay;
  std::vector<int64_t> ids;  // door t, yard t+1m, door t+2m, ... each 1,000 bytes
  for (int i = 0; i < 8; ++i) {
    ids.push_back(site.AddSegment(i % 2 ? "yard-2" : "door-1", t + i * kMinute));
  }
  site.Hold({{"door-1", t, t + kMinute}}, site.clock.Now() + 30 * kDay);  // ids[0]
  site.fs.SetSpace({20'000, 500});  // 97.5% used; the low watermark (85%) is 2,500 bytes away
  PassReport report = site.Pass();
  CHECK(report.plan.above_high_watermark);
  CHECK(report.execution.segments_deleted == 3);
  CHECK(site.Exists(ids[0]));  // held
  CHECK_FALSE(site.Exists(ids[1]));
  CHECK_FALSE(site.Exists(ids[2]));
  CHECK_FALSE(site.Exists(ids[3]));
  CHECK(site.Exists(ids[4]));
  for (const records::DeletionRow& d : site.Deletions()) {
    CHECK(d.rule == records::DeletionRule::kDiskPressure);
    CHECK_THAT(d.detail, Catch::Contains("97% used"));
  }
  CHECK_FALSE(site.AlarmActive(kDiskFullAlarm));
}

TEST_CASE("a full disk with only held footage raises disk_full and deletes nothing held") {
  TestSite site;
  const UtcMicros t = site.clock.Now() - kDay;
  site.AddMinutes("door-1", t, 3);
  site.AddMinutes("yard-2", t, 3);
  site.Hold({{"door-1", t, t + kHour}, {"yard-2", t, t + kHour}}, site.clock.Now() + kDay);
  site.fs.SetSpace({10'000, 100});
  PassReport report = site.Pass();
  CHECK(report.execution.segments_deleted == 0);
  CHECK(site.SegmentIds().size() == 6);
  REQUIRE(site.AlarmActive(kDiskFullAlarm));
  auto alarms = site.db->ListActiveAlarms();
  REQUIRE(alarms.ok());
  for (const records::AlarmRow& a : *alarms) {
    if (a.kind == kDiskFullAlarm) CHECK_THAT(a.detail, Catch::Contains("6 held segment(s)"));
  }
  site.fs.SetSpace({10'000, 5'000});
  site.Pass();
  CHECK_FALSE(site.AlarmActive(kDiskFullAlarm));
}

TEST_CASE("a hold on a camera with a quota keeps its footage and does not count against it") {
  TestSite site;
  site.Camera("door-1").quota_bytes = 3'000;
  const UtcMicros t = site.clock.Now() - 2 * kDay;
  const std::vector<int64_t> ids = site.AddMinutes("door-1", t, 8);
  site.Hold({{"door-1", t, t + 3 * kMinute}}, site.clock.Now() + kDay);  // ids 0..2
  PassReport report = site.Pass();
  // Unheld: ids 3..7, 5,000 bytes against a 3,000-byte quota: the two oldest go.
  CHECK(report.execution.segments_deleted == 2);
  for (int i : {0, 1, 2, 5, 6, 7}) CHECK(site.Exists(ids[static_cast<size_t>(i)]));
  CHECK_FALSE(site.Exists(ids[3]));
  CHECK_FALSE(site.Exists(ids[4]));
  for (const records::DeletionRow& d : site.Deletions()) {
    CHECK(d.rule == records::DeletionRule::kQuota);
    CHECK(d.detail == "camera quota 3000 bytes");
  }
}

TEST_CASE("a hold on a camera keeps its recorded sub stream past sub_retention too") {
  TestSite site;
  // door-1 records its sub stream for review, kept 7 days (sub_retention); its main
  // stream keeps the site's 31.
  config::SiteConfig cfg;
  cfg.data_dir = site.data_dir;
  config::CameraConfig door;
  door.id = "door-1";
  door.url = "rtsp://192.0.2.10/main";
  door.sub_url = "rtsp://192.0.2.10/sub";
  door.record_sub_stream = true;
  door.sub_max_age_days = 7;
  config::CameraConfig yard;
  yard.id = "yard-2";
  yard.url = "rtsp://192.0.2.11/main";
  cfg.cameras = {door, yard};
  site.settings = SettingsFromSite(cfg);
  const std::string sub = config::SubStreamId("door-1");
  REQUIRE(site.db->UpsertCamera({sub, "Front door (sub stream)", {}}).ok());

  // Past both max ages (40 days) and past the sub stream's only (10 days): four minutes of
  // each stream at each, the first two minutes of each held on door-1.
  const UtcMicros old = site.clock.Now() - 40 * kDay;
  const UtcMicros recent = site.clock.Now() - 10 * kDay;
  const std::vector<int64_t> main_old = site.AddMinutes("door-1", old, 4);
  const std::vector<int64_t> main_recent = site.AddMinutes("door-1", recent, 4);
  const std::vector<int64_t> sub_old = site.AddMinutes(sub, old, 4, 300);
  const std::vector<int64_t> sub_recent = site.AddMinutes(sub, recent, 4, 300);
  site.Hold({{"door-1", old, old + 2 * kMinute}, {"door-1", recent, recent + 2 * kMinute}},
            site.clock.Now() + kDay);
  CHECK(*site.db->IsSegmentHeld(sub, recent, recent + kMinute));
  CHECK_FALSE(*site.db->IsSegmentHeld(sub, recent + 2 * kMinute, recent + 3 * kMinute));
  // A hold names cameras: one on a sub stream's id would not hold the main stream.
  CHECK_FALSE(*site.db->IsSegmentHeld("door-1", recent + 2 * kMinute, recent + 3 * kMinute));

  std::set<std::string> deleted;
  for (int64_t id :
       {main_old[2], main_old[3], sub_old[2], sub_old[3], sub_recent[2], sub_recent[3]}) {
    deleted.insert(site.HashOf(id));
  }
  PassReport report = site.Pass();
  CHECK(report.execution.segments_deleted == 6);
  for (int64_t id :
       {main_old[0], main_old[1], sub_old[0], sub_old[1], sub_recent[0], sub_recent[1]}) {
    CHECK(site.Exists(id));  // held
  }
  for (int64_t id : main_recent) CHECK(site.Exists(id));  // within 31 days
  for (int64_t id :
       {main_old[2], main_old[3], sub_old[2], sub_old[3], sub_recent[2], sub_recent[3]}) {
    CHECK_FALSE(site.Exists(id));
  }
  // The sub stream's deletions are recorded as the main stream's are: under its own
  // records id, with its max age and every file's hash.
  int sub_records = 0;
  for (const records::DeletionRow& d : site.Deletions()) {
    CHECK(d.rule == records::DeletionRule::kMaxAge);
    REQUIRE(d.camera_id);
    if (*d.camera_id != sub) continue;
    ++sub_records;
    CHECK(d.detail == "max age 7 days");
  }
  CHECK(sub_records >= 1);
  site.RequireRecordsAgreeWithDisk(deleted);
  CHECK(report.plan.expired_but_held == 6);

  // The records refuse to mark a held sub-stream segment for deletion whoever asks.
  CHECK(site.db->MarkSegmentDeleting(sub_recent[0]).kind() == ErrorKind::kFailedPrecondition);
  CHECK(site.db->MarkSegmentsDeleting({sub_recent[1]})->empty());
}

TEST_CASE("holds past their review date raise hold_review_due until reviewed") {
  TestSite site;
  const UtcMicros t = site.clock.Now() - 40 * kDay;
  const int64_t id = site.AddSegment("door-1", t);
  const int64_t hold = site.Hold({{"door-1", t, t + kMinute}}, site.clock.Now() - kHour);
  site.Pass();
  CHECK(site.Exists(id));  // overdue for review, still held
  REQUIRE(site.AlarmActive(kHoldReviewAlarm));
  REQUIRE(site.db->SetHoldReview(hold, site.clock.Now() + 30 * kDay).ok());
  site.Pass();
  CHECK_FALSE(site.AlarmActive(kHoldReviewAlarm));
  REQUIRE(site.db->ReleaseHold(hold, site.manager_id).ok());
  site.Pass();
  CHECK_FALSE(site.Exists(id));
}

TEST_CASE("a dry run prints the plan and changes nothing") {
  TestSite site;
  const UtcMicros now = site.clock.Now();
  site.AddMinutes("door-1", now - 40 * kDay, 4);
  site.AddMinutes("yard-2", now - kDay, 2);
  site.Hold({{"yard-2", now - kDay, now}}, now - kHour);
  const std::set<std::string> files = site.FootageFiles();
  PassOptions dry;
  dry.dry_run = true;
  PassReport report = site.Pass(dry);
  CHECK(report.plan.segments.size() == 4);
  CHECK(site.FootageFiles() == files);
  CHECK(site.SegmentIds().size() == 6);
  CHECK(site.Deletions().empty());
  CHECK(site.ActiveAlarmKinds().empty());
  auto setting = site.db->GetSetting(MaxAgeSettingKey("door-1"));
  REQUIRE(setting.ok());
  CHECK_FALSE(setting->has_value());
  auto head = site.db->AccessLogHead();
  REQUIRE(head.ok());
  CHECK_FALSE(head->has_value());

  const std::string text = FormatPlan(report);
  CHECK_THAT(text, Catch::Contains("dry run: nothing deleted"));
  CHECK_THAT(text, Catch::Contains("delete: camera door-1 max_age: 4 segment(s), 4.00 kB"));
  CHECK_THAT(text, Catch::Contains("review: hold 1 is past its review date"));
}

TEST_CASE("the clock going backwards deletes nothing it should not") {
  TestSite site;
  const UtcMicros now = site.clock.Now();
  const std::vector<int64_t> old = site.AddMinutes("door-1", now - 40 * kDay, 2);
  const std::vector<int64_t> young = site.AddMinutes("door-1", now - 20 * kDay, 2);
  const std::vector<int64_t> fresh = site.AddMinutes("yard-2", now - kHour, 2);
  // The clock steps back a year: nothing is old enough by the wrong clock.
  site.clock.SetWall(now - 365 * kDay);
  PassReport back = site.Pass();
  CHECK(back.execution.segments_deleted == 0);
  CHECK(site.SegmentIds().size() == 6);
  // Still behind, by less: still nothing is old enough.
  site.clock.SetWall(now - 10 * kDay);
  site.Pass();
  CHECK(site.SegmentIds().size() == 6);
  site.clock.SetWall(now);
  site.Pass();
  for (int64_t id : old) CHECK_FALSE(site.Exists(id));
  for (int64_t id : young) CHECK(site.Exists(id));
  for (int64_t id : fresh) CHECK(site.Exists(id));
}

// Exports are built by a later module; these rows stand in for its output.
struct ExportSite : TestSite {
  int64_t request_id = 0;

  void Sql(const std::string& sql) {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open((data_dir + "/records.db").c_str(), &raw) == SQLITE_OK);
    sqlite3_busy_timeout(raw, 5000);
    char* err = nullptr;
    const int rc = sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &err);
    INFO((err ? err : ""));
    sqlite3_free(err);
    sqlite3_close(raw);
    REQUIRE(rc == SQLITE_OK);
  }

  ExportSite() {
    const std::string t = std::to_string(clock.Now().us);
    const std::string m = std::to_string(manager_id);
    Sql("INSERT INTO footage_requests (id, type, requester_name, received_us, state, "
        "logged_by, created_us, updated_us) VALUES (1, 'police', 'requester', " +
        t + ", 'received', " + m + ", " + t + ", " + t + ")");
    request_id = 1;
  }

  // A ready export of door-1 footage with two files under exports/<id>/.
  std::string AddExport(int64_t id, UtcMicros created, std::optional<UtcMicros> handover) {
    const std::string rel = "exports/" + std::to_string(id);
    std::filesystem::create_directories(JoinPath(data_dir, rel));
    for (const char* name : {"manifest.json", "clip-1.mp4"}) {
      std::ofstream(JoinPath(data_dir, rel + "/" + name)) << "export " << id << " " << name;
    }
    const std::string c = std::to_string(created.us);
    Sql("INSERT INTO exports (id, request_id, state, path, created_us, created_by, bytes, "
        "manifest_sha256) VALUES (" +
        std::to_string(id) + ", 1, 'ready', '" + rel + "', " + c + ", " +
        std::to_string(manager_id) + ", 40, '" + std::string(64, 'b') + "')");
    Sql("INSERT INTO export_ranges VALUES (" + std::to_string(id) + ", 'door-1', " +
        std::to_string((created - 2 * kDay).us) + ", " +
        std::to_string((created - 2 * kDay + kHour).us) + ")");
    if (handover) {
      Sql("INSERT INTO disclosures (export_id, recipient_name, method, at_us, authorised_by, "
          "recorded_by) VALUES (" +
          std::to_string(id) + ", 'recipient', 'in_person', " + std::to_string(handover->us) +
          ", " + std::to_string(manager_id) + ", " + std::to_string(manager_id) + ")");
    }
    return JoinPath(data_dir, rel);
  }
};

TEST_CASE("exported packages expire after handover or creation unless held") {
  ExportSite site;
  const UtcMicros now = site.clock.Now();
  const std::string made = site.AddExport(1, now - 31 * kDay, std::nullopt);
  const std::string handed = site.AddExport(2, now - 40 * kDay, now - 10 * kDay);
  const std::string held = site.AddExport(3, now - 50 * kDay, std::nullopt);
  site.Hold({{"door-1", now - 52 * kDay, now - 52 * kDay + kMinute}}, now + kDay);
  PassReport report = site.Pass();
  CHECK(report.execution.exports_deleted == 1);
  CHECK_FALSE(std::filesystem::exists(made));
  CHECK(std::filesystem::exists(handed));
  CHECK(std::filesystem::exists(held));
  std::vector<records::DeletionRow> rows = site.Deletions();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].rule == records::DeletionRule::kExportExpiry);
  CHECK(rows[0].export_id == 1);
  CHECK_FALSE(rows[0].camera_id);
  CHECK(rows[0].sha256s.size() == 2);
  CHECK_THAT(rows[0].detail, Catch::Contains("2 file(s)"));
  auto left = site.db->ListExportsForExpiry();
  REQUIRE(left.ok());
  CHECK(left->size() == 2);  // 1 is expired and its files gone

  site.clock.Advance(21 * kDay);  // 31 days after the handover
  site.Pass();
  CHECK_FALSE(std::filesystem::exists(handed));
  CHECK(std::filesystem::exists(held));
}

TEST_CASE("an export whose files could not all be deleted is finished by a later pass") {
  ExportSite site;
  const std::string dir = site.AddExport(1, site.clock.Now() - 31 * kDay, std::nullopt);
  site.fs.FailUnlinks(true);
  PassReport failed = site.Pass();
  CHECK(failed.execution.exports_deleted == 0);
  CHECK_FALSE(failed.execution.failures.empty());
  CHECK(site.AlarmActive(kDeletionFailedAlarm));
  CHECK(std::filesystem::exists(dir));
  site.fs.FailUnlinks(false);
  PassReport finished = site.Pass();
  CHECK(finished.execution.exports_deleted == 1);
  CHECK_FALSE(std::filesystem::exists(dir));
  CHECK(site.Deletions().size() == 1);
  CHECK_FALSE(site.AlarmActive(kDeletionFailedAlarm));
}

TEST_CASE("the deletion report lists what was deleted, when and under which rule") {
  TestSite site;
  site.AddMinutes("door-1", site.clock.Now() - 40 * kDay, 2);
  site.Pass();
  const std::string text = FormatDeletions(site.Deletions());
  CHECK_THAT(text, Catch::Contains("camera door-1, rule max_age"));
  CHECK_THAT(text, Catch::Contains("2 segment(s), 2000 bytes"));
  CHECK_THAT(text, Catch::Contains("why: max age 31 days"));
  CHECK_THAT(text, Catch::Contains("1 deletion record(s)"));
}

TEST_CASE("a camera removed from the config ages out under the site default") {
  TestSite site;
  REQUIRE(site.db->UpsertCamera({"gone-3", "Removed", {}}).ok());
  const int64_t id = site.AddSegment("gone-3", site.clock.Now() - 32 * kDay);
  site.Pass();
  CHECK_FALSE(site.Exists(id));
}

}  // namespace
}  // namespace custodian::retention
