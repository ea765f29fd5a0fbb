// Recovery and `check` on a footage directory after a crash, built by hand: torn segment
// files, files with no row, rows with no file.
#include "recorder/recovery.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "activity/activity_file.h"
#include "activity/day_digest.h"
#include "base/sha256.h"
#include "media/mp4_scan.h"
#include "media/probe.h"
#include "recorder/footage_check.h"
#include "recorder/segment_file.h"

using namespace custodian;
using namespace custodian::recorder;

namespace {

struct Fixture {
  std::string dir;
  std::unique_ptr<records::Database> db;
  Filesystem& fs = PosixFilesystem::Instance();
  std::string clip;  // a 4 s fragmented MP4 with a keyframe every second

  // encoder_flags: more for the encoder and muxer (B-frames, as the recorder writes them).
  explicit Fixture(const std::string& encoder_flags = "") {
    char tmpl[] = "/tmp/custodian-recovery-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    auto opened = records::Database::Open(dir + "/records.db", SystemClock::Instance());
    REQUIRE(opened.ok());
    db = std::move(opened).value();
    REQUIRE(db->UpsertCamera({"cam", "cam", {}}).ok());
    clip = dir + "/clip.mp4";
    std::string cmd = "ffmpeg -loglevel error -y -f lavfi -i testsrc=size=320x240:rate=25 -t 4 "
                      "-c:v libx264 -preset ultrafast -g 25 -pix_fmt yuv420p -movflags "
                      "frag_keyframe+empty_moov+default_base_moof" + encoder_flags + " " + clip;
    REQUIRE(std::system(cmd.c_str()) == 0);
  }

  // Places a copy of the clip, cut to `bytes` (0: whole), at the path for `start`.
  std::string Place(UtcMicros start, uint64_t bytes = 0) {
    std::string rel = SegmentRelativePath("cam", start);
    REQUIRE(fs.CreateDirs(DirName(dir + "/" + rel)).ok());
    REQUIRE(std::system(("cp " + clip + " " + dir + "/" + rel).c_str()) == 0);
    if (bytes) REQUIRE(fs.Truncate(dir + "/" + rel, bytes).ok());
    return rel;
  }

  int64_t OpenRow(UtcMicros start, const std::string& rel) {
    records::SegmentRow row;
    row.camera_id = "cam";
    row.start = start;
    row.path = rel;
    row.video_codec = "h264";
    row.width = 320;
    row.height = 240;
    auto id = db->BeginSegment(row);
    REQUIRE(id.ok());
    return *id;
  }

  // Places the whole clip at the path for `start` with a finished row that matches it
  // (size and SHA-256), as the recorder leaves a closed segment; returns the path.
  std::string PlaceFinished(UtcMicros start) {
    std::string rel = Place(start);
    int64_t id = OpenRow(start, rel);
    records::SegmentFinish fin;
    fin.end = start + 4'000'000;
    fin.bytes = static_cast<int64_t>(*fs.FileSize(dir + "/" + rel));
    fin.duration_us = 4'000'000;
    fin.sha256 = Sha256File(dir + "/" + rel).value();
    fin.video_codec = "h264";
    fin.width = 320;
    fin.height = 240;
    REQUIRE(db->FinishSegment(id, fin).ok());
    return rel;
  }
};

}  // namespace

TEST_CASE("recovery finishes a torn segment from its last whole fragment") {
  Fixture f;
  UtcMicros start{1'790'000'000'000'000};
  uint64_t size = *f.fs.FileSize(f.clip);
  std::string rel = f.Place(start, size * 2 / 3);
  int64_t id = f.OpenRow(start, rel);

  auto report = RecoverFootage(*f.db, f.fs, f.dir);
  REQUIRE(report.ok());
  REQUIRE(report->finished == 1);
  REQUIRE(report->trimmed_bytes > 0);
  auto row = f.db->GetSegment(id).value().value();
  REQUIRE(row.state == records::SegmentState::kComplete);
  REQUIRE(row.duration_us == 2'000'000);  // two whole one-second fragments survived
  REQUIRE(*row.end == start + 2'000'000);
  REQUIRE(row.bytes == static_cast<int64_t>(*f.fs.FileSize(f.dir + "/" + rel)));
  REQUIRE(row.sha256 == Sha256File(f.dir + "/" + rel).value());
  REQUIRE(media::ProbeFile(f.dir + "/" + rel, true)->decode_errors == 0);
  auto check = CheckFootage(*f.db, f.fs, f.dir, true);
  REQUIRE(check.ok());
  REQUIRE(check->problems.empty());
}

TEST_CASE("recovery finishes a torn B-frame segment with its presentation time as duration") {
  // Two B-frames with pyramid, their composition offsets negative as the recorder writes
  // them (version 1 truns).
  Fixture f("+negative_cts_offsets -bf 2 -b_strategy 0");
  UtcMicros start{1'790'000'000'000'000};
  uint64_t size = *f.fs.FileSize(f.clip);
  std::string rel = f.Place(start, size * 2 / 3);
  int64_t id = f.OpenRow(start, rel);

  auto report = RecoverFootage(*f.db, f.fs, f.dir);
  REQUIRE(report.ok());
  REQUIRE(report->finished == 1);
  auto row = f.db->GetSegment(id).value().value();
  REQUIRE(row.state == records::SegmentState::kComplete);
  REQUIRE(row.duration_us == 2'000'000);  // two whole GOPs, shown from 0 to 2 s
  auto probe = media::ProbeFile(f.dir + "/" + rel, true);
  REQUIRE(probe.ok());
  REQUIRE(probe->decode_errors == 0);
  REQUIRE(probe->frame_times_us.size() == 50);
  for (size_t i = 0; i < probe->frame_times_us.size(); ++i)
    REQUIRE(probe->frame_times_us[i] == static_cast<int64_t>(i) * 40'000);
}

TEST_CASE("recovery adopts a playable file with no row and quarantines one that does not play") {
  Fixture f;
  UtcMicros start{1'790'000'100'000'000};
  std::string orphan = f.Place(start);
  std::string garbage_rel = SegmentRelativePath("cam", start + 60'000'000);
  { std::ofstream(f.dir + "/" + garbage_rel) << "not a video"; }

  auto before = CheckFootage(*f.db, f.fs, f.dir, false);
  REQUIRE(before.ok());
  REQUIRE(before->problems.size() == 2);  // check sees both files without rows

  auto report = RecoverFootage(*f.db, f.fs, f.dir);
  REQUIRE(report.ok());
  REQUIRE(report->adopted == 1);
  REQUIRE(report->quarantined == 1);
  auto segs = f.db->ListAllSegments().value();
  REQUIRE(segs.size() == 1);
  REQUIRE(segs[0].path == orphan);
  REQUIRE(segs[0].start == start);
  REQUIRE(segs[0].duration_us == 4'000'000);
  REQUIRE_FALSE(f.fs.Exists(f.dir + "/" + garbage_rel));  // moved, not deleted:
  auto q = f.fs.List(f.dir + "/footage/quarantine");
  REQUIRE(q.ok());
  REQUIRE(q->size() == 1);

  auto after = CheckFootage(*f.db, f.fs, f.dir, true);
  REQUIRE(after.ok());
  REQUIRE(after->problems.empty());
  REQUIRE(after->notes.size() == 1);  // the quarantined file is reported
}

TEST_CASE("a recording row whose file holds no whole fragment is removed and its file kept aside") {
  Fixture f;
  UtcMicros start{1'790'000'200'000'000};
  std::string rel = f.Place(start, 600);  // header only, no whole fragment
  f.OpenRow(start, rel);
  UtcMicros start2 = start + 120'000'000;
  f.OpenRow(start2, SegmentRelativePath("cam", start2));  // row inserted, file never created

  auto report = RecoverFootage(*f.db, f.fs, f.dir);
  REQUIRE(report.ok());
  REQUIRE(report->emptied == 2);
  REQUIRE(report->quarantined == 1);
  REQUIRE(f.db->ListAllSegments().value().empty());
  REQUIRE(CheckFootage(*f.db, f.fs, f.dir, false)->problems.empty());
}

TEST_CASE("check reports a segment whose file changed size or content") {
  Fixture f;
  UtcMicros start{1'790'000'300'000'000};
  std::string rel = f.PlaceFinished(start);
  REQUIRE(CheckFootage(*f.db, f.fs, f.dir, true)->problems.empty());

  // Flip one byte in place: same size, different hash.
  REQUIRE(std::system(("printf 'X' | dd of=" + f.dir + "/" + rel + " bs=1 seek=5000 conv=notrunc status=none").c_str()) == 0);
  REQUIRE(CheckFootage(*f.db, f.fs, f.dir, false)->problems.empty());  // size still matches
  auto hashed = CheckFootage(*f.db, f.fs, f.dir, true);
  REQUIRE(hashed->problems.size() == 1);
  REQUIRE(hashed->problems[0].find("SHA-256") != std::string::npos);

  REQUIRE(f.fs.Truncate(f.dir + "/" + rel, 1000).ok());
  auto cut = CheckFootage(*f.db, f.fs, f.dir, false);
  REQUIRE(cut->problems.size() == 1);
  REQUIRE(cut->problems[0].find("records say") != std::string::npos);
}

// The day digest of activity indexes (activity/day_digest.h) is not footage: recovery leaves
// it alone and check accepts it beside its day's segments, but not in a day without any.
TEST_CASE("check accepts a day's activity digest with footage and reports one without") {
  Fixture f;
  UtcMicros start{1'790'000'400'000'000};
  std::string rel = f.PlaceFinished(start);
  const std::string seg = f.dir + "/" + rel;
  activity::SegmentActivity index;
  index.scores.assign(4, 1);
  REQUIRE(activity::WriteActivityFile(f.fs, activity::ActivityPathFor(seg), index).ok());
  REQUIRE(activity::ReadDayIndexes(f.fs, {seg})[0].ok());
  REQUIRE(f.fs.Exists(activity::DayDigestPathFor(seg)));
  auto recovered = RecoverFootage(*f.db, f.fs, f.dir);
  REQUIRE(recovered.ok());
  CHECK(recovered->quarantined == 0);
  CHECK(f.fs.Exists(activity::DayDigestPathFor(seg)));
  CHECK(CheckFootage(*f.db, f.fs, f.dir, false)->problems.empty());

  // A digest left in a day directory with no footage rows is movement data without footage.
  const UtcMicros other = start + 3 * int64_t{86'400'000'000};
  const std::string orphan = f.dir + "/" + DirName(SegmentRelativePath("cam", other));
  REQUIRE(f.fs.CreateDirs(orphan).ok());
  REQUIRE(WriteFileAtomically(f.fs, orphan + "/day.activity", "CUSTDAY1").ok());
  auto report = CheckFootage(*f.db, f.fs, f.dir, false);
  REQUIRE(report->problems.size() == 1);
  CHECK(report->problems[0].find("activity digest of a day without footage") != std::string::npos);
}

// A crash leaves a segment without its index: the one it cut (finished here), or the one it
// closed just before the recorder wrote the index (the camera's newest complete segment).
TEST_CASE("recovery rebuilds the activity index of a segment a crash left without one") {
  Fixture f;
  const UtcMicros closed{1'790'000'800'000'000};
  const std::string closed_rel = f.Place(closed);
  const int64_t closed_id = f.OpenRow(closed, closed_rel);
  records::SegmentFinish fin;
  fin.end = closed + 4'000'000;
  fin.bytes = static_cast<int64_t>(*f.fs.FileSize(f.dir + "/" + closed_rel));
  fin.duration_us = 4'000'000;
  fin.sha256 = Sha256File(f.dir + "/" + closed_rel).value();
  fin.video_codec = "h264";
  fin.width = 320;
  fin.height = 240;
  REQUIRE(f.db->FinishSegment(closed_id, fin).ok());
  const UtcMicros cut = closed + 4'000'000;
  const std::string cut_rel = f.Place(cut, *f.fs.FileSize(f.clip) * 2 / 3);
  const int64_t cut_id = f.OpenRow(cut, cut_rel);

  SECTION("by default") {
    auto report = RecoverFootage(*f.db, f.fs, f.dir);
    REQUIRE(report.ok());
    CHECK(report->indexed == 1);  // the newest complete one is the cut one now
    auto cut_row = f.db->GetSegment(cut_id).value().value();
    auto index = activity::ReadActivityFile(f.fs, activity::ActivityPathFor(f.dir + "/" + cut_rel));
    REQUIRE(index.ok());
    CHECK(static_cast<int64_t>(index->scores.size()) ==
          (cut_row.duration_us + 999'999) / 1'000'000);
    CHECK(CheckFootage(*f.db, f.fs, f.dir, true)->problems.empty());

    // The closed segment was not the newest: a second recovery (after its index is lost)
    // leaves it, and makes nothing twice.
    auto again = RecoverFootage(*f.db, f.fs, f.dir);
    REQUIRE(again.ok());
    CHECK(again->indexed == 0);
  }
  SECTION("the newest complete segment gets one too") {
    REQUIRE(f.db->RemoveSegment(cut_id).ok());
    REQUIRE(f.fs.Unlink(f.dir + "/" + cut_rel).ok());
    auto report = RecoverFootage(*f.db, f.fs, f.dir);
    REQUIRE(report.ok());
    CHECK(report->indexed == 1);
    auto index =
        activity::ReadActivityFile(f.fs, activity::ActivityPathFor(f.dir + "/" + closed_rel));
    REQUIRE(index.ok());
    CHECK(index->scores.size() == 4);
  }
  SECTION("not when the site indexes no activity") {
    RecoveryOptions options;
    options.activity_index = false;
    auto report = RecoverFootage(*f.db, f.fs, f.dir, options);
    REQUIRE(report.ok());
    CHECK(report->indexed == 0);
    CHECK_FALSE(f.fs.Exists(activity::ActivityPathFor(f.dir + "/" + cut_rel)));
  }
}
