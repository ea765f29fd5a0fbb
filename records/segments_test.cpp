#include <algorithm>
#include <random>

#include "records/test_util.h"

using namespace custodian;
using namespace custodian::records;
using namespace custodian::records::testing;

TEST_CASE("a segment goes from recording to complete to deleting to removed") {
  TestDb t;
  Database& db = *t.db;
  SegmentRow s = NewSegment("door-1", kT0, "footage/door-1/2026-01-01/20260101T000000Z.mp4");
  s.clock_offset_us = -1500;
  auto id = db.BeginSegment(s);
  REQUIRE(id.ok());

  auto recording = db.GetSegment(*id);
  REQUIRE(recording.ok());
  REQUIRE(recording->has_value());
  REQUIRE((*recording)->state == SegmentState::kRecording);
  REQUIRE_FALSE((*recording)->end.has_value());
  REQUIRE((*recording)->clock_offset_us == -1500);
  REQUIRE(db.ListSegmentsInState(SegmentState::kRecording)->size() == 1);

  REQUIRE(db.FinishSegment(*id, FinishAt(kT0 + kMinute, 123456)).ok());
  REQUIRE(db.RemoveSegment(*id).kind() == ErrorKind::kFailedPrecondition);
  REQUIRE(db.FinishSegment(*id, FinishAt(kT0 + kMinute)).kind() == ErrorKind::kFailedPrecondition);
  auto complete = *db.GetSegment(*id);
  REQUIRE(complete->state == SegmentState::kComplete);
  REQUIRE(complete->end == kT0 + kMinute);
  REQUIRE(complete->bytes == 123456);
  REQUIRE(complete->sha256 == std::string(64, 'a'));
  REQUIRE(complete->audio_note == "camera has no audio track");
  REQUIRE_FALSE(complete->audio_codec.has_value());

  REQUIRE(db.MarkSegmentDeleting(*id).ok());
  REQUIRE(db.MarkSegmentDeleting(*id).ok());
  REQUIRE((*db.GetSegment(*id))->state == SegmentState::kDeleting);
  REQUIRE(db.ListSegmentsInState(SegmentState::kDeleting)->size() == 1);
  REQUIRE(db.RemoveSegment(*id).ok());
  REQUIRE_FALSE(db.GetSegment(*id)->has_value());
  REQUIRE(db.RemoveSegment(*id).kind() == ErrorKind::kNotFound);
  REQUIRE(db.FinishSegment(*id, FinishAt(kT0 + kMinute)).kind() == ErrorKind::kNotFound);
}

TEST_CASE("listing segments returns those overlapping the range, in start order") {
  TestDb t;
  Database& db = *t.db;
  REQUIRE(db.UpsertCamera({"yard", "Yard", {}}).ok());
  for (int i = 4; i >= 0; --i) AddCompleteSegment(db, "door-1", kT0 + i * kMinute);
  AddCompleteSegment(db, "yard", kT0 + kMinute);
  auto open = db.BeginSegment(NewSegment("door-1", kT0 + 5 * kMinute, "footage/open.mp4"));
  REQUIRE(open.ok());

  auto mid = db.ListSegments("door-1", kT0 + kMinute + 1, kT0 + 3 * kMinute);
  REQUIRE(mid.ok());
  REQUIRE(mid->size() == 2);
  REQUIRE((*mid)[0].start == kT0 + kMinute);
  REQUIRE((*mid)[1].start == kT0 + 2 * kMinute);

  auto edge = db.ListSegments("door-1", kT0 + kMinute, kT0 + kMinute + 1);
  REQUIRE(edge->size() == 1);  // [from, to): the segment ending at `from` is excluded

  auto all = db.ListSegments("door-1", kT0 - kMaxSegmentDurationUs, kT0 + 10 * kMinute);
  REQUIRE(all->size() == 6);
  REQUIRE(all->back().id == *open);
  REQUIRE(std::is_sorted(all->begin(), all->end(),
                         [](const auto& a, const auto& b) { return a.start < b.start; }));
  REQUIRE(db.ListAllSegments()->size() == 7);
}

TEST_CASE("retention walks every complete segment oldest first across batches") {
  TestDb t;
  Database& db = *t.db;
  REQUIRE(db.UpsertCamera({"yard", "Yard", {}}).ok());
  std::vector<int> minutes(4500);
  for (int i = 0; i < static_cast<int>(minutes.size()); ++i) minutes[i] = i / 2;
  std::shuffle(minutes.begin(), minutes.end(), std::mt19937(7));
  REQUIRE(db.WithTransaction([&]() -> Status {
              // Two segments start in each minute, so (start, id) ties cross batches.
              for (size_t i = 0; i < minutes.size(); ++i) {
                const std::string cam = i % 2 ? "yard" : "door-1";
                const UtcMicros start = kT0 + minutes[i] * kMinute;
                auto id = db.BeginSegment(
                    NewSegment(cam, start, "footage/" + std::to_string(i) + ".mp4"));
                REQUIRE(id.ok());
                REQUIRE(db.FinishSegment(*id, FinishAt(start + kMinute)).ok());
              }
              return Status::Ok();
            }).ok());
  REQUIRE(db.BeginSegment(NewSegment("door-1", kT0 - kMinute, "footage/open.mp4")).ok());

  std::vector<SegmentBrief> seen;
  REQUIRE(db.ForEachCompleteSegment([&](const SegmentBrief& b) {
              seen.push_back(b);
              return true;
            }).ok());
  REQUIRE(seen.size() == minutes.size());
  for (size_t i = 1; i < seen.size(); ++i) {
    REQUIRE(std::pair(seen[i - 1].start, seen[i - 1].id) < std::pair(seen[i].start, seen[i].id));
  }
  REQUIRE(seen.front().end == seen.front().start + kMinute);

  int visited = 0;
  REQUIRE(db.ForEachCompleteSegment([&](const SegmentBrief&) { return ++visited < 10; }).ok());
  REQUIRE(visited == 10);

  int64_t rows = 0;
  REQUIRE(db.ForEachSegment([&](const SegmentRow&) { return ++rows > 0; }).ok());
  REQUIRE(rows == static_cast<int64_t>(minutes.size()) + 1);
}

TEST_CASE("a held segment cannot be marked deleting and a leased one must wait") {
  TestDb t;
  Database& db = *t.db;
  int64_t id = AddCompleteSegment(db, "door-1", kT0);

  HoldRow hold;
  hold.reason = "police request 123";
  hold.owner_user_id = t.manager_id;
  hold.review = kT0 + 30 * kMicrosPerDay;
  hold.ranges = {{"door-1", kT0 + 30 * kMicrosPerSecond, kT0 + 90 * kMicrosPerSecond}};
  auto hold_id = db.CreateHold(hold);
  REQUIRE(hold_id.ok());
  REQUIRE(db.MarkSegmentDeleting(id).kind() == ErrorKind::kFailedPrecondition);
  REQUIRE(db.ReleaseHold(*hold_id, t.manager_id).ok());

  REQUIRE(db.LeaseSegment(id, "export-7", kT0 + kMinute).ok());
  REQUIRE(db.MarkSegmentDeleting(id).kind() == ErrorKind::kUnavailable);
  t.clock.Advance(kMinute);
  REQUIRE(db.MarkSegmentDeleting(id).ok());
  REQUIRE(db.LeaseSegment(id, "export-8", kT0 + 2 * kMinute).kind() == ErrorKind::kNotFound);
  REQUIRE(db.RemoveSegment(id).ok());
}

TEST_CASE("runs and gaps are recorded per camera and listed by overlap") {
  TestDb t;
  Database& db = *t.db;
  REQUIRE(db.LastRun("door-1")->has_value() == false);
  auto first = db.BeginRun("door-1", kT0);
  REQUIRE(first.ok());
  REQUIRE(db.EndRun(*first, kT0 + 10 * kMinute).ok());
  auto second = db.BeginRun("door-1", kT0 + 15 * kMinute);
  auto last = db.LastRun("door-1");
  REQUIRE(last.ok());
  REQUIRE((*last)->id == *second);
  REQUIRE_FALSE((*last)->end.has_value());
  REQUIRE(db.EndRun(999, kT0).kind() == ErrorKind::kNotFound);
  REQUIRE(db.EndRun(*second, kT0).kind() == ErrorKind::kFailedPrecondition);

  REQUIRE(db.InsertGap({0, "door-1", kT0 + 10 * kMinute, kT0 + 15 * kMinute,
                        GapReason::kCameraOffline, "no RTSP answer"})
              .ok());
  REQUIRE(db.InsertGap({0, "door-1", kT0 + 20 * kMinute, kT0 + 21 * kMinute,
                        GapReason::kRecorderStopped, ""})
              .ok());
  REQUIRE(db.InsertGap({0, "door-1", kT0 + 22 * kMinute, kT0 + 21 * kMinute, GapReason::kCrash, ""})
              .kind() == ErrorKind::kFailedPrecondition);
  auto gaps = db.ListGaps("door-1", kT0 + 12 * kMinute, kT0 + 20 * kMinute + 1);
  REQUIRE(gaps.ok());
  REQUIRE(gaps->size() == 2);
  REQUIRE((*gaps)[0].reason == GapReason::kCameraOffline);
  REQUIRE((*gaps)[0].detail == "no RTSP answer");
  REQUIRE((*gaps)[1].reason == GapReason::kRecorderStopped);
  REQUIRE(db.ListGaps("door-1", kT0 + 16 * kMinute, kT0 + 20 * kMinute)->empty());
}

TEST_CASE("camera status is replaced on each update and stamped with the time") {
  TestDb t;
  Database& db = *t.db;
  CameraStatusRow s{"door-1", true, kT0, 2'000'000, std::nullopt, {}};
  REQUIRE(db.SetCameraStatus(s).ok());
  t.clock.Advance(kMinute);
  s.online = false;
  s.last_error = "connection refused";
  REQUIRE(db.SetCameraStatus(s).ok());
  auto all = db.ListCameraStatus();
  REQUIRE(all->size() == 1);
  REQUIRE_FALSE(all->front().online);
  REQUIRE(all->front().last_error == "connection refused");
  REQUIRE(all->front().updated == kT0 + kMinute);
  REQUIRE(db.SetCameraStatus({"ghost", true, {}, 0, {}, {}}).kind() ==
          ErrorKind::kFailedPrecondition);
}

TEST_CASE("deletions are recorded with their hashes and cannot be altered afterwards") {
  TestDb t;
  Database& db = *t.db;
  DeletionRow d;
  d.camera_id = "door-1";
  d.from = kT0;
  d.to = kT0 + 2 * kMinute;
  d.segment_count = 2;
  d.bytes = 2000;
  d.sha256s = {std::string(64, 'a'), std::string(64, 'b')};
  d.rule = DeletionRule::kMaxAge;
  REQUIRE(db.RecordDeletion(d).ok());
  d.rule = DeletionRule::kManual;
  REQUIRE(db.RecordDeletion(d).status().kind() == ErrorKind::kFailedPrecondition);
  d.deleted_by = t.manager_id;
  REQUIRE(db.RecordDeletion(d).ok());

  auto list = db.ListDeletions(kT0, kT0 + 1);
  REQUIRE(list->size() == 2);
  REQUIRE((*list)[0].sha256s == d.sha256s);
  REQUIRE((*list)[0].rule == DeletionRule::kMaxAge);
  REQUIRE((*list)[1].deleted_by == t.manager_id);
  REQUIRE(RawExec(t.path, "UPDATE deletions SET bytes = 0") == SQLITE_CONSTRAINT);
  REQUIRE(RawExec(t.path, "DELETE FROM deletions") == SQLITE_CONSTRAINT);
}

TEST_CASE(
    "the newest clock offset of a camera skips segments without one, and footage bytes "
    "are summed per camera over complete segments") {
  TestDb t;
  Database& db = *t.db;
  REQUIRE(db.UpsertCamera({"yard", "Yard", {}}).ok());
  auto add = [&](const std::string& camera, UtcMicros start, std::optional<int64_t> offset,
                 bool finish, int64_t bytes) {
    SegmentRow s =
        NewSegment(camera, start, "footage/" + camera + "/" + std::to_string(start.us) + ".mp4");
    s.clock_offset_us = offset;
    auto id = db.BeginSegment(s);
    REQUIRE(id.ok());
    if (finish) REQUIRE(db.FinishSegment(*id, FinishAt(start + kMinute, bytes)).ok());
  };
  add("door-1", kT0, 4'000'000, true, 100);
  add("door-1", kT0 + kMinute, 2'500'000, true, 200);
  add("door-1", kT0 + 2 * kMinute, std::nullopt, false, 0);  // no sender report yet
  add("yard", kT0, std::nullopt, true, 50);

  auto latest = db.LatestClockOffset("door-1", kT0);
  REQUIRE(latest.ok());
  REQUIRE(latest->has_value());
  CHECK((*latest)->clock_offset_us == 2'500'000);
  CHECK((*latest)->start == kT0 + kMinute);
  CHECK_FALSE(db.LatestClockOffset("door-1", kT0 + 2 * kMinute)->has_value());
  CHECK_FALSE(db.LatestClockOffset("yard", kT0)->has_value());

  auto bytes = db.FootageBytesByCamera();
  REQUIRE(bytes.ok());
  CHECK(bytes->at("door-1") == 300);
  CHECK(bytes->at("yard") == 50);
  CHECK(bytes->size() == 2);
}

TEST_CASE("an alarm is raised once per kind until it is cleared") {
  TestDb t;
  Database& db = *t.db;
  auto a = db.RaiseAlarm("disk_full", "97% used");
  auto b = db.RaiseAlarm("disk_full", "98% used");
  REQUIRE(a.ok());
  REQUIRE(*a == *b);
  REQUIRE(db.RaiseAlarm("camera_offline:door-1", "").ok());
  auto active = db.ListActiveAlarms();
  REQUIRE(active->size() == 2);
  REQUIRE((*active)[0].detail == "98% used");
  REQUIRE(db.ClearAlarm("disk_full").ok());
  REQUIRE(db.ListActiveAlarms()->size() == 1);
  auto c = db.RaiseAlarm("disk_full", "99% used");
  REQUIRE(*c != *a);
}

TEST_CASE("a retention change waits as a pending policy change until applied or cancelled") {
  TestDb t;
  Database& db = *t.db;
  REQUIRE(db.SetSetting("site_name", "Hostel A", t.manager_id).ok());
  REQUIRE(db.GetSetting("site_name")->value() == "Hostel A");
  REQUIRE_FALSE(db.GetSetting("missing")->has_value());

  PolicyChangeRow c;
  c.camera_id = "door-1";
  c.key = "max_age_days";
  c.old_value = "31";
  c.new_value = "7";
  c.requested_by = t.manager_id;
  c.effective = kT0 + 7 * kMicrosPerDay;
  auto id = db.SchedulePolicyChange(c);
  REQUIRE(id.ok());
  c.effective = kT0 - 1;
  REQUIRE(db.SchedulePolicyChange(c).status().kind() == ErrorKind::kFailedPrecondition);
  auto open = db.ListOpenPolicyChanges();
  REQUIRE(open->size() == 1);
  REQUIRE(open->front().requested == kT0);
  REQUIRE(db.MarkPolicyChangeApplied(*id).ok());
  REQUIRE(db.CancelPolicyChange(*id).kind() == ErrorKind::kNotFound);
  REQUIRE(db.ListOpenPolicyChanges()->empty());
}

TEST_CASE("crash recovery may remove a recording row whose file held no footage") {
  TestDb t;
  auto id = t.db->BeginSegment(NewSegment("door-1", kT0, "footage/door-1/torn.mp4"));
  REQUIRE(id.ok());
  REQUIRE(t.db->RemoveSegment(*id).ok());
  REQUIRE(t.db->ListAllSegments()->empty());
}

// Schema v4: an access-log entry or export that names a segment id must never later point
// at another file, so the id of a removed newest row is not handed out again.
TEST_CASE("a removed segment's id is never given to a later segment") {
  TestDb t;
  auto first = t.db->BeginSegment(NewSegment("door-1", kT0, "footage/door-1/a.mp4"));
  auto newest = t.db->BeginSegment(NewSegment("door-1", kT0 + kMinute, "footage/door-1/b.mp4"));
  REQUIRE(first.ok());
  REQUIRE(newest.ok());
  REQUIRE(t.db->RemoveSegment(*newest).ok());
  auto next = t.db->BeginSegment(NewSegment("door-1", kT0 + 2 * kMinute, "footage/door-1/c.mp4"));
  REQUIRE(next.ok());
  REQUIRE(*next > *newest);
}
