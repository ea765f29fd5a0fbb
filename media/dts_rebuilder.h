// DtsRebuilder: decode timestamps for video that arrives with presentation times only.
//
// RTP carries one timestamp per frame, the presentation time, and frames in decode order.
// Without B-frames the two orders agree and dts = pts. With B-frames (and pyramid B) a
// frame can arrive before frames it is shown after: I0 P3 B1 B2, or I0 P4 B2 b1 b3. An MP4
// needs a decode time for each sample that rises strictly in arrival order and never
// passes the presentation time; the composition offset (pts - dts) is stored beside it.
//
// Rebuilding: with a reorder depth D (the most frames that may come before a frame in decode order
// and after it in presentation order), the i-th frame to arrive gets as dts the (i-D)-th smallest
// presentation time of the stream. No frame arriving later can have a smaller one, so that value is
// known when frame i arrives and frames pass through without delay; it rises strictly and never
// exceeds frame i's own pts. The first 2D + 1 frames of a timeline are held (enough to see the
// frame interval), and the first D of them get decode times one frame interval apart before the
// smallest presentation time. At a constant frame rate the decode times are then evenly spaced, as
// an encoder's are.
//
// D comes from the SPS where it says (SetReorderDepth); otherwise it is learned from the
// order seen: the first kLearnFrames frames (or a second's worth, if fewer) are held and D
// is the deepest reordering among them. A frame that shows deeper reordering than D later raises D (up to
// kMaxReorderDepth): that frame, whose presentation time has already passed on the decode
// timeline, keeps its place but is shown just after the frame decoded before it
// (counted in retimed), and the next frames' decode times step by one tick until the
// timeline lags one frame more.
//
// Jumps: presentation times that go back further than kMaxReorderDepth frames but less
// than `discontinuity` cannot be reordering: the stream's clock stepped back. The rest of
// the stream is shifted to continue one frame after the latest presentation time
// (counted in rebased), so that nothing is dropped or cut; the caller is told through
// counters() and untimed_note(). A jump of `discontinuity` or more either way starts a
// new timeline, whose decode times jump with it: the caller sees a discontinuity.
//
// Not thread-safe; one per video stream.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "media/av_util.h"

namespace custodian::media {

struct DtsCounters {
  int64_t frames = 0;
  int64_t retimed = 0;       // frames shown later than their timestamp said
  int64_t rebased = 0;       // backward steps of the stream's clock absorbed
  int64_t depth_raised = 0;  // frames that showed deeper reordering than assumed
  int64_t timelines = 0;     // timelines started (1 + jumps of `discontinuity` or more)
};

class DtsRebuilder {
 public:
  static constexpr int kMaxReorderDepth = 16;  // H.264's and H.265's largest DPB
  static constexpr int kLearnFrames = kMaxReorderDepth;

  // ticks_per_second: the packets' time base (90000 for RTP video). discontinuity_ticks:
  // a jump this large either way starts a new timeline.
  DtsRebuilder(int64_t ticks_per_second, int64_t discontinuity_ticks);

  // The depth the stream's SPS gives; a negative value (the SPS does not say) leaves the
  // depth to be learned. Raises the depth in use, never lowers it.
  void SetReorderDepth(int depth);
  int reorder_depth() const { return depth_; }

  // Takes the packet (a whole access unit, in arrival order; its pts is the presentation
  // time, its dts is ignored). Packets without a pts pass through untouched.
  void Push(AVPacket* pkt);
  // Moves the next packet with its dts (and, if retimed, pts) set into *out.
  bool Pop(AVPacket* out);
  // The stream ended: releases the frames held at the start of a timeline.
  void Flush();

  const DtsCounters& counters() const { return counters_; }
  // Empty while every frame was timed as sent; otherwise what was done, for the record.
  std::string untimed_note() const;

 private:
  size_t HoldTarget() const;
  void Hold(Packet pkt);
  void Release();
  void Place(Packet pkt);
  void Emit(Packet pkt, int64_t dts);
  int64_t PopSmallest();

  const int64_t ticks_per_second_;
  const int64_t discontinuity_;
  int depth_ = 0;
  bool depth_known_ = false;

  bool started_ = false;             // a timeline has released its first frames
  std::deque<Packet> held_;          // the start of a timeline, before started_
  std::vector<int64_t> pending_;     // presentation times not yet used as a dts (a heap)
  int64_t last_dts_ = 0;
  int64_t max_pts_ = 0;              // the latest presentation time placed
  int64_t step_ = 0;                 // the frame interval, as last seen
  int64_t offset_ = 0;               // added to incoming pts after the clock stepped back
  std::deque<Packet> ready_;
  std::vector<Packet> spare_;  // emptied packets, for the next Push
  DtsCounters counters_;
};

}  // namespace custodian::media
