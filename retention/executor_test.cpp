// The deletion procedure against a real records.db and real files: crashes between its
// steps, files that cannot be unlinked, files already gone, and holds or readers that
// appear after the plan was made.
#include "retention/executor.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>

#include "activity/activity_file.h"
#include "activity/day_digest.h"
#include "retention/test_util.h"

namespace custodian::retention {
namespace {

using namespace testing;

const char* StepName(int step) {
  switch (step) {
    case 1:
      return "mark deleting";
    case 2:
      return "unlink";
    case 3:
      return "fsync directory";
    case 4:
      return "remove rows (before the transaction commits)";
    case 5:
      return "record deletion";
  }
  return "?";
}

// Stops the pass, as a crash would, the first time `step` completes.
ExecutorOptions CrashAfter(int step, size_t batch_size) {
  ExecutorOptions o;
  o.batch_size = batch_size;
  auto fired = std::make_shared<bool>(false);
  o.after_step = [step, fired](DeletionStep s) -> Status {
    if (*fired || static_cast<int>(s) != step) return Status::Ok();
    *fired = true;
    return Internal("injected crash");
  };
  return o;
}

struct AgedSite : TestSite {
  std::vector<int64_t> old_ids;
  std::set<std::string> old_hashes;
  std::vector<int64_t> young_ids;

  AgedSite() {
    old_ids = AddMinutes("door-1", clock.Now() - 40 * kDay, 6);
    for (int64_t id : AddMinutes("yard-2", clock.Now() - 35 * kDay, 4)) old_ids.push_back(id);
    young_ids = AddMinutes("door-1", clock.Now() - kDay, 3);
    for (int64_t id : old_ids) old_hashes.insert(HashOf(id));
  }
};

TEST_CASE("a crash between any two deletion steps is finished by the next pass") {
  const int step = GENERATE(1, 2, 3, 4, 5);
  INFO("crash after step " << step << ": " << StepName(step));
  AgedSite site;
  PassOptions crashing;
  crashing.executor = CrashAfter(step, 4);
  auto crashed = RunRetentionPass(*site.db, site.fs, site.clock, site.settings, crashing);
  REQUIRE_FALSE(crashed.ok());
  CHECK(crashed.status().message() == "injected crash");

  // What the crash left: the first batch of four part way through the procedure.
  auto deleting = site.db->ListSegmentsInState(records::SegmentState::kDeleting);
  REQUIRE(deleting.ok());
  CHECK(deleting->size() == (step == 5 ? 0u : 4u));
  CHECK(site.Deletions().empty() == (step != 5));
  for (const records::SegmentRow& r : *deleting) {
    CHECK(std::filesystem::exists(JoinPath(site.data_dir, r.path)) == (step == 1));
  }

  site.Open();  // a new process
  PassReport report = site.Pass();
  CHECK(report.execution.failures.empty());
  CHECK(report.execution.interrupted_finished == (step == 5 ? 0 : 4));
  site.RequireRecordsAgreeWithDisk(site.old_hashes);
  for (int64_t id : site.young_ids) CHECK(site.Exists(id));
  for (const records::DeletionRow& d : site.Deletions()) {
    CHECK(d.rule == records::DeletionRule::kMaxAge);
    CHECK_THAT(d.detail, !Catch::Contains("inferred"));
  }
  auto in_flight = site.db->GetSetting(kInFlightKey);
  REQUIRE(in_flight.ok());
  CHECK(in_flight->value_or("") == "");
}

TEST_CASE("a crash while finishing an earlier crash is finished too") {
  AgedSite site;
  PassOptions first;
  first.executor = CrashAfter(2, 4);
  REQUIRE_FALSE(RunRetentionPass(*site.db, site.fs, site.clock, site.settings, first).ok());
  site.Open();
  PassOptions second;
  second.executor = CrashAfter(4, 4);
  REQUIRE_FALSE(RunRetentionPass(*site.db, site.fs, site.clock, site.settings, second).ok());
  site.Open();
  site.Pass();
  site.RequireRecordsAgreeWithDisk(site.old_hashes);
}

TEST_CASE("a file that cannot be unlinked is retried and reported, never forgotten") {
  AgedSite site;
  site.fs.FailUnlinks(true);
  for (int attempt = 0; attempt < 2; ++attempt) {
    PassReport report = site.Pass();
    CHECK(report.execution.segments_deleted == 0);
    CHECK(report.execution.failures.size() == site.old_ids.size());
    CHECK(site.AlarmActive(kDeletionFailedAlarm));
    auto deleting = site.db->ListSegmentsInState(records::SegmentState::kDeleting);
    REQUIRE(deleting.ok());
    CHECK(deleting->size() == site.old_ids.size());
    CHECK(site.FootageFiles().size() == site.old_ids.size() + site.young_ids.size());
    CHECK(site.Deletions().empty());
  }
  site.fs.FailUnlinks(false);
  PassReport report = site.Pass();
  CHECK(report.execution.segments_deleted == static_cast<int64_t>(site.old_ids.size()));
  CHECK_FALSE(site.AlarmActive(kDeletionFailedAlarm));
  site.RequireRecordsAgreeWithDisk(site.old_hashes);
}

TEST_CASE("a segment whose file is already gone counts as unlinked") {
  AgedSite site;
  auto row = site.db->GetSegment(site.old_ids[0]);
  REQUIRE(row.ok());
  REQUIRE(std::filesystem::remove(JoinPath(site.data_dir, (*row)->path)));
  PassReport report = site.Pass();
  CHECK(report.execution.failures.empty());
  site.RequireRecordsAgreeWithDisk(site.old_hashes);
}

TEST_CASE("deletion records say what was deleted, per camera and rule, without personal data") {
  AgedSite site;
  site.Pass();
  std::vector<records::DeletionRow> rows = site.Deletions();
  REQUIRE(rows.size() == 2);  // one batch, two cameras
  for (const records::DeletionRow& d : rows) {
    REQUIRE(d.camera_id);
    CHECK(d.rule == records::DeletionRule::kMaxAge);
    CHECK(d.detail == "max age 31 days");
    const int64_t n = *d.camera_id == "door-1" ? 6 : 4;
    CHECK(d.segment_count == n);
    CHECK(d.bytes == n * 1000);
    CHECK(static_cast<int64_t>(d.sha256s.size()) == n);
    CHECK(d.to - d.from == n * kMinute);
  }
}

TEST_CASE("a hold placed after the plan was made still keeps its footage") {
  AgedSite site;
  PassOptions dry;
  dry.dry_run = true;
  PassReport planned = site.Pass(dry);
  REQUIRE(planned.plan.segments.size() == site.old_ids.size());
  // Held between planning and execution: the records refuse to mark it deleting.
  auto row = site.db->GetSegment(site.old_ids[2]);
  REQUIRE(row.ok());
  site.Hold({{"door-1", (*row)->start, *(*row)->end}}, site.clock.Now() + 30 * kDay);

  DeletionExecutor executor(*site.db, site.fs, site.clock, site.data_dir);
  ExecutionReport report;
  DeletionContext ctx;
  ctx.detail = [](const std::string&, records::DeletionRule) { return std::string("test"); };
  ctx.infer_rule = [](const records::SegmentRow&) { return records::DeletionRule::kMaxAge; };
  REQUIRE(executor.Execute(planned.plan, ctx, &report).ok());
  CHECK(report.segments_skipped == 1);
  CHECK(report.segments_deleted == static_cast<int64_t>(site.old_ids.size()) - 1);
  CHECK(site.Exists(site.old_ids[2]));
  CHECK(std::filesystem::exists(JoinPath(site.data_dir, (*row)->path)));
}

TEST_CASE("a segment being read is deleted only after its lease is released") {
  AgedSite site;
  const int64_t read = site.old_ids[0];
  REQUIRE(site.db->LeaseSegment(read, "export-7", site.clock.Now() + kHour).ok());
  PassReport first = site.Pass();
  CHECK(first.plan.deferred_by_lease == 1);
  CHECK(site.Exists(read));
  REQUIRE(site.db->ReleaseSegmentLease(read, "export-7").ok());
  site.Pass();
  CHECK_FALSE(site.Exists(read));
  site.RequireRecordsAgreeWithDisk(site.old_hashes);
}

TEST_CASE("an expired lease no longer protects a segment") {
  AgedSite site;
  const int64_t read = site.old_ids[0];
  REQUIRE(site.db->LeaseSegment(read, "playback-3", site.clock.Now() + kMinute).ok());
  site.clock.Advance(kMinute);
  site.Pass();
  CHECK_FALSE(site.Exists(read));
}

TEST_CASE("day directories emptied by retention are removed once they are old") {
  AgedSite site;
  const std::string old_day =
      JoinPath(site.data_dir, DirName(TestSegmentPath("door-1", site.clock.Now() - 40 * kDay)));
  const std::string young_day =
      JoinPath(site.data_dir, DirName(TestSegmentPath("door-1", site.clock.Now() - kDay)));
  site.Pass();
  CHECK_FALSE(std::filesystem::exists(old_day));
  CHECK(std::filesystem::exists(young_day));
  CHECK(std::filesystem::exists(DirName(old_day)));  // the camera's directory stays
}

// The activity index is movement data about its footage: it goes with the segment and
// stays while a hold keeps the segment.
TEST_CASE("retention deletes a segment's activity index with it and a hold keeps both") {
  AgedSite site;
  std::map<int64_t, std::string> index_of;
  for (int64_t id : site.old_ids) {
    auto row = site.db->GetSegment(id);
    REQUIRE(row.ok());
    index_of[id] = JoinPath(site.data_dir, activity::ActivityPathFor((*row)->path));
  }
  auto young = site.db->GetSegment(site.young_ids[0]);
  REQUIRE(young.ok());
  const std::string young_index =
      JoinPath(site.data_dir, activity::ActivityPathFor((*young)->path));
  activity::SegmentActivity index;
  index.scores.assign(60, 9);
  for (const auto& [id, path] : index_of)
    REQUIRE(activity::WriteActivityFile(site.fs, path, index).ok());
  REQUIRE(activity::WriteActivityFile(site.fs, young_index, index).ok());
  auto held = site.db->GetSegment(site.old_ids[1]);
  REQUIRE(held.ok());
  site.Hold({{"door-1", (*held)->start, *(*held)->end}}, site.clock.Now() + 30 * kDay);

  site.Pass();
  for (const auto& [id, path] : index_of) {
    INFO("segment " << id);
    const bool kept = id == site.old_ids[1];
    CHECK(site.Exists(id) == kept);
    CHECK(std::filesystem::exists(path) == kept);
  }
  CHECK(std::filesystem::exists(young_index));
}

// The day digest (activity/day_digest.h) is a copy of the day's indexes in one file: it must
// go when any of the day's segments goes, and a digest built afterwards holds the kept ones
// only.
TEST_CASE("retention removes a day's activity digest with the day's segments") {
  AgedSite site;
  std::vector<std::string> old_door, old_yard, young;
  for (int64_t id : site.old_ids) {
    auto row = site.db->GetSegment(id);
    REQUIRE(row.ok());
    ((*row)->camera_id == "door-1" ? old_door : old_yard)
        .push_back(JoinPath(site.data_dir, (*row)->path));
  }
  for (int64_t id : site.young_ids) {
    auto row = site.db->GetSegment(id);
    REQUIRE(row.ok());
    young.push_back(JoinPath(site.data_dir, (*row)->path));
  }
  activity::SegmentActivity index;
  index.scores.assign(60, 9);
  std::vector<std::string> all = old_door;
  all.insert(all.end(), old_yard.begin(), old_yard.end());
  all.insert(all.end(), young.begin(), young.end());
  for (const std::string& seg : all)
    REQUIRE(activity::WriteActivityFile(site.fs, activity::ActivityPathFor(seg), index).ok());
  for (const auto& r : activity::ReadIndexes(site.fs, all)) REQUIRE(r.ok());
  for (const std::string& seg : all) REQUIRE(site.fs.Exists(activity::DayDigestPathFor(seg)));
  auto held = site.db->GetSegment(site.old_ids[1]);
  REQUIRE(held.ok());
  site.Hold({{"door-1", (*held)->start, *(*held)->end}}, site.clock.Now() + 30 * kDay);

  site.Pass();
  for (const std::string& seg : old_door)
    CHECK_FALSE(site.fs.Exists(activity::DayDigestPathFor(seg)));
  for (const std::string& seg : old_yard)
    CHECK_FALSE(site.fs.Exists(activity::DayDigestPathFor(seg)));
  for (const std::string& seg : young) CHECK(site.fs.Exists(activity::DayDigestPathFor(seg)));

  // Rebuilt from what is left (asked, wrongly, for every old segment): the held one only.
  const std::string kept = JoinPath(site.data_dir, (*held)->path);
  const auto again = activity::ReadIndexes(site.fs, old_door);
  for (size_t i = 0; i < old_door.size(); ++i) {
    INFO(old_door[i]);
    CHECK(again[i].ok() == (old_door[i] == kept));
  }
  auto digest = ReadFileToString(site.fs, activity::DayDigestPathFor(kept));
  REQUIRE(digest.ok());
  for (const std::string& seg : old_door) {
    std::string stem = seg.substr(seg.rfind('/') + 1);
    stem.resize(stem.size() - 4);
    CHECK((digest->find(stem) != std::string::npos) == (seg == kept));
  }
  for (const std::string& seg : old_yard)
    CHECK_FALSE(site.fs.Exists(activity::DayDigestPathFor(seg)));
}

TEST_CASE("an activity index that cannot be unlinked keeps its segment's row for a retry") {
  AgedSite site;
  auto row = site.db->GetSegment(site.old_ids[0]);
  REQUIRE(row.ok());
  const std::string index = JoinPath(site.data_dir, activity::ActivityPathFor((*row)->path));
  REQUIRE(activity::WriteActivityFile(site.fs, index, activity::SegmentActivity{}).ok());
  // A directory where the index should be cannot be unlinked as a file.
  std::filesystem::remove(index);
  std::filesystem::create_directory(index);
  std::filesystem::create_directory(index + "/x");
  PassReport report = site.Pass();
  CHECK(report.execution.failures.size() == 1);
  CHECK(site.Exists(site.old_ids[0]));
  CHECK(std::filesystem::exists(JoinPath(site.data_dir, (*row)->path)));
  std::filesystem::remove_all(index);
  site.Pass();
  CHECK_FALSE(site.Exists(site.old_ids[0]));
}

}  // namespace
}  // namespace custodian::retention
