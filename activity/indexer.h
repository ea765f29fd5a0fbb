// ActivityIndexer: builds the activity index of a camera's segments as they are recorded.
//
// The recorder hands it every video access unit it writes, with the unit's presentation
// time from the segment's start, and takes the segment's index when it closes the segment.
// Cost is kept off the hot path's back: scores come from the sizes of the frames the
// recorder already holds; pictures are decoded only for keyframes, at most one every
// kGridIntervalUs (grey, no loop filter, one thread), and each is reduced to 64x36 samples
// at once, within a decode budget in keyframe bytes (kDecodeBytesPerSecond). A still
// scene is not decoded at all for up to kStillRecheckUs: a sampled keyframe is skipped (taken to
// show the picture last decoded) when the last two pictures compared showed no change, no second
// since scored as activity (kActiveScore), and the keyframe's size is within 1/16 of the last
// decoded one's. The decoder is never reset for H.264 (a stream with B-frames gives up its held
// picture for an end-of-sequence unit), and for H.265 only where the stream reorders. A keyframe
// that cannot be decoded (no decoder, damaged data) only leaves its span without a grid; it never
// fails the recording, and nothing here returns an error.
//
// Scores: the bytes of each second's inter frames over the camera's still-scene baseline
// (activity/scoring.h), raised to what the grid says for the seconds a changed grid
// covers, so that a scene moving all the time does not read as still.
//
// State (the still-scene baseline, the last sampled picture) carries over from one segment
// to the next of the same session, so an index has no cold start at each cut.
//
// The sub stream hand-off: a camera's sub stream samples its small keyframes every
// kGridIntervalUs for a fraction of what the main stream's would cost, so the main stream
// takes its pictures from there (docs/design/recording.md, "Activity index"). The sub
// stream's indexer tells a SampleSink of every picture it samples; the main stream's asks a
// PictureSource at each keyframe and, while the source gives pictures, samples only those
// and decodes nothing. When the source has given none for kHandOffStaleUs (the sub stream is
// down, or its pictures are not near enough in time) it samples and decodes its own keyframes
// as above, within its decode budget. Pictures of the two streams are never compared with
// each other (one frame at two sizes differs in a cell or two): at a change of source the new
// picture starts the comparison afresh.
//
// Thread-safety: one instance per camera thread, used by that thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "activity/activity_file.h"
#include "activity/scoring.h"
#include "media/av_util.h"

namespace custodian::activity {

// How often a keyframe is decoded for the grid: at most once per this many microseconds.
constexpr int64_t kGridIntervalUs = 4'000'000;
// A still scene's keyframe is decoded at least this often all the same, so that a change
// the frame sizes did not show (a constant-bitrate camera) is found within this time.
constexpr int64_t kStillRecheckUs = 16'000'000;
// The decode budget, in keyframe bytes (an H.264 keyframe's decode time is its entropy
// decoding, about proportional to its bytes): credit accrues at this rate, up to the burst,
// and each decode spends its keyframe's bytes. A sampled keyframe is decoded only while the
// credit is not negative; otherwise the next keyframe is tried. A session starts with none.
// Keyframes under 32 KB (sub streams, small pictures) are sampled every kGridIntervalUs all
// the same; a 1080p main stream whose every sample changes (117 KB keyframes), every 14 to
// 16 s; a still scene saves credit, so movement that starts in it is sampled every
// kGridIntervalUs for a few samples. Still-scene rechecks are paid from it too. The debt is
// bounded, so that however large the keyframes a sample is decoded at least every 16 s.
// Why and what it costs: docs/design/recording.md, "Activity index".
constexpr int64_t kDecodeBytesPerSecond = 8 * 1024;
constexpr int64_t kDecodeBurstBytes = 48 * kDecodeBytesPerSecond;
constexpr int64_t kDecodeMaxDebtBytes = 16 * kDecodeBytesPerSecond;
// A stream whose pictures come from its sub stream decodes its own again once the sub
// stream has given none for this long (two of its samples missed).
constexpr int64_t kHandOffStaleUs = 2 * kGridIntervalUs;

// A picture sampled by another stream of the same camera, placed in this segment's time (it
// may be negative: a picture of the moment before the segment began).
struct HandedPicture {
  int64_t offset_us = 0;
  LumaThumb picture{};
};

class ActivityIndexer {
 public:
  // par: the session's video parameters (H.264 or H.265, with extradata). Without a
  // decoder for them the index carries scores only.
  explicit ActivityIndexer(const AVCodecParameters* par);
  ~ActivityIndexer();
  ActivityIndexer(const ActivityIndexer&) = delete;
  ActivityIndexer& operator=(const ActivityIndexer&) = delete;

  // One video access unit of the current segment; offset_us is its presentation time
  // from the segment's first picture (never negative for a recorded segment).
  void AddFrame(const AVPacket& pkt, int64_t offset_us);
  // The finished segment's index (duration_us long), and a fresh one begins.
  SegmentActivity FinishSegment(int64_t duration_us);

  // For tests and for the benchmark: a keyframe picture reduced as the grid sees it.
  void AddKeyframeThumb(const LumaThumb& thumb, int64_t offset_us);

  // Told of every picture this indexer samples (decoded, or a still scene's last picture
  // again), with its time in the current segment. Called on the camera thread.
  using SampleSink = std::function<void(int64_t offset_us, const LumaThumb& picture)>;
  void SetSampleSink(SampleSink sink) { sample_sink_ = std::move(sink); }
  // Asked at each keyframe (at offset_us in the current segment) for a picture another stream
  // sampled within within_us of it, later than any it gave before.
  using PictureSource =
      std::function<std::optional<HandedPicture>(int64_t offset_us, int64_t within_us)>;
  void SetPictureSource(PictureSource source) { picture_source_ = std::move(source); }

  // For tests: decodes keyframes with `decode` instead of the codec (false: no picture).
  using DecodeFn = std::function<bool(const AVPacket&, LumaThumb*)>;
  void SetDecoderForTest(DecodeFn decode) { decode_for_test_ = std::move(decode); }

  // Keyframes decoded and sampled keyframes skipped as still, since construction.
  int64_t decoded() const { return decoded_; }
  int64_t skipped_still() const { return skipped_still_; }
  // Sampled keyframes not decoded for want of decode credit, since construction.
  int64_t deferred() const { return deferred_; }
  // Times the decoder was drained and reset to get a keyframe's picture out (a stream with
  // B-frames whose codec offers no other way).
  int64_t resets() const { return resets_; }
  // Pictures sampled from the PictureSource (not decoded here), since construction.
  int64_t handed() const { return handed_; }

 private:
  bool DecodeThumb(const AVPacket& pkt, LumaThumb* thumb);
  // Samples the PictureSource's picture near offset_us, if it has one; says whether it did.
  bool TakeHandedPicture(int64_t offset_us);
  // Samples a picture of this stream's own (decoded, or still) or a handed one.
  void Sample(const LumaThumb& thumb, int64_t offset_us, bool handed);
  bool LooksStill(const AVPacket& pkt, int64_t offset_us) const;
  bool HasDecodeCredit(int64_t offset_us);
  void CloseSecondsBefore(int64_t second);
  void RaiseScores(const GridSpan& span);

  media::CodecContext decoder_;
  media::FramePtr frame_;
  FrameSizeScorer scorer_;
  SegmentActivity current_;
  int64_t open_second_ = 0;  // the second whose bytes are being summed
  int64_t open_bytes_ = 0;
  int open_floor_ = 0;  // the least score of the open second, from a changed grid
  std::optional<LumaThumb> last_thumb_;
  int64_t last_thumb_second_ = 0;          // in the current segment's seconds; may be negative
  std::optional<int64_t> last_sample_us_;  // in the current segment's time
  // What says whether a sampled keyframe may be skipped as still (LooksStill).
  bool last_compare_changed_ = true;  // the last two pictures compared differed
  bool scored_since_sample_ = false;  // a second since the last sample scored as active
  int last_key_bytes_ = 0;            // size of the last decoded keyframe
  int64_t last_decode_us_ = 0;        // in the current segment's time
  int64_t decoded_ = 0;
  int64_t skipped_still_ = 0;
  int64_t resets_ = 0;
  int64_t deferred_ = 0;
  int64_t handed_ = 0;
  bool last_thumb_handed_ = false;         // last_thumb_ came from the PictureSource
  std::optional<int64_t> last_handed_us_;  // in the current segment's time
  std::optional<int64_t> last_key_us_;     // the last keyframe's, in the current segment's time
  int64_t gop_us_ = 0;                     // between the last two keyframes; 0: not known yet
  SampleSink sample_sink_;
  PictureSource picture_source_;
  int64_t credit_bytes_ = 0;             // the decode budget's credit; negative: in debt
  std::optional<int64_t> credit_at_us_;  // when it was last brought up to date
  DecodeFn decode_for_test_;
};

}  // namespace custodian::activity
