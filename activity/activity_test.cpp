// The activity index: scoring, the grid, the file format and the questions asked of it.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "activity/activity_file.h"
#include "activity/day_digest.h"
#include "activity/indexer.h"
#include "activity/keyframe_pictures.h"
#include "activity/scoring.h"
#include "activity/search.h"
#include "base/filesystem.h"
#include "base/testing/temp_dir.h"
#include "media/av_util.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

using namespace custodian;
using namespace custodian::activity;

namespace {

constexpr int64_t kS = 1'000'000;

LumaThumb Flat(uint8_t level) {
  LumaThumb t;
  t.fill(level);
  return t;
}

// A thumb with a bright 4x4 block (one grid cell) at cell (col, row).
LumaThumb WithBlock(int col, int row) {
  LumaThumb t = Flat(40);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) t[(row * 4 + y) * kThumbCols + col * 4 + x] = 220;
  return t;
}

}  // namespace

TEST_CASE("a still scene scores zero and bytes above its baseline score") {
  FrameSizeScorer scorer;
  for (int i = 0; i < 30; ++i) REQUIRE(scorer.ScoreSecond(20'000 + (i % 3) * 1000) == 0);
  const uint8_t busy = scorer.ScoreSecond(80'000);
  REQUIRE(busy > kActiveScore);
  REQUIRE(scorer.ScoreSecond(200'000) == 255);
  REQUIRE(scorer.ScoreSecond(21'000) == 0);
}

TEST_CASE("the grid marks the cells whose picture changed and no others") {
  REQUIRE_FALSE(GridDiff(Flat(40), Flat(40)).Any());
  REQUIRE_FALSE(GridDiff(Flat(40), Flat(40 + kSampleThreshold)).Any());
  const ActivityGrid g = GridDiff(Flat(40), WithBlock(3, 5));
  REQUIRE(g.Count() == 1);
  REQUIRE(g.Get(3, 5));
  const ActivityGrid moved = GridDiff(WithBlock(3, 5), WithBlock(12, 1));
  REQUIRE(moved.Count() == 2);
  REQUIRE(moved.Get(3, 5));
  REQUIRE(moved.Get(12, 1));
}

TEST_CASE("a luma plane is reduced to 64x36 samples of its blocks") {
  const int w = 640, h = 360;
  std::vector<uint8_t> plane(static_cast<size_t>(w) * h, 10);
  for (int y = 0; y < 40; ++y)
    for (int x = 600; x < 640; ++x) plane[y * w + x] = 250;  // top-right cell
  LumaThumb t;
  ReduceLuma(plane.data(), w, w, h, &t);
  REQUIRE(t[0] == 10);
  REQUIRE(t[kThumbCols - 1] == 250);
  REQUIRE(GridDiff(Flat(10), t).Get(kGridCols - 1, 0));
  REQUIRE(GridDiff(Flat(10), t).Count() == 1);
}

TEST_CASE("an index round-trips through its file format and a torn file is refused") {
  SegmentActivity a;
  a.scores = {0, 0, 40, 255, 7};
  GridSpan span;
  span.first_second = 1;
  span.end_second = 4;
  span.cells.Set(15, 8);
  span.cells.Set(0, 0);
  a.grids.push_back(span);
  const std::string bytes = EncodeActivity(a);
  REQUIRE(bytes.size() == 16 + 5 + 22);
  auto back = DecodeActivity(bytes);
  REQUIRE(back.ok());
  REQUIRE(*back == a);
  REQUIRE(DecodeActivity(bytes.substr(0, bytes.size() - 1)).status().kind() ==
          ErrorKind::kDataLoss);
  REQUIRE(DecodeActivity("CUSTACT2" + bytes.substr(8)).status().kind() == ErrorKind::kDataLoss);
  REQUIRE(DecodeActivity("").status().kind() == ErrorKind::kDataLoss);
}

TEST_CASE("an index file is written beside its segment and read back") {
  testing::TempDir dir;
  PosixFilesystem fs;
  REQUIRE(ActivityPathFor("footage/a/2026-12-07/20261207T090000.000Z.mp4") ==
          "footage/a/2026-12-07/20261207T090000.000Z.activity");
  SegmentActivity a;
  a.scores.assign(60, 3);
  const std::string path = dir.File("x.activity");
  REQUIRE(WriteActivityFile(fs, path, a).ok());
  REQUIRE_FALSE(fs.Exists(path + ".tmp"));
  auto back = ReadActivityFile(fs, path);
  REQUIRE(back.ok());
  REQUIRE(*back == a);
  REQUIRE(ReadActivityFile(fs, dir.File("none.activity")).status().kind() == ErrorKind::kNotFound);
}

TEST_CASE("the indexer gives one score per second and spans between sampled keyframes") {
  ActivityIndexer indexer(nullptr);  // no decoder: thumbs are fed by hand
  AVPacket pkt{};
  for (int64_t f = 0; f < 25 * 20; ++f) {
    const int64_t t = f * 40'000;
    pkt.flags = 0;
    // Seconds 10 and 11 have busy inter frames; the rest are still.
    pkt.size = (t >= 10 * kS && t < 12 * kS) ? 6000 : 400;
    indexer.AddFrame(pkt, t);
  }
  indexer.AddKeyframeThumb(Flat(40), 0);
  indexer.AddKeyframeThumb(Flat(40), 4 * kS);
  indexer.AddKeyframeThumb(WithBlock(2, 2), 12 * kS);
  SegmentActivity a = indexer.FinishSegment(20 * kS);
  REQUIRE(a.scores.size() == 20);
  REQUIRE(a.scores[2] == 0);
  REQUIRE(a.scores[5] >= kActiveScore);  // within the span whose grid changed
  REQUIRE(a.scores[10] >= kActiveScore);
  REQUIRE(a.scores[11] >= kActiveScore);
  REQUIRE(a.grids.size() == 1);
  REQUIRE(a.grids[0].first_second == 4);
  REQUIRE(a.grids[0].end_second == 12);
  REQUIRE(a.grids[0].cells.Get(2, 2));
  // The next segment continues the session: its first span starts at its own second 0.
  indexer.AddKeyframeThumb(Flat(40), 2 * kS);
  SegmentActivity b = indexer.FinishSegment(5 * kS);
  REQUIRE(b.scores.size() == 5);
  REQUIRE(b.grids.size() == 1);
  REQUIRE(b.grids[0].first_second == 0);
  REQUIRE(b.grids[0].end_second == 2);
}

TEST_CASE("a change found at a segment's first keyframe scores its first second as activity") {
  ActivityIndexer indexer(nullptr);  // no decoder: thumbs are fed by hand
  AVPacket pkt{};
  pkt.size = 400;
  // A still first segment, sampled at 0 s and 8 s.
  for (int64_t t = 0; t < 10 * kS; t += 40'000) {
    indexer.AddFrame(pkt, t);
    if (t == 0 || t == 8 * kS) indexer.AddKeyframeThumb(Flat(40), t);
  }
  SegmentActivity a = indexer.FinishSegment(10 * kS);
  REQUIRE(a.grids.empty());
  // The next segment's first keyframe shows something new, the way the recorder hands it
  // over: the frame first, then its picture.
  for (int64_t t = 0; t < 3 * kS; t += 40'000) {
    indexer.AddFrame(pkt, t);
    if (t == 0) indexer.AddKeyframeThumb(WithBlock(3, 3), t);
  }
  SegmentActivity b = indexer.FinishSegment(3 * kS);
  REQUIRE(b.grids.size() == 1);
  REQUIRE(b.grids[0].first_second == 0);
  REQUIRE(b.scores.size() == 3);
  CHECK(b.scores[0] >= kActiveScore);
  CHECK(b.scores[2] < kActiveScore);
}

namespace {

// 25 frames a second from `from` to `to` (seconds), a keyframe every 2 s of `key_bytes`,
// inter frames of 400 bytes but `busy_bytes` in the seconds [busy_from, busy_to).
void Feed(ActivityIndexer& indexer, int from, int to, int key_bytes, int busy_from = -1,
          int busy_to = -1, int busy_bytes = 6000) {
  AVPacket pkt{};
  for (int64_t f = int64_t{from} * 25; f < int64_t{to} * 25; ++f) {
    const int64_t t = f * 40'000;
    const bool key = f % 50 == 0;
    pkt.flags = key ? AV_PKT_FLAG_KEY : 0;
    const bool busy = t >= busy_from * kS && t < busy_to * kS;
    pkt.size = key ? key_bytes : busy ? busy_bytes : 400;
    indexer.AddFrame(pkt, t);
  }
}

// An indexer fed a second at a time (so that its test decoder knows the time), noting the
// seconds at which it decoded a keyframe; `picture` gives the decoded picture.
struct TimedIndexer {
  ActivityIndexer indexer{nullptr};
  std::vector<int64_t> decoded_at;  // seconds
  int64_t now_s = 0;

  explicit TimedIndexer(std::function<LumaThumb()> picture) { Decode(std::move(picture)); }
  void Decode(std::function<LumaThumb()> picture) {
    indexer.SetDecoderForTest(
        [this, picture = std::move(picture)](const AVPacket&, LumaThumb* out) {
          decoded_at.push_back(now_s);
          *out = picture();
          return true;
        });
  }
  void FeedTo(int to, int key_bytes, int busy_from = -1, int busy_to = -1) {
    for (; now_s < to; ++now_s)
      Feed(indexer, static_cast<int>(now_s), static_cast<int>(now_s) + 1, key_bytes, busy_from,
           busy_to);
  }
};

}  // namespace

TEST_CASE("a still scene's keyframes are not decoded until sizes show a change or a recheck") {
  LumaThumb picture = Flat(40);
  TimedIndexer timed([&] { return picture; });
  ActivityIndexer& indexer = timed.indexer;
  std::vector<int64_t>& decoded_at = timed.decoded_at;
  auto feed = [&](int to, int key_bytes, int busy_from = -1, int busy_to = -1) {
    timed.FeedTo(to, key_bytes, busy_from, busy_to);
  };
  // Still: the first two samples are decoded (nothing to compare the first with), then one
  // every kStillRecheckUs.
  feed(60, 20'000);
  CHECK(decoded_at == std::vector<int64_t>{0, 4, 20, 36, 52});
  CHECK(indexer.skipped_still() == 10);
  // Inter frames grow in second 61 (score above 0): the sample at 64 is decoded; the picture
  // changed there, so the next one is decoded too, and then still again.
  picture = WithBlock(3, 3);
  decoded_at.clear();
  feed(76, 20'000, 61, 62);
  CHECK(decoded_at == std::vector<int64_t>{64, 68});
  // A keyframe a sixteenth larger than the last decoded: decoded, whatever the sizes said.
  decoded_at.clear();
  feed(80, 22'400);
  CHECK(decoded_at == std::vector<int64_t>{76});
  SegmentActivity a = indexer.FinishSegment(80 * kS);
  REQUIRE(a.grids.size() == 1);  // only the change at 64, from the sample at 60 (skipped)
  CHECK(a.grids[0].first_second == 60);
  CHECK(a.grids[0].end_second == 64);
  CHECK(a.grids[0].cells.Get(3, 3));
  CHECK(indexer.decoded() == 8);
}

TEST_CASE(
    "large keyframes are decoded within the decode budget and a still scene saves for a burst") {
  uint8_t level = 0;
  // Every picture differs from the last: a busy scene.
  TimedIndexer timed([&] { return Flat(level += 60); });
  ActivityIndexer& indexer = timed.indexer;
  std::vector<int64_t>& decoded_at = timed.decoded_at;
  auto feed = [&](int to, int key_bytes, int busy_from = -1, int busy_to = -1) {
    timed.FeedTo(to, key_bytes, busy_from, busy_to);
  };
  // Small keyframes (a sub stream's): every kGridIntervalUs, the budget never short.
  feed(20, 8'000, 0, 20);
  CHECK(decoded_at == std::vector<int64_t>{0, 4, 8, 12, 16});
  CHECK(indexer.deferred() == 0);
  // A 1080p main stream's keyframes (117 KB), busy all the time: the credit the small ones
  // left (20 s earned, 40 KB spent) pays for two at the same pace, then one decode per
  // 117 KB / 8 KiB/s = 14.3 s, at the first keyframe (one every 2 s) the credit allows.
  decoded_at.clear();
  feed(80, 117'000, 20, 80);
  CHECK(decoded_at == std::vector<int64_t>{20, 24, 34, 48, 64, 78});
  CHECK(indexer.deferred() > 0);
  // Still for five minutes (a recheck every kStillRecheckUs, paid from the same credit),
  // then someone walks in from second 380 (seen in the sizes once that second closes): the
  // credit saved has the movement sampled at 4 s and 6 s, then at the budget's pace.
  level = 0;
  timed.Decode([&] {
    return timed.now_s < 380 ? Flat(40) : Flat(static_cast<uint8_t>(40 + (timed.now_s - 376) * 10));
  });
  feed(380, 117'000);
  decoded_at.clear();
  feed(420, 117'000, 380, 420);
  CHECK(decoded_at == std::vector<int64_t>{382, 386, 392, 406});
  // However large a keyframe, a sample at least every 16 s.
  decoded_at.clear();
  feed(460, 2'000'000, 420, 460);
  CHECK(decoded_at == std::vector<int64_t>{420, 436, 452});
}

TEST_CASE(
    "the sub stream's pictures are the nearest within the tolerance and newer than the last") {
  KeyframePictures pictures;
  const UtcMicros t0{1'800'000'000 * kS};
  CHECK_FALSE(pictures.Nearest(t0, 2 * kS, std::nullopt).has_value());
  for (int i = 0; i < 6; ++i) pictures.Publish(t0 + i * 4 * kS, Flat(static_cast<uint8_t>(i)));
  // Only the newest KeyframePictures::kCapacity are kept: 8, 12, 16 and 20 s.
  auto p = pictures.Nearest(t0 + 13 * kS, 2 * kS, std::nullopt);
  REQUIRE(p.has_value());
  CHECK(p->at == t0 + 12 * kS);
  CHECK(p->picture == Flat(3));
  CHECK_FALSE(pictures.Nearest(t0 + 13 * kS, 2 * kS, t0 + 12 * kS).has_value());
  CHECK(pictures.Nearest(t0 + 15 * kS, 2 * kS, t0 + 12 * kS)->at == t0 + 16 * kS);
  CHECK_FALSE(pictures.Nearest(t0 + 4 * kS, 2 * kS, std::nullopt).has_value());   // dropped
  CHECK_FALSE(pictures.Nearest(t0 + 30 * kS, 2 * kS, std::nullopt).has_value());  // too far
}

TEST_CASE(
    "a main stream samples its sub stream's pictures instead of decoding and decodes its own "
    "while the sub stream is down") {
  // Both streams of one busy camera, a keyframe every 2 s, their segments starting at the
  // same wall time: the sub stream's keyframes are small, the main stream's 117 KB.
  uint8_t level = 0;
  TimedIndexer sub_stream([&] { return Flat(level += 60); });
  TimedIndexer main_stream(
      [&] { return WithBlock(static_cast<int>(main_stream.now_s / 2 % 16), 4); });
  KeyframePictures pictures;
  const UtcMicros start{1'800'000'000 * kS};
  sub_stream.indexer.SetSampleSink([&](int64_t offset_us, const LumaThumb& picture) {
    pictures.Publish(start + offset_us, picture);
  });
  std::optional<UtcMicros> last_taken;
  main_stream.indexer.SetPictureSource(
      [&](int64_t offset_us, int64_t within_us) -> std::optional<HandedPicture> {
        auto p = pictures.Nearest(start + offset_us, within_us, last_taken);
        if (!p) return std::nullopt;
        last_taken = p->at;
        return HandedPicture{p->at - start, p->picture};
      });
  auto both_to = [&](int to) {
    while (main_stream.now_s < to) {
      sub_stream.FeedTo(static_cast<int>(sub_stream.now_s) + 1, 8'000, 0, 1'000);
      main_stream.FeedTo(static_cast<int>(main_stream.now_s) + 1, 117'000, 0, 1'000);
    }
  };
  // The sub stream samples every kGridIntervalUs and the main stream takes each of its
  // pictures, decoding none (alone, it would decode every 14 to 16 s).
  both_to(60);
  CHECK(sub_stream.decoded_at ==
        std::vector<int64_t>{0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56});
  CHECK(main_stream.decoded_at.empty());
  CHECK(main_stream.indexer.handed() == 15);
  // The sub stream goes down: the main stream decodes its own once the last picture it took
  // is kHandOffStaleUs old, then within its decode budget.
  main_stream.FeedTo(120, 117'000, 0, 1'000);
  CHECK(main_stream.indexer.handed() == 15);
  REQUIRE(main_stream.decoded_at.size() >= 3);
  CHECK(main_stream.decoded_at.front() == 64);
  CHECK(main_stream.indexer.deferred() > 0);
  // It comes back: the main stream takes its pictures again and stops decoding.
  sub_stream.now_s = 120;
  main_stream.decoded_at.clear();
  both_to(140);
  CHECK(main_stream.decoded_at.empty());
  CHECK(main_stream.indexer.handed() == 20);
  SegmentActivity a = main_stream.indexer.FinishSegment(140 * kS);
  // A span between each two pictures of one source, none across a change of source.
  std::vector<int> firsts;
  for (const GridSpan& g : a.grids) firsts.push_back(g.first_second);
  CHECK(std::count(firsts.begin(), firsts.end(), 0) == 1);
  CHECK(std::count(firsts.begin(), firsts.end(), 52) == 1);
  CHECK(std::count(firsts.begin(), firsts.end(), 56) == 0);  // the sub stream's last, then own
  CHECK(std::count(firsts.begin(), firsts.end(), 120) == 1);
  CHECK(static_cast<int64_t>(a.grids.size()) == 14 + (main_stream.indexer.decoded() - 1) + 4);
}

namespace {

// A keyframe's picture as a decoder opened for it alone gives it (drained to the end), as the
// grid sees it: what the indexer's own decoder must agree with.
bool DecodeAlone(const AVCodecParameters* par, const AVPacket& pkt, LumaThumb* out) {
  const AVCodec* codec = avcodec_find_decoder(par->codec_id);
  media::CodecContext ctx(avcodec_alloc_context3(codec));
  if (!ctx || avcodec_parameters_to_context(ctx.get(), par) < 0 ||
      avcodec_open2(ctx.get(), codec, nullptr) < 0)
    return false;
  media::FramePtr frame(av_frame_alloc());
  bool got = false;
  if (avcodec_send_packet(ctx.get(), &pkt) < 0 || avcodec_send_packet(ctx.get(), nullptr) < 0)
    return false;
  while (avcodec_receive_frame(ctx.get(), frame.get()) >= 0) {
    if (!got && frame->pts == pkt.pts) {
      ReduceLuma(frame->data[0], frame->linesize[0], frame->width, frame->height, out);
      got = true;
    }
    av_frame_unref(frame.get());
  }
  return got;
}

}  // namespace

TEST_CASE("a B-frame stream's keyframes are decoded without resetting the decoder") {
  testing::TempDir dir;
  const std::string clip = dir.File("bframes.mp4");
  // Moving test pictures, H.264 with two B-frames (pyramid), a keyframe every second.
  const std::string cmd =
      "ffmpeg -loglevel error -nostdin -y -f lavfi -i testsrc2=size=320x180:rate=25 -t 14 "
      "-c:v libx264 -preset ultrafast -bf 2 -x264-params b-pyramid=normal -g 25 "
      "-keyint_min 25 -sc_threshold 0 -pix_fmt yuv420p " +
      clip;
  REQUIRE(std::system(cmd.c_str()) == 0);
  AVFormatContext* raw = nullptr;
  REQUIRE(avformat_open_input(&raw, clip.c_str(), nullptr, nullptr) == 0);
  media::InputContext ic(raw);
  REQUIRE(avformat_find_stream_info(raw, nullptr) >= 0);
  const AVStream* vs = raw->streams[0];
  REQUIRE(vs->codecpar->video_delay > 0);  // the decoder holds pictures back

  ActivityIndexer indexer(vs->codecpar);
  ActivityIndexer reference(nullptr);  // the same samples, each from a decoder of its own
  reference.SetDecoderForTest(
      [&](const AVPacket& pkt, LumaThumb* out) { return DecodeAlone(vs->codecpar, pkt, out); });
  media::Packet pkt = media::MakePacket();
  int64_t first = AV_NOPTS_VALUE;
  while (av_read_frame(raw, pkt.get()) >= 0) {
    if (first == AV_NOPTS_VALUE) first = pkt->pts;
    const int64_t offset_us = std::max<int64_t>(
        0, av_rescale_q(pkt->pts - first, vs->time_base, AVRational{1, 1'000'000}));
    indexer.AddFrame(*pkt, offset_us);
    reference.AddFrame(*pkt, offset_us);
    av_packet_unref(pkt.get());
  }
  const SegmentActivity got = indexer.FinishSegment(14 * kS);
  const SegmentActivity want = reference.FinishSegment(14 * kS);
  CHECK(indexer.resets() == 0);
  CHECK(indexer.decoded() == reference.decoded());
  CHECK(indexer.decoded() >= 3);  // samples 4 s apart over 14 s
  REQUIRE_FALSE(want.grids.empty());
  CHECK(got == want);
}

TEST_CASE("regions are parsed from fractions and bad boxes are refused") {
  auto r = ParseRegions("0,0,0.25,0.5;0.9,0.9,1,1");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  const ActivityGrid mask = RegionMask(*r);
  REQUIRE(mask.Get(0, 0));
  REQUIRE(mask.Get(3, 4));
  REQUIRE_FALSE(mask.Get(4, 0));
  REQUIRE_FALSE(mask.Get(0, 5));
  REQUIRE(mask.Get(15, 8));
  for (const char* bad : {"", "0,0,1", "0,0,1,x", "0.5,0,0.5,1", "0,0,1.5,1", "nan,0,1,1"}) {
    INFO(bad);
    REQUIRE(ParseRegions(bad).status().kind() == ErrorKind::kInvalidArgument);
  }
}

TEST_CASE("search finds moments in the region only, newest first, joined when close") {
  const UtcMicros t0{1'796'000'000LL * kS};
  PlacedActivity seg{7, t0, {}};
  seg.activity.scores.assign(60, 0);
  seg.activity.scores[6] = 90;
  seg.activity.scores[45] = 30;
  GridSpan a{4, 8, {}};
  a.cells.Set(1, 1);
  GridSpan b{12, 16, {}};
  b.cells.Set(1, 1);  // within 10 s of the first: joined
  GridSpan c{44, 48, {}};
  c.cells.Set(1, 1);
  GridSpan elsewhere{30, 34, {}};
  elsewhere.cells.Set(14, 7);
  seg.activity.grids = {a, b, elsewhere, c};
  ActivityGrid mask;
  mask.Set(1, 1);
  auto moments = FindMoments({seg}, mask, t0, t0 + 60 * kS, 100);
  REQUIRE(moments.size() == 2);
  REQUIRE(moments[0].start == t0 + 44 * kS);
  REQUIRE(moments[0].peak == t0 + 45 * kS);
  REQUIRE(moments[1].start == t0 + 4 * kS);
  REQUIRE(moments[1].end == t0 + 16 * kS);
  REQUIRE(moments[1].peak == t0 + 6 * kS);
  REQUIRE(moments[1].score == 90);
  REQUIRE(FindMoments({seg}, mask, t0, t0 + 60 * kS, 1).size() == 1);
  REQUIRE(FindMoments({seg}, mask, t0 + 20 * kS, t0 + 40 * kS, 100).empty());
}

TEST_CASE("the heat strip takes the highest score per slice and marks slices without index") {
  const UtcMicros t0{1'796'000'000LL * kS};
  PlacedActivity seg{1, t0, {}};
  seg.activity.scores.assign(10, 0);
  seg.activity.scores[3] = 200;
  auto strip = ActivityStrip({seg}, t0, t0 + 20 * kS, 4);
  REQUIRE(strip == std::vector<int>{200, 0, -1, -1});
}

namespace {

// The real filesystem, counting the files opened for reading, and able to run something
// (retention, in the race test) just after a digest is renamed into place.
class WatchedFilesystem final : public ForwardingFilesystem {
 public:
  WatchedFilesystem() : ForwardingFilesystem(PosixFilesystem::Instance()) {}
  Status Rename(const std::string& from, const std::string& to) override {
    Status st = ForwardingFilesystem::Rename(from, to);
    if (after_rename) std::exchange(after_rename, nullptr)();
    return st;
  }
  Result<std::unique_ptr<SequentialFile>> OpenSequential(const std::string& p) override {
    ++opened;
    return ForwardingFilesystem::OpenSequential(p);
  }

  int opened = 0;
  std::function<void()> after_rename;
};

SegmentActivity Numbered(int n) {
  SegmentActivity a;
  a.scores.assign(60, static_cast<uint8_t>(n));
  GridSpan g;
  g.first_second = 4;
  g.end_second = 8;
  g.cells.Set(n % kGridCols, 1);
  a.grids.push_back(g);
  return a;
}

// Three segments of one day with their index files; returns the segments' paths.
std::vector<std::string> ThreeSegments(WatchedFilesystem& fs, const testing::TempDir& dir) {
  std::vector<std::string> segs;
  for (int i = 0; i < 3; ++i) {
    segs.push_back(dir.File("20261207T09000" + std::to_string(i) + ".000Z.mp4"));
    REQUIRE(WriteActivityFile(fs, ActivityPathFor(segs.back()), Numbered(i)).ok());
  }
  return segs;
}

}  // namespace

TEST_CASE("a day's digest serves its segments' indexes from one file") {
  testing::TempDir dir;
  WatchedFilesystem fs;
  const std::vector<std::string> segs = ThreeSegments(fs, dir);
  REQUIRE(DayDigestPathFor(segs[0]) == dir.File("day.activity"));
  REQUIRE(IsDayDigestName("day.activity"));
  REQUIRE(IsDayDigestName("day.12-3.activity.tmp"));
  REQUIRE_FALSE(IsDayDigestName("20261207T090000.000Z.activity"));

  auto first = ReadDayIndexes(fs, segs);
  REQUIRE(first.size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(first[i].value() == Numbered(i));
  REQUIRE(fs.Exists(dir.File("day.activity")));
  auto listed = fs.List(dir.path());
  REQUIRE(listed.ok());
  for (const DirEntry& e : *listed) CHECK_FALSE(e.name.ends_with(".tmp"));

  fs.opened = 0;
  auto second = ReadDayIndexes(fs, segs);
  CHECK(fs.opened == 1);  // the digest alone
  for (int i = 0; i < 3; ++i) CHECK(second[i].value() == Numbered(i));

  // Asked for one segment, it gets that one only.
  auto one = ReadDayIndexes(fs, {segs[1]});
  REQUIRE(one.size() == 1);
  CHECK(one[0].value() == Numbered(1));
}

TEST_CASE("a day's digest grows with new segments and does not cache a missing index") {
  testing::TempDir dir;
  WatchedFilesystem fs;
  std::vector<std::string> segs = ThreeSegments(fs, dir);
  REQUIRE(ReadDayIndexes(fs, {segs[0], segs[1]}).size() == 2);
  segs.push_back(dir.File("20261207T090009.000Z.mp4"));  // no index (recorded before indexing)

  fs.opened = 0;
  auto all = ReadDayIndexes(fs, segs);
  CHECK(fs.opened == 3);  // the digest, the new segment's index, the missing one's attempt
  CHECK(all[2].value() == Numbered(2));
  CHECK(all[3].status().kind() == ErrorKind::kNotFound);

  // The index appears later (recovery rebuilt it): it is read, not a cached absence.
  REQUIRE(WriteActivityFile(fs, ActivityPathFor(segs[3]), Numbered(9)).ok());
  fs.opened = 0;
  all = ReadDayIndexes(fs, segs);
  CHECK(fs.opened == 2);
  CHECK(all[3].value() == Numbered(9));
  fs.opened = 0;
  all = ReadDayIndexes(fs, segs);
  CHECK(fs.opened == 1);
  for (int i = 0; i < 3; ++i) CHECK(all[i].value() == Numbered(i));
}

TEST_CASE("a damaged day digest is ignored and rebuilt from the segments' indexes") {
  testing::TempDir dir;
  WatchedFilesystem fs;
  const std::vector<std::string> segs = ThreeSegments(fs, dir);
  REQUIRE(ReadDayIndexes(fs, segs).size() == 3);
  const std::string digest = dir.File("day.activity");
  auto bytes = ReadFileToString(fs, digest);
  REQUIRE(bytes.ok());
  REQUIRE(fs.Truncate(digest, bytes->size() - 5).ok());
  auto again = ReadDayIndexes(fs, segs);
  for (int i = 0; i < 3; ++i) CHECK(again[i].value() == Numbered(i));
  CHECK(ReadFileToString(fs, digest).value() == *bytes);
}

// Retention unlinks the day's digest, then a segment's index, then the digest again
// (retention/executor.cpp). A reader that read the index before retention took it and
// renamed its digest after retention's first unlink must not leave that digest behind.
TEST_CASE("a day digest written while retention deletes a segment does not outlive it") {
  testing::TempDir dir;
  WatchedFilesystem fs;
  const std::vector<std::string> segs = ThreeSegments(fs, dir);
  const std::string digest = dir.File("day.activity");
  // Retention runs wholly between the reader's reads and its rename's return.
  fs.after_rename = [&] {
    REQUIRE(UnlinkDayDigest(fs, segs[1]).ok());
    REQUIRE(fs.Unlink(ActivityPathFor(segs[1])).ok());
    REQUIRE(fs.Unlink(segs[1]).kind() == ErrorKind::kNotFound);  // no MP4 in this test
  };
  auto read = ReadDayIndexes(fs, segs);
  CHECK(read[1].value() == Numbered(1));  // read before it went: the caller's rows had it
  CHECK_FALSE(fs.Exists(digest));
  // The next reader, asking for what the records now list, builds a digest without it.
  auto next = ReadDayIndexes(fs, {segs[0], segs[2]});
  CHECK(next[0].value() == Numbered(0));
  CHECK(next[1].value() == Numbered(2));
  REQUIRE(fs.Exists(digest));
  const std::string stem = "20261207T090001.000Z";
  CHECK(ReadFileToString(fs, digest).value().find(stem) == std::string::npos);
  // And asked for it by an out-of-date caller, it is not found anywhere.
  CHECK(ReadDayIndexes(fs, {segs[1]})[0].status().kind() == ErrorKind::kNotFound);
  CHECK(UnlinkDayDigest(fs, segs[0]).ok());
  CHECK_FALSE(fs.Exists(digest));
  CHECK(UnlinkDayDigest(fs, segs[0]).ok());  // already gone is success
}
