#include "activity/indexer.h"

#include <algorithm>

extern "C" {
#include <libavcodec/avcodec.h>
}

namespace custodian::activity {

namespace {
constexpr int64_t kSecond = 1'000'000;
}  // namespace

ActivityIndexer::ActivityIndexer(const AVCodecParameters* par) : frame_(av_frame_alloc()) {
  const AVCodec* codec = par ? avcodec_find_decoder(par->codec_id) : nullptr;
  if (!codec) return;
  media::CodecContext ctx(avcodec_alloc_context3(codec));
  if (!ctx || avcodec_parameters_to_context(ctx.get(), par) < 0) return;
  ctx->thread_count = 1;  // the camera thread's own time, nothing in the background
  ctx->flags |= AV_CODEC_FLAG_GRAY | AV_CODEC_FLAG_LOW_DELAY;
  ctx->skip_loop_filter = AVDISCARD_ALL;
  ctx->skip_frame = AVDISCARD_NONKEY;
  if (avcodec_open2(ctx.get(), codec, nullptr) < 0) return;
  decoder_ = std::move(ctx);
}

ActivityIndexer::~ActivityIndexer() = default;

void ActivityIndexer::CloseSecondsBefore(int64_t second) {
  while (open_second_ < second) {
    current_.scores.push_back(scorer_.ScoreSecond(open_bytes_));
    open_bytes_ = 0;
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
  if (last_sample_us_ && offset_us - *last_sample_us_ < kGridIntervalUs) return;
  LumaThumb thumb;
  if (!decoder_ || !DecodeThumb(pkt, &thumb)) return;
  AddKeyframeThumb(thumb, offset_us);
}

void ActivityIndexer::AddKeyframeThumb(const LumaThumb& thumb, int64_t offset_us) {
  const int64_t second = std::clamp<int64_t>(offset_us / kSecond, 0, 86'399);
  if (last_thumb_) {
    ActivityGrid cells = GridDiff(*last_thumb_, thumb);
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
}

// A scene that moves all the time spends as many bytes every second, so its baseline
// rises and the bytes alone say "still"; a changed grid says otherwise. The span's seconds
// score at least what their changed cells say.
void ActivityIndexer::RaiseScores(const GridSpan& span) {
  const int floor = std::min(255, kActiveScore + 8 * span.cells.Count());
  const size_t end = std::min<size_t>(span.end_second, current_.scores.size());
  for (size_t s = span.first_second; s < end; ++s)
    current_.scores[s] = static_cast<uint8_t>(std::max<int>(current_.scores[s], floor));
}

bool ActivityIndexer::DecodeThumb(const AVPacket& pkt, LumaThumb* thumb) {
  AVCodecContext* ctx = decoder_.get();
  // Each keyframe is decoded on its own: send it, drain, and reset for the next one.
  bool got = false;
  if (avcodec_send_packet(ctx, &pkt) >= 0 && avcodec_send_packet(ctx, nullptr) >= 0) {
    while (avcodec_receive_frame(ctx, frame_.get()) >= 0) {
      const AVFrame* f = frame_.get();
      if (!got && f->data[0] && f->width >= kThumbCols && f->height >= kThumbRows) {
        ReduceLuma(f->data[0], f->linesize[0], f->width, f->height, thumb);
        got = true;
      }
      av_frame_unref(frame_.get());
    }
  }
  avcodec_flush_buffers(ctx);
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
  last_thumb_second_ -= seconds;
  if (last_sample_us_) *last_sample_us_ -= duration_us;
  return done;
}

}  // namespace custodian::activity
