#include "health/alarm_check.h"

#include <catch2/catch.hpp>

#include "base/testing/temp_dir.h"
#include "health/alarm_words.h"

using namespace custodian;
using namespace custodian::health;
using custodian::testing::TempDir;

namespace {

constexpr UtcMicros kStart{1'800'000'000'000'000};
constexpr int64_t kMinute = 60 * kMicrosPerSecond;

SiteFacts Facts(int64_t minutes_after_start) {
  SiteFacts f;
  f.watching_since = kStart;
  f.now = {kStart.us + minutes_after_start * kMinute};
  f.cameras = {"lobby", "yard"};
  f.last_backup = kStart;
  return f;
}

records::CameraStatusRow CameraStatus(const std::string& camera, bool online, UtcMicros last_packet,
                                UtcMicros updated) {
  records::CameraStatusRow s;
  s.camera_id = camera;
  s.online = online;
  s.last_packet = last_packet;
  s.updated = updated;
  return s;
}

}  // namespace

TEST_CASE("a camera without pictures for longer than the policy allows is an alarm") {
  AlarmPolicy policy;  // 5 minutes
  SiteFacts f = Facts(10);
  f.statuses = {CameraStatus("lobby", true, f.now, f.now),
                CameraStatus("yard", false, {f.now.us - 4 * kMinute}, f.now)};
  f.statuses[1].last_error = "connection refused";
  CHECK(WantedAlarms(f, policy).empty());

  f.statuses[1].last_packet = UtcMicros{f.now.us - 6 * kMinute};
  auto wanted = WantedAlarms(f, policy);
  REQUIRE(wanted.count("camera_offline:yard") == 1);
  CHECK(wanted["camera_offline:yard"].find("last error: connection refused") != std::string::npos);
  CHECK(wanted.count("camera_offline:lobby") == 0);
  CHECK(wanted.count("recorder_down") == 0);
}

TEST_CASE("a camera never seen counts from when watching began, not from the epoch") {
  AlarmPolicy policy;
  SiteFacts f = Facts(2);
  f.statuses = {CameraStatus("lobby", true, f.now, f.now)};
  CHECK(WantedAlarms(f, policy).count("camera_offline:yard") == 0);
  f.now = {kStart.us + 5 * kMinute};
  CHECK(WantedAlarms(f, policy)["camera_offline:yard"] == "no pictures received");
}

TEST_CASE("no camera status written for minutes means the recorder is down") {
  AlarmPolicy policy;
  SiteFacts f = Facts(20);
  UtcMicros stale{f.now.us - 6 * kMinute};
  f.statuses = {CameraStatus("lobby", true, stale, stale), CameraStatus("yard", true, stale, stale)};
  auto wanted = WantedAlarms(f, policy);
  CHECK(wanted.count("recorder_down") == 1);
  f.statuses[0].updated = f.now;
  CHECK(WantedAlarms(f, policy).count("recorder_down") == 0);
}

TEST_CASE("an unsynchronised clock, an overdue backup, a DSAR near its deadline and a broken "
          "chain are alarms") {
  AlarmPolicy policy;
  SiteFacts f = Facts(1);
  f.statuses = {CameraStatus("lobby", true, f.now, f.now), CameraStatus("yard", true, f.now, f.now)};
  CHECK(WantedAlarms(f, policy).empty());
  f.clock_synchronized = false;
  f.last_backup = UtcMicros{f.now.us - 9 * kMicrosPerDay};
  f.open_dsars = {{4, {f.now.us + 3 * kMicrosPerDay}}, {5, {f.now.us + 20 * kMicrosPerDay}}};
  records::AuditVerification broken;
  broken.ok = false;
  broken.first_bad_id = 17;
  broken.reason = "hash mismatch";
  f.access_log = broken;
  auto wanted = WantedAlarms(f, policy);
  CHECK(wanted.count("clock_unsynchronised") == 1);
  CHECK(wanted.count("backup_overdue") == 1);
  CHECK(wanted.count("dsar_deadline:4") == 1);
  CHECK(wanted.count("dsar_deadline:5") == 0);
  CHECK(wanted["access_log_chain"].find("entry 17") != std::string::npos);
  policy.backup_overdue_us = 0;
  CHECK(WantedAlarms(f, policy).count("backup_overdue") == 0);
  // A site that says its clock is not watched (the demo in a container without NTP) gets
  // no clock alarm; the other alarms stay.
  policy.clock_sync_watched = false;
  auto unwatched = WantedAlarms(f, policy);
  CHECK(unwatched.count("clock_unsynchronised") == 0);
  CHECK(unwatched.count("dsar_deadline:4") == 1);
}

TEST_CASE("applying alarms raises the wanted ones and clears only those the watcher owns") {
  TempDir dir;
  ManualClock clock(kStart);
  auto db = records::Database::Open(dir.File("records.db"), clock);
  REQUIRE(db.ok());
  records::Database& d = **db;
  REQUIRE(d.RaiseAlarm("disk_full", "only held footage left").ok());
  REQUIRE(ApplyAlarms(d, {{"camera_offline:yard", "no pictures received"}}, false).ok());
  auto active = d.ListActiveAlarms();
  REQUIRE(active.ok());
  CHECK(active->size() == 2);

  clock.Advance(kMinute);
  REQUIRE(ApplyAlarms(d, {}, false).ok());
  active = d.ListActiveAlarms();
  REQUIRE(active->size() == 1);
  CHECK(active->front().kind == "disk_full");  // retention's to clear, not the watcher's
  auto recent = d.ListRecentAlarms(kStart, 10);
  REQUIRE(recent.ok());
  REQUIRE(recent->size() == 2);
  CHECK(recent->back().kind == "camera_offline:yard");
  REQUIRE(recent->back().cleared);
  CHECK(recent->back().cleared->us == kStart.us + kMinute);
}

TEST_CASE("an alarm is acknowledged once, by the first person") {
  TempDir dir;
  ManualClock clock(kStart);
  auto db = records::Database::Open(dir.File("records.db"), clock);
  REQUIRE(db.ok());
  records::Database& d = **db;
  records::NewUser ann;
  ann.name = "ann";
  ann.role = records::Role::kManager;
  ann.password_hash = "x";
  auto ann_id = d.CreateUser(ann);
  REQUIRE(ann_id.ok());
  auto id = d.RaiseAlarm("recorder_down", "silent");
  REQUIRE(id.ok());
  REQUIRE(d.AcknowledgeAlarm(*id, *ann_id).ok());
  CHECK(d.AcknowledgeAlarm(*id, *ann_id).kind() == ErrorKind::kFailedPrecondition);
  CHECK(d.AcknowledgeAlarm(*id + 100, *ann_id).kind() == ErrorKind::kNotFound);
  auto alarm = d.GetAlarm(*id);
  REQUIRE(alarm.ok());
  REQUIRE(*alarm);
  CHECK((*alarm)->acknowledged_by == *ann_id);
}

TEST_CASE("alarms are described in words with what to do") {
  AlarmWords w = DescribeAlarm("camera_offline:lobby", "Lobby");
  CHECK(w.title == "Camera Lobby is offline");
  CHECK(w.what_to_do.find("RTSP") != std::string::npos);
  CHECK(AlarmCamera("camera_timing:yard") == "yard");
  CHECK(AlarmCamera("disk_full").empty());
  CHECK(DescribeAlarm("something_new", "").title == "Alarm: something_new");
}

TEST_CASE("a setting that is not a whole number is read as absent, not as a crash") {
  CHECK(IntegerSetting(std::string("1800000000000000")) == 1800000000000000);
  CHECK_FALSE(IntegerSetting(std::string("soon")).has_value());
  CHECK_FALSE(IntegerSetting(std::string("")).has_value());
  CHECK_FALSE(IntegerSetting(std::string("99999999999999999999")).has_value());
  CHECK_FALSE(IntegerSetting(std::nullopt).has_value());
}

TEST_CASE(
    "a camera clock beyond the limit either way is an alarm, and one within it or unknown is "
    "not") {
  AlarmPolicy policy;  // 2 s
  SiteFacts f = Facts(1);
  f.statuses = {CameraStatus("lobby", true, f.now, f.now),
                CameraStatus("yard", true, f.now, f.now)};
  f.camera_clocks = {{"lobby", 1'900'000, f.now}};  // yard sends no sender reports
  CHECK(WantedAlarms(f, policy).empty());

  f.camera_clocks = {{"lobby", 2'000'001, f.now}, {"yard", -12'400'000, f.now}};
  auto wanted = WantedAlarms(f, policy);
  REQUIRE(wanted.count("camera_clock:lobby") == 1);
  REQUIRE(wanted.count("camera_clock:yard") == 1);
  CHECK(wanted["camera_clock:lobby"] ==
        "the camera's clock is 2 s ahead of the appliance's clock; the limit is 2 s");
  CHECK(wanted["camera_clock:yard"] ==
        "the camera's clock is 12 s behind the appliance's clock; the limit is 2 s");

  // The detail does not change with millisecond jitter, so a round writes nothing new.
  f.camera_clocks = {{"yard", -12'100'000, f.now}};
  CHECK(WantedAlarms(f, policy)["camera_clock:yard"] == wanted["camera_clock:yard"]);

  policy.camera_clock_limit_us = 20 * kMicrosPerSecond;
  CHECK(WantedAlarms(f, policy).empty());
  policy.camera_clock_limit_us = 0;  // not watched
  f.camera_clocks = {{"yard", -120 * kMicrosPerSecond, f.now}};
  CHECK(WantedAlarms(f, policy).empty());
}

TEST_CASE("camera clock offsets are told in whole seconds ahead or behind") {
  CHECK(CameraClockText(400'000) == "within a second of the appliance's clock");
  CHECK(CameraClockText(-499'999) == "within a second of the appliance's clock");
  CHECK(CameraClockText(2'600'000) == "3 s ahead of the appliance's clock");
  CHECK(CameraClockText(-90 * kMicrosPerSecond) == "90 s behind the appliance's clock");
  CHECK(CameraClockText(INT64_MIN) == "9223372036855 s behind the appliance's clock");
  CHECK(CameraClockAdrift(-2'000'001, 2'000'000));
  CHECK_FALSE(CameraClockAdrift(-2'000'000, 2'000'000));
  CHECK_FALSE(CameraClockAdrift(2'000'000, 2'000'000));
}

TEST_CASE(
    "the watcher clears a camera clock alarm once the camera's clock is back within the "
    "limit") {
  TempDir dir;
  ManualClock clock(kStart);
  auto db = records::Database::Open(dir.File("records.db"), clock);
  REQUIRE(db.ok());
  records::Database& d = **db;
  AlarmPolicy policy;
  SiteFacts f = Facts(1);
  f.statuses = {CameraStatus("lobby", true, f.now, f.now),
                CameraStatus("yard", true, f.now, f.now)};
  f.camera_clocks = {{"lobby", 30 * kMicrosPerSecond, f.now}};
  REQUIRE(ApplyAlarms(d, WantedAlarms(f, policy), false).ok());
  REQUIRE(d.ListActiveAlarms()->size() == 1);
  CHECK(d.ListActiveAlarms()->front().kind == "camera_clock:lobby");
  f.camera_clocks = {{"lobby", 100'000, f.now}};
  REQUIRE(ApplyAlarms(d, WantedAlarms(f, policy), false).ok());
  CHECK(d.ListActiveAlarms()->empty());
}

TEST_CASE("a camera clock alarm is described in words with what to do") {
  AlarmWords w = DescribeAlarm("camera_clock:yard", "Yard");
  CHECK(w.title == "Camera Yard's clock is wrong");
  CHECK(w.what_to_do.find("NTP") != std::string::npos);
  CHECK(AlarmCamera("camera_clock:yard") == "yard");
}
