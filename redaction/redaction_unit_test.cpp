// Option parsing, the mask styles on a synthetic frame, the tracker on made-up detections,
// and the writer's subtitle track.
#include <catch2/catch.hpp>
#include <cstdio>
#include <set>
#include <string>

#include "base/filesystem.h"
#include "base/testing/temp_dir.h"
#include "exports/timed_text.h"
#include "redaction/detector.h"
#include "redaction/mask.h"
#include "redaction/options.h"
#include "redaction/redactor.h"
#include "redaction/tracker.h"
#include "redaction/video_io.h"

namespace custodian::redaction {
namespace {

// The standard output of a shell command ("" when it fails).
std::string Output(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  return ::pclose(p) == 0 ? out : "";
}

TEST_CASE("the writer adds the given cues as a mov_text subtitle track beside the video") {
  custodian::testing::TempDir dir;
  const std::string path = dir.path() + "/out.mp4";
  VideoInfo info;
  info.width = 64;
  info.height = 48;
  info.time_base = {1, 25};
  info.frame_rate = {25, 1};
  TextTrack text;
  text.sample_description = exports::TimedTextSampleDescription();
  const std::string first = "31/03/2026 09:00:00 BST - Front door";
  const std::string second = "31/03/2026 09:00:01 BST - Front door";
  text.cues = {{0, 1000, exports::TimedTextSample(first)},
               {1000, 1000, exports::TimedTextSample(second)}};
  auto writer = VideoWriter::Open(path, info, nullptr, &text);
  REQUIRE(writer.ok());
  for (int i = 0; i < 50; ++i) {
    if (i % 25 == 0) REQUIRE((*writer)->WriteText(text.cues[i / 25]).ok());
    Frame f(av_frame_alloc());
    f->format = AV_PIX_FMT_YUV420P;
    f->width = info.width;
    f->height = info.height;
    REQUIRE(av_frame_get_buffer(f.get(), 0) == 0);
    for (int plane = 0; plane < 3; ++plane) {
      for (int y = 0; y < (plane ? 24 : 48); ++y)
        std::fill_n(f->data[plane] + y * f->linesize[plane], plane ? 32 : 64, uint8_t(16 + i));
    }
    f->pts = i;
    REQUIRE((*writer)->WriteFrame(f.get()).ok());
  }
  REQUIRE((*writer)->Finish().ok());
  const std::string streams = Output(
      "ffprobe -v error -show_entries stream=codec_name,codec_type -of csv=p=0 '" + path + "'");
  CHECK(streams.find("h264,video") != std::string::npos);
  CHECK(streams.find("mov_text,subtitle") != std::string::npos);
  const std::string srt = Output("ffmpeg -v error -i '" + path + "' -map 0:s:0 -f srt -");
  // ffmpeg writes the sample entry's style as a font tag around each cue's text.
  const std::string style = "<font face=\"Sans-Serif\" size=\"18\">";
  CHECK(srt == "1\n00:00:00,000 --> 00:00:01,000\n" + style + first + "</font>\n\n2\n" +
                   "00:00:01,000 --> 00:00:02,000\n" + style + second + "</font>\n\n");
}

TEST_CASE("the contact sheet grows with the footage: a frame every 10 s, 16 at least") {
  CHECK(ContactSheetFrames(0) == 16);
  CHECK(ContactSheetFrames(30) == 16);
  CHECK(ContactSheetFrames(300) == 30);
  CHECK(ContactSheetFrames(3600) == 360);
  CHECK(ContactSheetFrames(86400) == 360);
  CHECK(RedactionOptions{}.contact_sheet_frames == 0);  // the default follows the duration
}

TEST_CASE("the frame rate sets the detection schedule and the holds") {
  DetectionParams p = ResolveForFrameRate(DetectionParams{}, 25);
  CHECK(p.detect_every == 5);
  CHECK(p.hold_frames == 25);
  CHECK(p.sweep_frames == 50);
  DetectionParams q = ResolveForFrameRate(DetectionParams{}, 10);
  CHECK(q.detect_every == 2);
  CHECK(q.pre_frames == 10);
  DetectionParams fixed;
  fixed.detect_every = 3;
  CHECK(ResolveForFrameRate(fixed, 25).detect_every == 3);
  CHECK(ResolveForFrameRate(DetectionParams{}, 0).detect_every == 5);  // unknown rate: 25 fps
}

TEST_CASE("the command-line boxes, subjects and manual regions parse or say what is wrong") {
  auto m = ParseManualRegion("10,20,30,40@1.5-3");
  REQUIRE(m.ok());
  CHECK(m->box == Box{10, 20, 30, 40});
  CHECK(m->from_s == 1.5);
  CHECK(m->to_s == 3);
  for (const char* bad : {"10,20,30@1-2", "10,20,30,40", "10,20,30,40@2-1", "10,20,0,40@1-2",
                          "a,b,c,d@1-2", "10,20,30,40@1", "10,20,30,40@-1-2"}) {
    INFO(bad);
    auto r = ParseManualRegion(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("bad --manual") != std::string::npos);
  }
  auto s = ParseSubject("1,2,3,4@5");
  REQUIRE(s.ok());
  CHECK(s->at_s == 5);
  CHECK_FALSE(ParseMode("everything").ok());
  CHECK(*ParseMaskStyle("blur") == MaskStyle::kBlur);
  RedactionOptions o;
  o.mode = Mode::kKeepSubject;
  CHECK_FALSE(ValidateOptions(o).ok());
}

Frame Noise(int w, int h) {
  Frame f(av_frame_alloc());
  f->format = AV_PIX_FMT_YUV420P;
  f->width = w;
  f->height = h;
  REQUIRE(av_frame_get_buffer(f.get(), 0) == 0);
  uint32_t x = 12345;
  for (int p = 0; p < 3; ++p) {
    int ph = p ? h / 2 : h, pw = p ? w / 2 : w;
    for (int y = 0; y < ph; ++y) {
      for (int i = 0; i < pw; ++i) {
        x = x * 1103515245 + 12345;
        f->data[p][y * f->linesize[p] + i] = static_cast<uint8_t>(x >> 16);
      }
    }
  }
  return f;
}

// Distinct luma values inside the box: what survives of the original's detail.
size_t DistinctLuma(const AVFrame* f, const Box& b) {
  std::set<uint8_t> v;
  for (int y = b.y; y < b.bottom(); ++y) {
    for (int x = b.x; x < b.right(); ++x) v.insert(f->data[0][y * f->linesize[0] + x]);
  }
  return v.size();
}

TEST_CASE("every mask style destroys the detail inside the box and nothing outside") {
  const Box box{32, 32, 64, 64};
  for (MaskStyle style : {MaskStyle::kSolid, MaskStyle::kPixelate, MaskStyle::kBlur}) {
    INFO(MaskStyleName(style));
    Frame f = Noise(160, 128);
    Frame before(av_frame_clone(f.get()));
    REQUIRE(av_frame_make_writable(f.get()) == 0);
    size_t outside_before = DistinctLuma(f.get(), {0, 0, 160, 30});
    MaskBox(f.get(), box, style);
    size_t inside = DistinctLuma(f.get(), box);
    if (style == MaskStyle::kSolid) CHECK(inside == 1);
    // 64 px with blocks of 16: at most 16 block means survive pixelation.
    if (style == MaskStyle::kPixelate) CHECK(inside <= 16);
    // Blur smooths 16 block means: a few dozen levels at most, not the noise's 256.
    if (style == MaskStyle::kBlur) CHECK(inside <= 64);
    CHECK(DistinctLuma(f.get(), {0, 0, 160, 30}) == outside_before);
  }
}

TEST_CASE("keep-region masks everything outside the region") {
  Frame f = Noise(160, 128);
  MaskOutside(f.get(), {40, 40, 40, 40}, MaskStyle::kSolid);
  CHECK(DistinctLuma(f.get(), {0, 0, 160, 38}) == 1);
  CHECK(DistinctLuma(f.get(), {42, 42, 36, 36}) > 200);
}


// A small face on a fast walker: at 25 fps, 10 px a frame with a detector box of 8 px, so it
// is six of its widths further on at each detection (five frames).
std::vector<Detection> FaceOnMover(int x, int y, int size, bool moving = true) {
  std::vector<Detection> d{{{x, y, size, size}, DetectionKind::kFace}};
  if (moving) d.push_back({{x - size / 2, y - size / 2, 2 * size, 2 * size}, DetectionKind::kMotion});
  return d;
}

bool Covers(const std::vector<MaskBoxAt>& masks, const Box& b) {
  for (const MaskBoxAt& m : masks) {
    if (m.kind == DetectionKind::kFace && Intersect(m.box, b) == b) return true;
  }
  return false;
}

TEST_CASE("a small fast face seen at two detections is one track masked all along its path") {
  DetectionParams p = ResolveForFrameRate(DetectionParams{}, 25);
  Tracker tracker(p, 1920, 1080);
  for (int k = 0; k <= 4; ++k) tracker.Add(5 * k, FaceOnMover(400 + 50 * k, 500, 8));
  CHECK(tracker.face_tracks() == 1);
  // Between detections, where it really is (10 px a frame).
  for (int f = 1; f < 20; ++f) {
    INFO("frame " << f);
    CHECK(Covers(tracker.BoxesAt(f), Box{400 + 10 * f, 500, 8, 8}));
  }
}

TEST_CASE("between two sightings the mask is on the path and no larger than a held mask") {
  DetectionParams p = ResolveForFrameRate(DetectionParams{}, 25);  // detect_every 5
  Tracker tracker(p, 1920, 1080);
  // A fast small face: between two detections it is not over where it will be.
  for (int k = 0; k <= 4; ++k) tracker.Add(5 * k, FaceOnMover(400 + 50 * k, 500, 8));
  CHECK(Covers(tracker.BoxesAt(2), Box{420, 500, 8, 8}));
  CHECK(!Covers(tracker.BoxesAt(2), Box{450, 500, 8, 8}));
  // A 20-px face lost for a second (the hold) between two sightings on its straight path: in
  // the middle its mask grows by at most 0.4 of its size on every side, plus the margin.
  Tracker lost(p, 1920, 1080);
  for (int f = 0; f <= 10; f += 5) lost.Add(f, FaceOnMover(200 + 4 * f, 300, 20));
  for (int f = 15; f < 35; f += 5) lost.Add(f, {});
  for (int f = 35; f <= 45; f += 5) lost.Add(f, FaceOnMover(200 + 4 * f, 300, 20));
  CHECK(lost.face_tracks() == 1);
  CHECK(Covers(lost.BoxesAt(22), Box{288, 300, 20, 20}));
  for (const MaskBoxAt& m : lost.BoxesAt(22)) {
    if (m.kind == DetectionKind::kFace) CHECK(m.box.w <= (20 + 2 * 8) * 3 / 2 + 2 * 3);
  }
}

TEST_CASE("a moving face seen once and missed at the next detection links to the one after") {
  DetectionParams p = ResolveForFrameRate(DetectionParams{}, 10);  // detect_every 2
  Tracker tracker(p, 768, 576);
  // A small dark face on a walker, 5 px a frame: found at frame 0, missed at 2, found at 4.
  tracker.Add(0, FaceOnMover(300, 300, 12));
  tracker.Add(2, {{{300 + 10 - 6, 300 - 6, 24, 24}, DetectionKind::kMotion}});
  tracker.Add(4, FaceOnMover(320, 300, 12));
  for (int f = 6; f <= 20; f += 2) tracker.Add(f, FaceOnMover(300 + 5 * f, 300, 12));
  CHECK(tracker.face_tracks() == 1);
  for (int f = 0; f <= 20; ++f) {
    INFO("frame " << f);
    CHECK(Covers(tracker.BoxesAt(f), Box{300 + 5 * f, 300, 12, 12}));
  }
}

TEST_CASE("false detections on a still background far apart are not linked into a track") {
  DetectionParams p = ResolveForFrameRate(DetectionParams{}, 25);
  Tracker tracker(p, 1920, 1080);
  tracker.Add(0, FaceOnMover(100, 100, 40, false));
  tracker.Add(5, FaceOnMover(300, 100, 40, false));
  tracker.Add(10, {});
  tracker.Add(15, {});
  CHECK(tracker.face_tracks() == 2);
  // Neither is masked beyond a detection interval of itself.
  CHECK(!Covers(tracker.BoxesAt(14), Box{300, 100, 40, 40}));
}

TEST_CASE("a fast face's held mask goes where it goes, not along a band from where it was seen") {
  DetectionParams p = ResolveForFrameRate(DetectionParams{}, 25);
  Tracker tracker(p, 1920, 1080);
  for (int k = 0; k <= 3; ++k) tracker.Add(5 * k, FaceOnMover(200 + 50 * k, 500, 20));
  for (int k = 4; k <= 8; ++k) tracker.Add(5 * k, {});
  // Last seen at x = 350 at frame 15; ten frames later it is at 450.
  auto masks = tracker.BoxesAt(25);
  CHECK(Covers(masks, Box{450, 500, 20, 20}));
  CHECK(!Covers(masks, Box{350, 500, 20, 20}));
  // Held masks grow by at most 0.4 of the face's size on every side, plus the margin.
  for (const MaskBoxAt& m : masks) {
    if (m.kind == DetectionKind::kFace) CHECK(m.box.w <= (20 + 2 * 8) * 3 / 2 + 2 * 3);
  }
}

TEST_CASE("a face lost where its figure met another's is picked up again by its head's motion") {
  // 10 fps: a detection every 2 frames, a hold of 10 frames.
  DetectionParams p = ResolveForFrameRate(DetectionParams{}, 10);
  Tracker tracker(p, 768, 576);
  // A 24-px face moving 10 px a frame, found by the detector at frames 0 to 6; its head makes
  // a blob larger than the detector's box (hair, the soft edge of the head).
  auto head = [](int f) { return Box{100 + 10 * f - 15, 300 - 15, 54, 54}; };
  for (int f = 0; f <= 6; f += 2) {
    tracker.Add(f, {{{100 + 10 * f, 300, 24, 24}, DetectionKind::kFace, 0.9f},
                    {head(f), DetectionKind::kMotion}});
  }
  // Frames 8 to 14: it crosses another figure; their blobs merge into one, no face is found.
  for (int f = 8; f <= 14; f += 2) tracker.Add(f, {{{150, 220, 200, 160}, DetectionKind::kMotion}});
  // Frames 16 to 28: its head moves on alone, too dark for the face detector.
  for (int f = 16; f <= 28; f += 2) tracker.Add(f, {{head(f), DetectionKind::kMotion}});
  for (int f = 30; f <= 60; f += 2) tracker.Add(f, {});
  CHECK(tracker.face_tracks() == 1);
  for (int f = 0; f <= 28; ++f) {
    INFO("frame " << f);
    CHECK(Covers(tracker.BoxesAt(f), Box{100 + 10 * f, 300, 24, 24}));
  }
  // Once nothing of its size moves there, its mask ends with the hold.
  CHECK(tracker.BoxesAt(28 + p.hold_frames + p.post_frames + 1).empty());
}

TEST_CASE("a moving figure's head mask sits on its head and not above it") {
  DetectionParams p = ResolveForFrameRate(DetectionParams{}, 10);
  Tracker tracker(p, 768, 576);
  // A 40x100 figure walking right: its head is the top 13 px of its box, 14 px wide.
  auto figure = [](int f) { return Box{200 + 5 * f, 200, 40, 100}; };
  for (int f = 0; f <= 10; f += 2) {
    tracker.Add(f, {{figure(f), DetectionKind::kMotion}, {figure(f), DetectionKind::kPerson}});
  }
  for (int f = 0; f <= 10; f += 2) {
    INFO("frame " << f);
    const Box fig = figure(f);
    const Box head{fig.x + 13, fig.y, 14, 13};
    bool found = false;
    for (const MaskBoxAt& m : tracker.BoxesAt(f)) {
      if (m.kind != DetectionKind::kPerson) continue;
      found = true;
      CHECK(Intersect(m.head, head) == head);
      // No more above the head than the margin gives a face: a quarter of the head area's
      // height and 3 px (the figure's enlarged box would start 25 px above it).
      CHECK(m.head.y >= fig.y - 25 / 4 - 3);
      CHECK(m.head.bottom() <= fig.y + 25 + 25 / 4 + 3);
    }
    CHECK(found);
  }
}

TEST_CASE("people walking together in one blob have every head masked") {
  DetectionParams p = ResolveForFrameRate(DetectionParams{}, 10);
  Tracker tracker(p, 768, 576);
  // Two people of 30x90 side by side make one 64x92 blob (as tall as wide, not a person by
  // shape): both heads, 13 px wide at the top of each, are masked.
  auto blob = [](int f) { return Box{200 + 4 * f, 200, 64, 92}; };
  const std::vector<Box> people = PeopleIn({blob(0)}, 576);
  REQUIRE(people.size() == 1);
  for (int f = 0; f <= 10; f += 2) {
    tracker.Add(f, {{blob(f), DetectionKind::kMotion}, {blob(f), DetectionKind::kPerson}});
  }
  for (int f = 0; f <= 10; f += 2) {
    INFO("frame " << f);
    const Box b = blob(f);
    const Box left_head{b.x + 8, b.y, 13, 13}, right_head{b.x + 42, b.y + 2, 13, 13};
    bool found = false;
    for (const MaskBoxAt& m : tracker.BoxesAt(f)) {
      if (m.kind != DetectionKind::kPerson) continue;
      found = true;
      CHECK(Intersect(m.head, left_head) == left_head);
      CHECK(Intersect(m.head, right_head) == right_head);
      // The band is the top of the figures: not down to their waists.
      CHECK(m.head.bottom() <= b.y + 92 / 2);
    }
    CHECK(found);
  }
}

TEST_CASE("a figure split by background subtraction is joined again and a car is not a person") {
  // A head blob above its body, 12 px apart where the shoulders matched the background: the
  // body alone is a person whose top would be its chest; joined, the figure's top is the head.
  const Box head{300, 100, 20, 22}, body{292, 134, 36, 80};
  const std::vector<Box> people = PeopleIn({head, body}, 576);
  bool joined = false;
  for (const Box& b : people) joined = joined || (b.y == head.y && b.bottom() == body.bottom());
  CHECK(joined);
  CHECK(HeadOf(Box{292, 100, 36, 114}).y == 100);
  // A car (wider than tall), a group-shaped blob taller than half the frame and a small square blob
  // are nobody; two blobs side by side are not joined.
  CHECK(PeopleIn({Box{100, 300, 160, 70}}, 576).empty());
  CHECK(PeopleIn({Box{100, 100, 300, 320}}, 576).empty());
  CHECK(PeopleIn({Box{100, 100, 20, 20}}, 576).empty());
  CHECK(PeopleIn({Box{100, 100, 30, 20}, Box{140, 100, 30, 20}}, 576).empty());
}

// Whether `b` is covered by a mask that keep-subject keeps visible.
bool KeptAt(const std::vector<MaskBoxAt>& masks, const Box& b) {
  for (const MaskBoxAt& m : masks) {
    if (m.subject && Intersect(m.box, b) == b) return true;
  }
  return false;
}

TEST_CASE(
    "keep-subject picked where two faces cross keeps the picked face only before and after it is "
    "lost") {
  DetectionParams p = ResolveForFrameRate(DetectionParams{}, 10);  // detect_every 2
  Tracker tracker(p, 768, 576);
  // The subject walks right and is found up to frame 20; someone else walks left a little
  // lower and is found all along. They cross at frame 20, where the subject is picked; after
  // it the other face passes within reach of where the subject was last seen.
  auto subject = [](int f) { return Box{100 + 10 * f, 300, 24, 24}; };
  auto other = [](int f) { return Box{500 - 10 * f, 304, 24, 24}; };
  for (int f = 0; f <= 40; f += 2) {
    std::vector<Detection> d{{other(f), DetectionKind::kFace, 0.9f}};
    if (f <= 20) d.push_back({subject(f), DetectionKind::kFace, 0.9f});
    tracker.Add(f, d);
  }
  REQUIRE(tracker.MarkSubject(20, subject(20)) >= 1);
  for (int f = 0; f <= 20; f += 2) {
    INFO("frame " << f);
    CHECK(KeptAt(tracker.BoxesAt(f), subject(f)));
  }
  for (int f : {0, 10, 24, 30, 40}) {
    INFO("frame " << f);
    CHECK(Covers(tracker.BoxesAt(f), other(f)));
    CHECK(!KeptAt(tracker.BoxesAt(f), other(f)));
  }
}

// Whether the luma inside `b` is the same in both frames.
bool SameLuma(const AVFrame* a, const AVFrame* b, const Box& box) {
  for (int y = box.y; y < box.bottom(); ++y) {
    for (int x = box.x; x < box.right(); ++x) {
      if (a->data[0][y * a->linesize[0] + x] != b->data[0][y * b->linesize[0] + x]) return false;
    }
  }
  return true;
}

TEST_CASE("keep-subject keeps the subject's face whole beside another face that is masked") {
  DetectionParams p = ResolveForFrameRate(DetectionParams{}, 10);
  Tracker tracker(p, 768, 576);
  // Two 40-px faces walking side by side, 10 px apart: the other's mask with its full
  // margin (13 px) would cover the bottom of the subject's face.
  auto subject = [](int f) { return Box{100 + 5 * f, 300, 40, 40}; };
  auto other = [](int f) { return Box{100 + 5 * f, 350, 40, 40}; };
  for (int f = 0; f <= 20; f += 2) {
    tracker.Add(f,
                {{subject(f), DetectionKind::kFace, 0.9f}, {other(f), DetectionKind::kFace, 0.9f}});
  }
  REQUIRE(tracker.MarkSubject(10, subject(10)) >= 1);
  RedactionOptions o;
  o.mode = Mode::kKeepSubject;
  for (int f = 0; f <= 20; ++f) {
    INFO("frame " << f);
    Frame frame = Noise(768, 576);
    Frame before(av_frame_clone(frame.get()));
    REQUIRE(av_frame_make_writable(frame.get()) == 0);
    ApplyMasks(frame.get(), o, ComposeMasks(o, tracker.BoxesAt(f), f / 10.0));
    CHECK(SameLuma(frame.get(), before.get(), subject(f)));
    CHECK(DistinctLuma(frame.get(), other(f)) == 1);
  }
}

// A face detection with the network's score and nothing moving there.
std::vector<Detection> StillFace(int x, int y, int size, float score) {
  return {{{x, y, size, size}, DetectionKind::kFace, score}};
}

bool Flagged(const Tracker& tracker, int64_t frame, const std::string& reason) {
  for (const Flag& f : tracker.Flags()) {
    if (f.frame == frame && f.reason == reason) return true;
  }
  return false;
}

TEST_CASE("a low-score still detection is masked for 1 s, then flagged, and not masked again") {
  DetectionParams p = ResolveForFrameRate(DetectionParams{}, 25);
  Tracker tracker(p, 1920, 1080);
  tracker.Add(0, {});  // the first frame: the background is not known yet
  // A sign found again at every detection for 10 s, at a score of 0.4.
  for (int f = 5; f <= 250; f += 5) tracker.Add(f, StillFace(600, 100, 30, 0.4f));
  // Then only by the sweep, every 2 s, with nothing in between.
  for (int f = 255; f <= 500; f += 5)
    tracker.Add(f, f % 50 == 0 ? StillFace(601, 100, 30, 0.4f) : std::vector<Detection>{});
  CHECK(tracker.face_tracks() == 1);
  CHECK(tracker.doubtful_unlinked() == 55);
  const Box sign{600, 100, 30, 30};
  const std::string reason = "possible face on a still background, not masked";
  for (int f : {5, 15, 30}) {
    INFO("frame " << f);
    CHECK(Covers(tracker.BoxesAt(f), sign));
    CHECK(!Flagged(tracker, f, reason));
  }
  for (int f : {35, 110, 200, 240, 300, 400, 500}) {
    INFO("frame " << f);
    CHECK(!Covers(tracker.BoxesAt(f), sign));
  }
  CHECK(Flagged(tracker, 200, reason));
  CHECK(tracker.LiveBoxes(200).empty());  // not looked for at every detection either
}

TEST_CASE("a face found faintly before it is found moving is masked from its first sighting") {
  DetectionParams p = ResolveForFrameRate(DetectionParams{}, 10);  // detect_every 2
  Tracker tracker(p, 768, 576);
  tracker.Add(0, {});
  // A dark 16-px face walking 3 px a frame makes no motion blob at first.
  for (int f = 2; f <= 8; f += 2) tracker.Add(f, StillFace(300 - 3 * f, 300 + 3 * f, 12, 0.4f));
  auto moving = FaceOnMover(300 - 30, 300 + 30, 12);
  moving[0].score = 0.4f;
  tracker.Add(10, moving);
  CHECK(tracker.doubtful_unlinked() == 0);
  for (int f = 2; f <= 10; ++f) {
    INFO("frame " << f);
    CHECK(Covers(tracker.BoxesAt(f), Box{300 - 3 * f, 300 + 3 * f, 12, 12}));
  }
}

TEST_CASE("on the first frame a low-score still face is masked: nothing is known to be still") {
  DetectionParams p = ResolveForFrameRate(DetectionParams{}, 25);
  Tracker tracker(p, 1920, 1080);
  tracker.Add(0, StillFace(600, 100, 30, 0.4f));
  tracker.Add(5, StillFace(601, 100, 30, 0.4f));
  tracker.Add(10, StillFace(600, 101, 30, 0.4f));
  CHECK(tracker.face_tracks() == 1);
  CHECK(Covers(tracker.BoxesAt(5), Box{600, 100, 30, 30}));
}

TEST_CASE(
    "a confident still face stays masked, and one held on doubtful evidence alone is flagged") {
  DetectionParams p = ResolveForFrameRate(DetectionParams{}, 25);
  Tracker tracker(p, 1920, 1080);
  tracker.Add(0, {});
  // A person sitting still, found confidently, for 10 s.
  for (int f = 5; f <= 250; f += 5) tracker.Add(f, StillFace(200, 500, 30, 0.9f));
  // A face found confidently once at frame 5, then only at low scores where nothing moves.
  Tracker doubt(p, 1920, 1080);
  doubt.Add(0, {});
  doubt.Add(5, StillFace(600, 100, 30, 0.9f));
  for (int f = 10; f <= 250; f += 5) doubt.Add(f, StillFace(600, 100, 30, 0.4f));
  CHECK(tracker.face_tracks() == 1);
  CHECK(doubt.face_tracks() == 1);
  CHECK(doubt.doubtful_unlinked() == 0);  // the low scores continued the track
  for (int f : {5, 50, 100, 200, 250}) {
    INFO("frame " << f);
    CHECK(Covers(tracker.BoxesAt(f), Box{200, 500, 30, 30}));
  }
  // Masked for 4 s of doubtful evidence (100 frames from the first doubtful sighting at 10).
  CHECK(Covers(doubt.BoxesAt(50), Box{600, 100, 30, 30}));
  CHECK(Covers(doubt.BoxesAt(105), Box{600, 100, 30, 30}));
  // Then no longer masked, and flagged for the reviewer; and no longer a hint.
  for (int f : {115, 200, 250}) {
    INFO("frame " << f);
    CHECK(!Covers(doubt.BoxesAt(f), Box{600, 100, 30, 30}));
    CHECK(Flagged(doubt, f, "possible face on a still background, not masked"));
    CHECK(doubt.LiveBoxes(f).empty());
  }
  CHECK(!Flagged(doubt, 50, "possible face on a still background, not masked"));
}
}  // namespace
}  // namespace custodian::redaction

namespace custodian::redaction {

TEST_CASE("a redaction record that cannot be written leaves the old one whole") {
  custodian::testing::TempDir dir;
  const std::string path = dir.File("clip.mp4.redaction.json");
  FaultInjectingFilesystem fs(PosixFilesystem::Instance());
  REQUIRE(WriteRecordFile(path, nlohmann::json{{"faces", 1}}, fs).ok());
  fs.FailWritesAfter(3);
  REQUIRE(WriteRecordFile(path, nlohmann::json{{"faces", 2}}, fs).kind() ==
          ErrorKind::kResourceExhausted);
  fs.FailWritesAfter(-1);
  CHECK(nlohmann::json::parse(*ReadFileToString(fs, path))["faces"] == 1);
  CHECK_FALSE(fs.Exists(path + ".tmp"));
}

}  // namespace custodian::redaction
