#include "redaction/video_io.h"

extern "C" {
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cmath>
#include <mutex>

namespace custodian::redaction {
namespace {

std::string AvError(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

Status AvFail(ErrorKind kind, const std::string& what, int err) {
  return Status(kind, what + ": " + AvError(err));
}

bool IsYuv420(int fmt) { return fmt == AV_PIX_FMT_YUV420P || fmt == AV_PIX_FMT_YUVJ420P; }

}  // namespace

// ---- VideoReader ----

VideoReader::~VideoReader() {
  sws_freeContext(sws_);
  avcodec_free_context(&dec_);
  avformat_close_input(&fmt_);
}

Result<std::unique_ptr<VideoReader>> VideoReader::Open(const std::string& path,
                                                       bool keep_audio) {
  std::unique_ptr<VideoReader> r(new VideoReader());
  int err = avformat_open_input(&r->fmt_, path.c_str(), nullptr, nullptr);
  if (err < 0) {
    if (err == AVERROR(ENOENT)) return NotFound("input " + path + " does not exist");
    return AvFail(ErrorKind::kInvalidArgument, "cannot open " + path + " as a video", err);
  }
  if ((err = avformat_find_stream_info(r->fmt_, nullptr)) < 0) {
    return AvFail(ErrorKind::kDataLoss, "cannot read the streams of " + path, err);
  }
  const AVCodec* codec = nullptr;
  r->video_index_ = av_find_best_stream(r->fmt_, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (r->video_index_ < 0 || !codec) {
    return InvalidArgument(path + " has no video stream that can be decoded");
  }
  AVStream* st = r->fmt_->streams[r->video_index_];
  r->dec_ = avcodec_alloc_context3(codec);
  if (!r->dec_) return Internal("out of memory for a decoder");
  avcodec_parameters_to_context(r->dec_, st->codecpar);
  // Fail on damaged data instead of concealing it: a concealed frame was never looked at.
  r->dec_->err_recognition |= AV_EF_EXPLODE;
  r->dec_->thread_count = 0;  // libavcodec picks; decoding is not the bottleneck
  if ((err = avcodec_open2(r->dec_, codec, nullptr)) < 0) {
    return AvFail(ErrorKind::kDataLoss, "cannot open the decoder for " + path, err);
  }
  if (r->dec_->width <= 0 || r->dec_->height <= 0) {
    return DataLoss(path + ": the video stream has no frame size");
  }
  if (keep_audio) {
    int a = av_find_best_stream(r->fmt_, AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
    if (a >= 0) r->audio_ = r->fmt_->streams[a];
  }
  VideoInfo& info = r->info_;
  info.width = r->dec_->width;
  info.height = r->dec_->height;
  info.time_base = st->time_base;
  info.frame_rate = av_guess_frame_rate(r->fmt_, st, nullptr);
  if (info.frame_rate.num <= 0 || info.frame_rate.den <= 0) info.frame_rate = {25, 1};
  info.codec = codec->name;
  if (st->duration > 0) {
    info.duration_s = st->duration * av_q2d(st->time_base);
  } else if (r->fmt_->duration > 0) {
    info.duration_s = r->fmt_->duration / static_cast<double>(AV_TIME_BASE);
  }
  info.estimated_frames = st->nb_frames > 0
                              ? st->nb_frames
                              : std::llround(info.duration_s * av_q2d(info.frame_rate));
  r->pkt_.reset(av_packet_alloc());
  return r;
}

Status VideoReader::DecodeError(const std::string& what, int err) {
  return AvFail(ErrorKind::kDataLoss,
                "frame " + std::to_string(frames_) + " cannot be decoded (" + what + ")", err);
}

Result<Frame> VideoReader::Next() {
  Frame f(av_frame_alloc());
  while (!done_) {
    int err = avcodec_receive_frame(dec_, f.get());
    if (err == 0) {
      if (f->decode_error_flags != 0 || (f->flags & AV_FRAME_FLAG_CORRUPT)) {
        return DataLoss("frame " + std::to_string(frames_) + " is damaged in the input");
      }
      int64_t pts = f->best_effort_timestamp;
      if (pts == AV_NOPTS_VALUE) pts = last_pts_ == AV_NOPTS_VALUE ? 0 : last_pts_ + 1;
      if (first_pts_ == AV_NOPTS_VALUE) first_pts_ = pts;
      pts -= first_pts_;
      if (last_pts_ != AV_NOPTS_VALUE && pts <= last_pts_) pts = last_pts_ + 1;
      last_pts_ = pts;
      f->pts = pts;
      ++frames_;
      return Convert(std::move(f));
    }
    if (err == AVERROR_EOF) {
      done_ = true;
      break;
    }
    if (err != AVERROR(EAGAIN)) return DecodeError("decoder", err);
    if (flushing_) return DecodeError("flush", err);
    err = av_read_frame(fmt_, pkt_.get());
    if (err == AVERROR_EOF) {
      flushing_ = true;
      avcodec_send_packet(dec_, nullptr);
      continue;
    }
    if (err < 0) return DecodeError("read", err);
    if (pkt_->stream_index == video_index_) {
      err = avcodec_send_packet(dec_, pkt_.get());
      av_packet_unref(pkt_.get());
      if (err < 0 && err != AVERROR(EAGAIN)) return DecodeError("packet", err);
    } else if (audio_ && pkt_->stream_index == audio_->index) {
      audio_packets_.emplace_back(av_packet_clone(pkt_.get()));
      av_packet_unref(pkt_.get());
    } else {
      av_packet_unref(pkt_.get());
    }
  }
  return Frame();
}

Result<Frame> VideoReader::Convert(Frame f) {
  if (f->width != info_.width || f->height != info_.height) {
    return DataLoss("frame " + std::to_string(frames_ - 1) +
                    " changes the frame size; such inputs are not supported");
  }
  if (IsYuv420(f->format)) return f;
  sws_ = sws_getCachedContext(sws_, f->width, f->height, static_cast<AVPixelFormat>(f->format),
                              f->width, f->height, AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr,
                              nullptr, nullptr);
  if (!sws_) return Internal("no pixel format conversion to YUV 4:2:0");
  Frame out(av_frame_alloc());
  out->format = AV_PIX_FMT_YUV420P;
  out->width = f->width;
  out->height = f->height;
  if (av_frame_get_buffer(out.get(), 0) < 0) return Internal("out of memory for a frame");
  sws_scale(sws_, f->data, f->linesize, 0, f->height, out->data, out->linesize);
  out->pts = f->pts;
  return out;
}

std::vector<Packet> VideoReader::TakeAudio() {
  std::vector<Packet> out;
  if (!audio_ || first_pts_ == AV_NOPTS_VALUE) return out;  // rebased against the first video frame
  int64_t offset = av_rescale_q(first_pts_, info_.time_base, audio_->time_base);
  for (Packet& p : audio_packets_) {
    if (p->pts != AV_NOPTS_VALUE) p->pts -= offset;
    if (p->dts != AV_NOPTS_VALUE) p->dts -= offset;
    if (p->pts != AV_NOPTS_VALUE && p->pts < 0) continue;
    out.push_back(std::move(p));
  }
  audio_packets_.clear();
  return out;
}

// ---- VideoWriter ----

VideoWriter::~VideoWriter() {
  avcodec_free_context(&enc_);
  if (fmt_) {
    if (io_open_) avio_closep(&fmt_->pb);
    avformat_free_context(fmt_);
  }
}

Result<std::unique_ptr<VideoWriter>> VideoWriter::Open(const std::string& path,
                                                       const VideoInfo& info, const AVStream* audio,
                                                       const TextTrack* text) {
  static std::once_flag quiet;
  std::call_once(quiet, [] { av_log_set_level(AV_LOG_ERROR); });  // no encoder banners
  std::unique_ptr<VideoWriter> w(new VideoWriter());
  int err = avformat_alloc_output_context2(&w->fmt_, nullptr, "mp4", path.c_str());
  if (err < 0 || !w->fmt_) return AvFail(ErrorKind::kInternal, "no MP4 muxer", err);
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (!codec) return FailedPrecondition("libavcodec was built without libx264");
  w->enc_ = avcodec_alloc_context3(codec);
  w->in_tb_ = info.time_base;
  w->enc_->width = info.width & ~1;
  w->enc_->height = info.height & ~1;
  w->enc_->pix_fmt = AV_PIX_FMT_YUV420P;
  w->enc_->time_base = info.time_base;
  w->enc_->framerate = info.frame_rate;
  w->enc_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  w->enc_->thread_count = 0;
  w->frame_duration_ =
      std::max<int64_t>(1, av_rescale_q(1, av_inv_q(info.frame_rate), info.time_base));
  av_opt_set(w->enc_->priv_data, "preset", "veryfast", 0);
  av_opt_set(w->enc_->priv_data, "crf", "23", 0);
  if ((err = avcodec_open2(w->enc_, codec, nullptr)) < 0) {
    return AvFail(ErrorKind::kInternal, "cannot open libx264", err);
  }
  w->video_ = avformat_new_stream(w->fmt_, nullptr);
  avcodec_parameters_from_context(w->video_->codecpar, w->enc_);
  w->video_->time_base = info.time_base;
  if (audio) {
    if (avformat_query_codec(w->fmt_->oformat, audio->codecpar->codec_id,
                             FF_COMPLIANCE_NORMAL) != 1) {
      return InvalidArgument("the input's audio codec cannot be stored in MP4; run without "
                             "--keep-audio or convert the audio first");
    }
    w->audio_out_ = avformat_new_stream(w->fmt_, nullptr);
    avcodec_parameters_copy(w->audio_out_->codecpar, audio->codecpar);
    w->audio_out_->codecpar->codec_tag = 0;
    w->audio_out_->time_base = audio->time_base;
    w->audio_in_tb_ = audio->time_base;
  }
  if (text) {
    // Written as FFmpeg's mov_text encoder would leave it: tx3g with the sample entry's
    // fields as extradata, millisecond timestamps, handler "sbtl" in MP4.
    w->text_out_ = avformat_new_stream(w->fmt_, nullptr);
    AVCodecParameters* par = w->text_out_->codecpar;
    par->codec_type = AVMEDIA_TYPE_SUBTITLE;
    par->codec_id = AV_CODEC_ID_MOV_TEXT;
    par->width = w->enc_->width;
    par->height = w->enc_->height;
    const auto& d = text->sample_description;
    par->extradata = static_cast<uint8_t*>(av_mallocz(d.size() + AV_INPUT_BUFFER_PADDING_SIZE));
    if (!par->extradata) return Internal("out of memory for the text track");
    std::copy(d.begin(), d.end(), par->extradata);
    par->extradata_size = static_cast<int>(d.size());
    w->text_out_->time_base = AVRational{1, 1000};
    av_dict_set(&w->text_out_->metadata, "language", "eng", 0);
    av_dict_set(&w->text_out_->metadata, "handler_name", "Wall clock (UK local time) and camera",
                0);
  }
  if ((err = avio_open(&w->fmt_->pb, path.c_str(), AVIO_FLAG_WRITE)) < 0) {
    return AvFail(ErrorKind::kIo, "cannot create " + path, err);
  }
  w->io_open_ = true;
  if ((err = avformat_write_header(w->fmt_, nullptr)) < 0) {
    return AvFail(ErrorKind::kIo, "cannot write the MP4 header", err);
  }
  w->header_written_ = true;
  return w;
}

Status VideoWriter::WriteFrame(AVFrame* frame) {
  if (frame->width != enc_->width || frame->height != enc_->height) {
    // Odd frame sizes: x264 needs even dimensions; the last row or column is dropped.
    frame->width = enc_->width;
    frame->height = enc_->height;
  }
  frame->pict_type = AV_PICTURE_TYPE_NONE;
  int err = avcodec_send_frame(enc_, frame);
  if (err < 0) return AvFail(ErrorKind::kInternal, "encoder refused a frame", err);
  return Drain();
}

Status VideoWriter::Drain() {
  Packet pkt(av_packet_alloc());
  for (;;) {
    int err = avcodec_receive_packet(enc_, pkt.get());
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return Status::Ok();
    if (err < 0) return AvFail(ErrorKind::kInternal, "encoder failed", err);
    if (pkt->duration <= 0) pkt->duration = frame_duration_;
    av_packet_rescale_ts(pkt.get(), in_tb_, video_->time_base);
    pkt->stream_index = video_->index;
    err = av_interleaved_write_frame(fmt_, pkt.get());
    if (err < 0) return AvFail(ErrorKind::kIo, "cannot write video to the output", err);
  }
}

Status VideoWriter::WriteAudio(AVPacket* packet) {
  if (!audio_out_) return Status::Ok();
  av_packet_rescale_ts(packet, audio_in_tb_, audio_out_->time_base);
  packet->stream_index = audio_out_->index;
  packet->pos = -1;
  int err = av_interleaved_write_frame(fmt_, packet);
  if (err < 0) return AvFail(ErrorKind::kIo, "cannot write audio to the output", err);
  return Status::Ok();
}

Status VideoWriter::WriteText(const TextCue& cue) {
  if (!text_out_) return FailedPrecondition("the output has no text track");
  Packet pkt(av_packet_alloc());
  if (!pkt || av_new_packet(pkt.get(), static_cast<int>(cue.sample.size())) < 0) {
    return Internal("out of memory for a text sample");
  }
  std::copy(cue.sample.begin(), cue.sample.end(), pkt->data);
  pkt->pts = pkt->dts = av_rescale_q(cue.start_ms, AVRational{1, 1000}, text_out_->time_base);
  pkt->duration = av_rescale_q(cue.duration_ms, AVRational{1, 1000}, text_out_->time_base);
  pkt->flags |= AV_PKT_FLAG_KEY;
  pkt->stream_index = text_out_->index;
  int err = av_interleaved_write_frame(fmt_, pkt.get());
  if (err < 0) return AvFail(ErrorKind::kIo, "cannot write the text track", err);
  return Status::Ok();
}

Status VideoWriter::Finish() {
  int err = avcodec_send_frame(enc_, nullptr);
  if (err < 0 && err != AVERROR_EOF) return AvFail(ErrorKind::kInternal, "encoder flush", err);
  CUSTODIAN_RETURN_IF_ERROR(Drain());
  if ((err = av_write_trailer(fmt_)) < 0) {
    return AvFail(ErrorKind::kIo, "cannot finish the MP4", err);
  }
  if ((err = avio_closep(&fmt_->pb)) < 0) return AvFail(ErrorKind::kIo, "closing the MP4", err);
  io_open_ = false;
  return Status::Ok();
}

}  // namespace custodian::redaction
