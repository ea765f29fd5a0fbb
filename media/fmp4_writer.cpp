#include "media/fmp4_writer.h"

extern "C" {
#include <libavutil/mathematics.h>
#include <libavutil/opt.h>
}

namespace custodian::media {

namespace {
constexpr int kAvioBufferSize = 64 * 1024;
constexpr AVRational kMicros{1, 1'000'000};
}  // namespace

bool Mp4CanStore(const AVCodecParameters* codecpar) {
  const AVOutputFormat* fmt = av_guess_format("mp4", nullptr, nullptr);
  return fmt && avformat_query_codec(fmt, codecpar->codec_id, FF_COMPLIANCE_NORMAL) == 1;
}

FragmentedMp4Writer::~FragmentedMp4Writer() {
  if (pb_) {
    av_freep(&pb_->buffer);
    avio_context_free(&pb_);
  }
  if (oc_) oc_->pb = nullptr;
}

int FragmentedMp4Writer::OnWrite(void* opaque, uint8_t* buf, int size) {
  auto* self = static_cast<FragmentedMp4Writer*>(opaque);
  if (!self->write_error_.ok()) return AVERROR(EIO);
  Status st = self->file_->Append(buf, static_cast<size_t>(size));
  if (!st.ok()) {
    self->write_error_ = st;
    return st.kind() == ErrorKind::kResourceExhausted ? AVERROR(ENOSPC) : AVERROR(EIO);
  }
  self->sha_.Update(buf, static_cast<size_t>(size));
  self->bytes_ += static_cast<uint64_t>(size);
  return size;
}

Result<std::unique_ptr<FragmentedMp4Writer>> FragmentedMp4Writer::Open(
    std::unique_ptr<WritableFile> file, const std::vector<StreamSpec>& streams,
    const FragmentOptions& fragments) {
  std::unique_ptr<FragmentedMp4Writer> w(new FragmentedMp4Writer());
  w->file_ = std::move(file);
  w->max_fragment_us_ = fragments.max_fragment_us;

  AVFormatContext* raw = nullptr;
  int rc = avformat_alloc_output_context2(&raw, nullptr, "mp4", nullptr);
  if (rc < 0 || !raw) return AvStatus("allocate mp4 muxer", rc);
  w->oc_.reset(raw);

  for (const StreamSpec& s : streams) {
    AVStream* st = avformat_new_stream(raw, nullptr);
    if (!st) return Internal("avformat_new_stream failed");
    rc = avcodec_parameters_copy(st->codecpar, s.codecpar);
    if (rc < 0) return AvStatus("copy codec parameters", rc);
    st->codecpar->codec_tag = 0;
    // hvc1 (parameter sets in the sample entry) is what browsers and QuickTime expect.
    if (st->codecpar->codec_id == AV_CODEC_ID_HEVC) st->codecpar->codec_tag = MKTAG('h', 'v', 'c', '1');
    st->time_base = s.time_base;
    w->in_tb_.push_back(s.time_base);
    w->last_dts_.push_back(AV_NOPTS_VALUE);
  }

  auto* buffer = static_cast<uint8_t*>(av_malloc(kAvioBufferSize));
  if (!buffer) return ResourceExhausted("out of memory for the AVIO buffer");
  w->pb_ = avio_alloc_context(buffer, kAvioBufferSize, 1, w.get(), nullptr, &OnWrite, nullptr);
  if (!w->pb_) {
    av_free(buffer);
    return ResourceExhausted("out of memory for the AVIO context");
  }
  w->pb_->seekable = 0;
  raw->pb = w->pb_;
  raw->flags |= AVFMT_FLAG_CUSTOM_IO;

  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "movflags",
              "frag_keyframe+empty_moov+default_base_moof+negative_cts_offsets", 0);
  av_dict_set_int(&opts, "fragment_index", fragments.first_number < 1 ? 1 : fragments.first_number,
                  0);
  rc = avformat_write_header(raw, &opts);
  av_dict_free(&opts);
  if (rc < 0) {
    if (!w->write_error_.ok()) return w->write_error_;
    return AvStatus("write mp4 header", rc);
  }
  if (w->max_fragment_us_ > 0) {
    // Cuts between keyframes switch the muxer's own duration limit on for one packet (see
    // WriteVideo); make sure this libavformat has it.
    rc = av_opt_set_int(raw->priv_data, "frag_duration", 0, 0);
    if (rc < 0) return AvStatus("the mp4 muxer's frag_duration option", rc);
  }
  avio_flush(w->pb_);
  if (!w->write_error_.ok()) return w->write_error_;
  return w;
}

Status FragmentedMp4Writer::Write(const AVPacket& in) {
  if (finished_) return FailedPrecondition("segment already finished");
  const int idx = in.stream_index;
  if (idx < 0 || idx >= static_cast<int>(in_tb_.size())) return InvalidArgument("bad stream index");
  AVStream* st = oc_->streams[idx];
  const AVRational in_tb = in_tb_[idx];

  int64_t dts = in.dts != AV_NOPTS_VALUE ? in.dts : in.pts;
  int64_t pts = in.pts != AV_NOPTS_VALUE ? in.pts : dts;
  if (dts == AV_NOPTS_VALUE) return InvalidArgument("packet without timestamps");
  if (base_dts_us_ == AV_NOPTS_VALUE) {
    base_dts_us_ = av_rescale_q(dts, in_tb, kMicros);
    base_pts_us_ = av_rescale_q(pts, in_tb, kMicros);
  }

  // Video decode times start at 0; the muxer subtracts the first frame's composition
  // offset, so that its presentation time is 0 too. Audio has none: it starts from the
  // first video frame's presentation time.
  const int64_t base_out =
      av_rescale_q(idx == 0 ? base_dts_us_ : base_pts_us_, kMicros, st->time_base);
  int64_t out_dts = av_rescale_q(dts, in_tb, st->time_base) - base_out;
  int64_t out_pts = av_rescale_q(pts, in_tb, st->time_base) - base_out;
  // The muxer needs strictly increasing DTS per stream; cameras occasionally repeat one,
  // and audio that straddles a cut can land just before zero.
  int64_t& last = last_dts_[idx];
  if (out_dts < 0) out_dts = 0;
  if (last != AV_NOPTS_VALUE && out_dts <= last) out_dts = last + 1;
  if (out_pts < out_dts) out_pts = out_dts;
  last = out_dts;

  AVPacket* pkt = av_packet_clone(&in);
  if (!pkt) return ResourceExhausted("out of memory cloning a packet");
  Packet owned(pkt);
  pkt->dts = out_dts;
  pkt->pts = out_pts;
  pkt->duration = av_rescale_q(in.duration, in_tb, st->time_base);
  pkt->pos = -1;

  if (idx == 0) {
    const int64_t shown = out_pts + (pkt->duration > 0 ? pkt->duration : 0);
    const int64_t end = av_rescale_q(shown, st->time_base, kMicros) - (base_pts_us_ - base_dts_us_);
    if (end > end_us_) end_us_ = end;
    ++video_frames_;
  }
  bool closed_fragment = false;
  int rc = idx == 0 ? WriteVideo(pkt, &closed_fragment) : av_write_frame(oc_.get(), pkt);
  if (rc < 0) {
    if (!write_error_.ok()) return write_error_;
    return AvStatus("write packet", rc);
  }
  // The muxer has written the closed fragment into the AVIO buffer: hand it to the kernel
  // now, so that a crash loses at most the fragment in progress and live view sees it.
  if (closed_fragment) avio_flush(pb_);
  return write_error_;
}

int FragmentedMp4Writer::WriteVideo(AVPacket* pkt, bool* closed_fragment) {
  const int64_t dts = pkt->dts;
  const bool key = pkt->flags & AV_PKT_FLAG_KEY;
  const bool first = fragment_start_dts_ == AV_NOPTS_VALUE;
  // The muxer closes the fragment in progress at a keyframe by itself. For a cut between
  // keyframes its own duration limit is switched on for this one packet, so that the cut
  // takes the same path: the closed fragment's last frame then ends at this packet's DTS
  // rather than at a guessed duration.
  const bool forced =
      !first && !key && max_fragment_us_ > 0 &&
      av_rescale_q(dts - fragment_start_dts_, oc_->streams[0]->time_base, kMicros) >=
          max_fragment_us_;
  if (forced) av_opt_set_int(oc_->priv_data, "frag_duration", 1, 0);
  const int rc = av_write_frame(oc_.get(), pkt);
  if (forced) av_opt_set_int(oc_->priv_data, "frag_duration", 0, 0);
  *closed_fragment = !first && (key || forced);
  if (first || *closed_fragment) fragment_start_dts_ = dts;
  return rc;
}

uint32_t FragmentedMp4Writer::next_fragment_number() const {
  if (finished_) return next_fragment_number_;
  int64_t next = 1;
  if (oc_ && oc_->priv_data && av_opt_get_int(oc_->priv_data, "fragment_index", 0, &next) < 0) {
    next = 1;
  }
  return static_cast<uint32_t>(next);
}

Status FragmentedMp4Writer::Finish() {
  if (finished_) return FailedPrecondition("segment already finished");
  // The trailer closes the fragment in progress, if any, and frees the muxer's state:
  // note the number that follows it first.
  next_fragment_number_ = next_fragment_number() + (video_frames_ > 0 ? 1 : 0);
  finished_ = true;
  int rc = av_write_trailer(oc_.get());
  avio_flush(pb_);
  Status st = write_error_;
  if (st.ok() && rc < 0) st = AvStatus("write mp4 trailer", rc);
  sha256_hex_ = sha_.FinishHex();
  Status sync = file_->Sync();
  Status close = file_->Close();
  if (!st.ok()) return st;
  if (!sync.ok()) return sync;
  return close;
}

}  // namespace custodian::media
