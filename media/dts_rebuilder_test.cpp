#include "media/dts_rebuilder.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

using custodian::media::DtsRebuilder;
using custodian::media::MakePacket;
using custodian::media::Packet;

namespace {

constexpr int64_t kClock = 90000;
constexpr int64_t kFrame = 3600;  // 25 fps at the RTP video clock
constexpr int64_t kJump = 10 * kClock;

struct Out {
  int64_t pts, dts, duration;
  bool key;
};

// Presentation times in arrival (decode) order: a keyframe, then mini-GOPs whose frames
// arrive in `order` (offsets in frames from the mini-GOP's start), e.g. {3, 1, 2} for
// I0 P3 B1 B2 or {4, 2, 1, 3} for a pyramid. One keyframe every `gop` mini-GOPs.
std::vector<int64_t> Stream(const std::vector<int>& order, int minigops, int64_t start = 0) {
  std::vector<int64_t> pts = {start};
  const int span = *std::max_element(order.begin(), order.end());
  for (int g = 0; g < minigops; ++g)
    for (int o : order) pts.push_back(start + (int64_t{g} * span + o) * kFrame);
  return pts;
}

std::vector<Out> Run(DtsRebuilder& r, const std::vector<int64_t>& pts, bool flush = true) {
  std::vector<Out> out;
  Packet in = MakePacket(), got = MakePacket();
  auto drain = [&] {
    while (r.Pop(got.get()))
      out.push_back({got->pts, got->dts, got->duration, (got->flags & AV_PKT_FLAG_KEY) != 0});
  };
  for (size_t i = 0; i < pts.size(); ++i) {
    REQUIRE(av_new_packet(in.get(), 8) == 0);
    in->pts = pts[i];
    in->dts = pts[i];
    in->flags = i == 0 ? AV_PKT_FLAG_KEY : 0;
    r.Push(in.get());
    drain();
  }
  if (flush) r.Flush();
  drain();
  return out;
}

// What a muxer and a player need: every frame, in arrival order with its presentation
// time unchanged, decode times rising strictly and evenly, never after the presentation.
void RequireTimed(const std::vector<int64_t>& pts, const std::vector<Out>& out) {
  REQUIRE(out.size() == pts.size());
  for (size_t i = 0; i < out.size(); ++i) {
    INFO("frame " << i << ": pts " << out[i].pts << " dts " << out[i].dts);
    REQUIRE(out[i].pts == pts[i]);
    REQUIRE(out[i].dts <= out[i].pts);
    REQUIRE(out[i].duration == kFrame);
    if (i > 0) REQUIRE(out[i].dts - out[i - 1].dts == kFrame);
  }
}

}  // namespace

TEST_CASE("without B-frames the decode time is the presentation time, with no delay") {
  DtsRebuilder r(kClock, kJump);
  r.SetReorderDepth(0);
  const auto pts = Stream({1}, 50);
  Packet in = MakePacket(), got = MakePacket();
  for (int64_t p : pts) {
    REQUIRE(av_new_packet(in.get(), 8) == 0);
    in->pts = p;
    r.Push(in.get());
    REQUIRE(r.Pop(got.get()));  // nothing held back
    REQUIRE(got->dts == p);
    REQUIRE(got->pts == p);
  }
  REQUIRE(r.counters().retimed == 0);
  REQUIRE(r.untimed_note().empty());
}

TEST_CASE("two B-frames (I0 P3 B1 B2) get even, rising decode times from the SPS depth") {
  DtsRebuilder r(kClock, kJump);
  r.SetReorderDepth(1);
  const auto pts = Stream({3, 1, 2}, 40);
  RequireTimed(pts, Run(r, pts));
  REQUIRE(r.counters().retimed == 0);
}

TEST_CASE("pyramid B (I0 P4 B2 b1 b3 and I0 P3 B2 b1) is timed from a depth of 2") {
  for (const std::vector<int>& order : {std::vector<int>{4, 2, 1, 3}, std::vector<int>{3, 2, 1}}) {
    DtsRebuilder r(kClock, kJump);
    r.SetReorderDepth(2);
    const auto pts = Stream(order, 30);
    const auto out = Run(r, pts);
    RequireTimed(pts, out);
    // After the first two frames, each decode time is a presentation time two frames on.
    REQUIRE(out[0].dts == -2 * kFrame);
    REQUIRE(out[2].dts == 0);
    REQUIRE(r.counters().retimed == 0);
  }
}

TEST_CASE("pyramid B of depth 3 (P8 B4 B2 b1 b3 B6 b5 b7) is timed from a depth of 3") {
  DtsRebuilder r(kClock, kJump);
  r.SetReorderDepth(3);
  const auto pts = Stream({8, 4, 2, 1, 3, 6, 5, 7}, 12);
  RequireTimed(pts, Run(r, pts));
}

TEST_CASE("when the SPS does not say, the depth is learned from the order of the first frames") {
  DtsRebuilder r(kClock, kJump);
  const auto pts = Stream({4, 2, 1, 3}, 30);
  const auto out = Run(r, pts);
  RequireTimed(pts, out);
  REQUIRE(r.reorder_depth() == 2);
  REQUIRE(r.counters().retimed == 0);
}

TEST_CASE("learning the depth holds at most a second of a slow camera's pictures") {
  DtsRebuilder r(kClock, kJump);
  constexpr int64_t kSlowFrame = kClock / 5;  // 5 fps
  const std::vector<int64_t> pts = {0, 3 * kSlowFrame, kSlowFrame, 2 * kSlowFrame,
                                    6 * kSlowFrame, 4 * kSlowFrame, 5 * kSlowFrame};
  const auto out = Run(r, pts, /*flush=*/false);
  // Released once the pictures held span a second (five of them), not after sixteen.
  REQUIRE(out.size() == pts.size());
  for (size_t i = 1; i < out.size(); ++i) {
    REQUIRE(out[i].dts <= out[i].pts);
    REQUIRE(out[i].dts - out[i - 1].dts == kSlowFrame);
  }
  REQUIRE(r.reorder_depth() == 1);
}

TEST_CASE("a stream shorter than the depth is still timed when it ends") {
  DtsRebuilder r(kClock, kJump);
  r.SetReorderDepth(4);
  const std::vector<int64_t> pts = {0, 2 * kFrame, kFrame};
  REQUIRE(Run(r, pts, /*flush=*/false).empty());  // held until the depth is reached
  Packet got = MakePacket();
  r.Flush();
  std::vector<int64_t> dts;
  while (r.Pop(got.get())) {
    REQUIRE(got->dts <= got->pts);
    dts.push_back(got->dts);
  }
  REQUIRE(dts.size() == 3);
  REQUIRE(std::is_sorted(dts.begin(), dts.end()));
}

TEST_CASE("a stream reordering deeper than its SPS says keeps every frame in rising order") {
  DtsRebuilder r(kClock, kJump);
  r.SetReorderDepth(1);  // but the stream is a depth-2 pyramid
  const auto pts = Stream({4, 2, 1, 3}, 30);
  const auto out = Run(r, pts);
  REQUIRE(out.size() == pts.size());
  int64_t moved = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    REQUIRE(out[i].dts <= out[i].pts);
    if (i > 0) REQUIRE(out[i].dts > out[i - 1].dts);
    moved += out[i].pts != pts[i] ? 1 : 0;
  }
  // One frame is shown late; from there on the timeline lags deep enough.
  REQUIRE(moved == 1);
  REQUIRE(r.counters().retimed == 1);
  REQUIRE(r.reorder_depth() == 2);
  REQUIRE_FALSE(r.untimed_note().empty());
  // And the last frames are evenly spaced again.
  for (size_t i = out.size() - 20; i < out.size(); ++i)
    REQUIRE(out[i].dts - out[i - 1].dts == kFrame);
}

TEST_CASE("a clock that steps back by seconds is absorbed: nothing dropped, nothing cut") {
  DtsRebuilder r(kClock, kJump);
  r.SetReorderDepth(2);
  auto pts = Stream({4, 2, 1, 3}, 10);
  auto later = Stream({4, 2, 1, 3}, 10, pts.back() - 2 * kClock);  // two seconds back
  pts.insert(pts.end(), later.begin(), later.end());
  const auto out = Run(r, pts);
  REQUIRE(out.size() == pts.size());
  std::vector<int64_t> shown;
  for (size_t i = 0; i < out.size(); ++i) {
    REQUIRE(out[i].dts <= out[i].pts);
    if (i > 0) REQUIRE(out[i].dts > out[i - 1].dts);
    shown.push_back(out[i].pts);
  }
  // Presented in order, one frame apart: the second part follows the first.
  std::sort(shown.begin(), shown.end());
  for (size_t i = 1; i < shown.size(); ++i) REQUIRE(shown[i] - shown[i - 1] == kFrame);
  REQUIRE(r.counters().rebased == 1);
  REQUIRE(r.untimed_note().find("stepped back") != std::string::npos);
}

TEST_CASE("a jump of the discontinuity limit starts a new timeline at the keyframe") {
  DtsRebuilder r(kClock, kJump);
  r.SetReorderDepth(2);
  auto pts = Stream({4, 2, 1, 3}, 10, 100 * kClock);
  const size_t first_of_new = pts.size();
  auto restarted = Stream({4, 2, 1, 3}, 10, 0);  // the camera restarted its clock
  pts.insert(pts.end(), restarted.begin(), restarted.end());
  const auto out = Run(r, pts);
  REQUIRE(out.size() == pts.size());
  for (size_t i = 0; i < out.size(); ++i) {
    REQUIRE(out[i].pts == pts[i]);
    REQUIRE(out[i].dts <= out[i].pts);
    if (i > 0 && i != first_of_new) REQUIRE(out[i].dts - out[i - 1].dts == kFrame);
  }
  // The decode times jump back at the new timeline's first frame, not frames later.
  REQUIRE(out[first_of_new].dts < out[first_of_new - 1].dts - kJump / 2);
  REQUIRE(r.counters().timelines == 2);
  REQUIRE(r.counters().rebased == 0);
}
