#include "activity/indexer.h"

#include <algorithm>
#include <cstdlib>

extern "C" {
#include <libavcodec/avcodec.h>
}

namespace custodian::activity {

namespace {
constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kHandOffMinWithinUs = 2 * kSecond;
// H.264's end-of-sequence NAL unit (type 10) as one packet: a 4-byte start code, which
// reads the same as a 4-byte length of 1 for streams in MP4's length-prefixed form, then
// the unit; the rest is the padding libavcodec reads past a packet's end.
constexpr int kH264EndOfSequenceBytes = 5;
alignas(16) constexpr uint8_t
    kH264EndOfSequence[kH264EndOfSequenceBytes + AV_INPUT_BUFFER_PADDING_SIZE] = {0, 0, 0, 1, 10};
// H.264 holds back at most 16 pictures for reordering.
constexpr int kMaxHeldPictures = 16;
}  // namespace

ActivityIndexer::ActivityIndexer(const AVCodecParameters* par) : frame_(av_frame_alloc()) {
  const AVCodec* codec = par ? avcodec_find_decoder(par->codec_id) : nullptr;
  if (!codec) return;
  media::CodecContext ctx(avcodec_alloc_context3(codec));
  if (!ctx || avcodec_parameters_to_context(ctx.get(), par) < 0) return;
  ctx->thread_count = 1;  // the camera thread's own time, nothing in the background
  ctx->flags |= AV_CODEC_FLAG_GRAY | AV_CODEC_FLAG_LOW_DELAY;
  ctx->skip_loop_filter = AVDISCARD_ALL;
  // Only keyframes are sent: nothing for skip_frame to skip (and an end-of-sequence unit
  // must not be skipped, below).
  ctx->skip_frame = AVDISCARD_DEFAULT;
  if (avcodec_open2(ctx.get(), codec, nullptr) < 0) return;
  decoder_ = std::move(ctx);
}

ActivityIndexer::~ActivityIndexer() = default;

void ActivityIndexer::CloseSecondsBefore(int64_t second) {
  while (open_second_ < second) {
    const uint8_t score =
        static_cast<uint8_t>(std::max<int>(scorer_.ScoreSecond(open_bytes_), open_floor_));
    if (score >= kActiveScore) scored_since_sample_ = true;
    current_.scores.push_back(score);
    open_bytes_ = 0;
    open_floor_ = 0;
    ++open_second_;
  }
}

void ActivityIndexer::AddFrame(const AVPacket& pkt, int64_t offset_us) {
  const int64_t second = std::clamp<int64_t>(offset_us / kSecond, 0, 86'399);
  CloseSecondsBefore(second);
  const bool key = pkt.flags & AV_PKT_FLAG_KEY;
  if (!key) {
    if (second == open_second_) open_bytes_ += pkt.size;
    return;
  }
  if (last_key_us_ && offset_us > *last_key_us_) gop_us_ = offset_us - *last_key_us_;
  last_key_us_ = offset_us;
  if (TakeHandedPicture(offset_us)) return;
  // While the sub stream gives pictures, it paces the samples.
  if (last_handed_us_ && offset_us - *last_handed_us_ < kHandOffStaleUs) return;
  if (last_sample_us_ && offset_us - *last_sample_us_ < kGridIntervalUs) return;
  if (LooksStill(pkt, offset_us)) {
    // The picture is the one last decoded: the sample moves on without a decode, and a
    // change found later is placed from here.
    last_thumb_second_ = second;
    last_sample_us_ = offset_us;
    scored_since_sample_ = false;
    ++skipped_still_;
    if (sample_sink_) sample_sink_(offset_us, *last_thumb_);
    return;
  }
  if (!HasDecodeCredit(offset_us)) {
    ++deferred_;  // not a sample: the next keyframe is tried
    return;
  }
  credit_bytes_ = std::max(-kDecodeMaxDebtBytes, credit_bytes_ - pkt.size);
  LumaThumb thumb;
  const bool got =
      decode_for_test_ ? decode_for_test_(pkt, &thumb) : decoder_ && DecodeThumb(pkt, &thumb);
  if (!got) return;
  ++decoded_;
  last_key_bytes_ = pkt.size;
  last_decode_us_ = offset_us;
  Sample(thumb, offset_us, /*handed=*/false);
}

bool ActivityIndexer::TakeHandedPicture(int64_t offset_us) {
  if (!picture_source_) return false;
  // Within a GOP of this keyframe: the source is asked at every keyframe, so a picture it
  // gained since the last one is at most about a GOP old. At least 2 s all the same, for the
  // two streams' wall times, each placed from its own session's arrival (a short GOP would
  // otherwise miss pictures over that alone).
  const int64_t within_us =
      gop_us_ > 0 ? std::clamp(gop_us_, kHandOffMinWithinUs, kGridIntervalUs) : kHandOffMinWithinUs;
  std::optional<HandedPicture> handed = picture_source_(offset_us, within_us);
  // Never behind a sample already taken: spans go forward in time.
  if (!handed || (last_sample_us_ && handed->offset_us <= *last_sample_us_)) return false;
  ++handed_;
  last_handed_us_ = offset_us;
  Sample(handed->picture, handed->offset_us, /*handed=*/true);
  return true;
}

void ActivityIndexer::Sample(const LumaThumb& thumb, int64_t offset_us, bool handed) {
  // The two streams' pictures of one moment differ by more than noise (other encodings,
  // other points averaged): a change of source starts the comparison afresh.
  if (handed != last_thumb_handed_) last_thumb_.reset();
  last_thumb_handed_ = handed;
  AddKeyframeThumb(thumb, offset_us);
  if (!handed && sample_sink_) sample_sink_(offset_us, thumb);
}

// A sampled keyframe shows nothing new when the scene was still at the last comparison,
// the frame sizes since say so too, and the keyframe is about as large as the last one
// decoded (a picture that changed codes to another size); but a still scene is looked at
// again every kStillRecheckUs, for what sizes do not show.
bool ActivityIndexer::LooksStill(const AVPacket& pkt, int64_t offset_us) const {
  if (!last_thumb_ || last_thumb_handed_ || last_compare_changed_ || scored_since_sample_ ||
      last_key_bytes_ <= 0)
    return false;
  if (offset_us - last_decode_us_ >= kStillRecheckUs) return false;
  return std::abs(int64_t{pkt.size} - last_key_bytes_) * 16 <= last_key_bytes_;
}

// Brings the decode budget's credit up to offset_us and says whether a decode may be spent.
bool ActivityIndexer::HasDecodeCredit(int64_t offset_us) {
  if (credit_at_us_ && offset_us > *credit_at_us_) {
    const int64_t earned = (offset_us - *credit_at_us_) * kDecodeBytesPerSecond / kSecond;
    credit_bytes_ = std::min(kDecodeBurstBytes, credit_bytes_ + earned);
  }
  if (!credit_at_us_ || offset_us > *credit_at_us_) credit_at_us_ = offset_us;
  return credit_bytes_ >= 0;
}

void ActivityIndexer::AddKeyframeThumb(const LumaThumb& thumb, int64_t offset_us) {
  const int64_t second = std::clamp<int64_t>(offset_us / kSecond, 0, 86'399);
  last_compare_changed_ = !last_thumb_;
  if (last_thumb_) {
    ActivityGrid cells = GridDiff(*last_thumb_, thumb);
    last_compare_changed_ = cells.Any();
    if (cells.Any()) {
      GridSpan span;
      span.first_second = static_cast<uint16_t>(std::max<int64_t>(0, last_thumb_second_));
      span.end_second = static_cast<uint16_t>(std::max<int64_t>(second, span.first_second + 1));
      span.cells = cells;
      current_.grids.push_back(span);
      RaiseScores(span);
    }
  }
  last_thumb_ = thumb;
  last_thumb_second_ = second;
  last_sample_us_ = offset_us;
  scored_since_sample_ = false;
}

// A scene that moves all the time spends as many bytes every second, so its baseline
// rises and the bytes alone say "still"; a changed grid says otherwise. The span's seconds
// score at least what their changed cells say.
void ActivityIndexer::RaiseScores(const GridSpan& span) {
  const int floor = std::min(255, kActiveScore + 8 * span.cells.Count());
  const size_t end = std::min<size_t>(span.end_second, current_.scores.size());
  for (size_t s = span.first_second; s < end; ++s)
    current_.scores[s] = static_cast<uint8_t>(std::max<int>(current_.scores[s], floor));
  // A span that reaches the second still being summed (a change found at a segment's first
  // keyframe, whose span is its second 0) raises that second when it closes.
  if (span.first_second <= current_.scores.size() && span.end_second > current_.scores.size())
    open_floor_ = std::max(open_floor_, floor);
}

bool ActivityIndexer::DecodeThumb(const AVPacket& pkt, LumaThumb* thumb) {
  AVCodecContext* ctx = decoder_.get();
  // Takes this keyframe's picture (its pts, where it has one) from what the decoder gives;
  // says whether the decoder gave any picture at all.
  bool got = false;
  auto receive = [&] {
    bool any = false;
    while (avcodec_receive_frame(ctx, frame_.get()) >= 0) {
      any = true;
      const AVFrame* f = frame_.get();
      if (!got && f->data[0] && f->width >= kThumbCols && f->height >= kThumbRows &&
          (pkt.pts == AV_NOPTS_VALUE || f->pts == pkt.pts)) {
        ReduceLuma(f->data[0], f->linesize[0], f->width, f->height, thumb);
        got = true;
      }
      av_frame_unref(frame_.get());
    }
    return any;
  };
  // A stream without reordering gives the picture at once, and the decoder stays as it is:
  // resetting it frees its tables, which the next keyframe then allocates and clears again
  // (measured: about a third of the index's cost at 1080p).
  if (avcodec_send_packet(ctx, &pkt) >= 0) {
    receive();
    if (got) return true;
    // A stream with B-frames holds the picture back until later pictures push it out, and
    // only keyframes are sent here. H.264: an end-of-sequence NAL unit alone in a packet
    // hands out one held picture without ending the stream, so the decoder is not reset.
    if (ctx->codec_id == AV_CODEC_ID_H264) {
      AVPacket end_of_sequence{};
      end_of_sequence.data = const_cast<uint8_t*>(kH264EndOfSequence);
      end_of_sequence.size = kH264EndOfSequenceBytes;
      end_of_sequence.pts = end_of_sequence.dts = AV_NOPTS_VALUE;
      for (int i = 0; i < kMaxHeldPictures && !got; ++i) {
        if (avcodec_send_packet(ctx, &end_of_sequence) < 0 || !receive()) break;
      }
      if (got) return true;
    }
  }
  // Otherwise drain it, then reset it for the next keyframe.
  if (avcodec_send_packet(ctx, nullptr) >= 0) receive();
  avcodec_flush_buffers(ctx);
  ++resets_;
  return got;
}

SegmentActivity ActivityIndexer::FinishSegment(int64_t duration_us) {
  const int64_t seconds = std::clamp<int64_t>((duration_us + kSecond - 1) / kSecond, 0, 86'400);
  CloseSecondsBefore(seconds);
  current_.scores.resize(static_cast<size_t>(seconds));
  for (GridSpan& g : current_.grids) {
    g.end_second = static_cast<uint16_t>(std::min<int64_t>(g.end_second, seconds));
    g.first_second = std::min(g.first_second, g.end_second);
  }
  SegmentActivity done = std::move(current_);
  current_ = {};
  // The next segment starts where this one ended: its seconds count from there.
  open_second_ = 0;
  open_bytes_ = 0;
  open_floor_ = 0;
  last_thumb_second_ -= seconds;
  if (last_sample_us_) *last_sample_us_ -= duration_us;
  last_decode_us_ -= duration_us;
  if (last_handed_us_) *last_handed_us_ -= duration_us;
  if (last_key_us_) *last_key_us_ -= duration_us;
  if (credit_at_us_) *credit_at_us_ -= duration_us;
  return done;
}

}  // namespace custodian::activity
