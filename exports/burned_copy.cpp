#include "exports/burned_copy.h"

extern "C" {
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/opt.h>
}

#include <unistd.h>

#include <algorithm>

#include "exports/timed_text.h"
#include "media/av_util.h"

namespace custodian::exports {

namespace {

using media::AvStatus;

struct CodecFreer {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
using CodecContext = std::unique_ptr<AVCodecContext, CodecFreer>;
struct FrameFreer {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
using Frame = std::unique_ptr<AVFrame, FrameFreer>;
struct GraphFreer {
  void operator()(AVFilterGraph* g) const { avfilter_graph_free(&g); }
};
using Graph = std::unique_ptr<AVFilterGraph, GraphFreer>;
struct IoFreer {
  void operator()(AVIOContext* io) const {
    if (io) av_freep(&io->buffer);
    avio_context_free(&io);
  }
};
using Io = std::unique_ptr<AVIOContext, IoFreer>;

constexpr int kIoBufferSize = 1 << 16;

// The caption inside drawtext's option syntax: single-quoted, and a quote or backslash in a
// camera's name is dropped rather than allowed to end the quoting.
std::string QuotedOption(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c != '\'' && c != '\\') out.push_back(c);
  }
  return out + "'";
}

// One transcode: input file -> decoder -> drawtext -> libx264 -> fragmented MP4 -> sink.
class BurnIn {
 public:
  BurnIn(const BurnInText& text, const TimeZone& zone, const ByteSink& sink)
      : text_(text), zone_(zone), sink_(sink) {}

  Status Run(const std::string& input, const std::function<bool()>& cancelled);

 private:
  Status OpenInput(const std::string& input);
  Status OpenFilter();
  Status OpenOutput();
  Status Caption(int64_t second);
  Status FilterAndEncode(AVFrame* decoded);
  Status Encode(AVFrame* frame);  // nullptr flushes
  static int Write(void* self, uint8_t* data, int size);

  const BurnInText& text_;
  const TimeZone& zone_;
  const ByteSink& sink_;
  Status sink_status_;
  media::InputContext in_;
  int video_ = -1;
  AVRational in_tb_{1, 1};
  CodecContext dec_;
  Graph graph_;
  AVFilterContext* src_ = nullptr;
  AVFilterContext* draw_ = nullptr;
  AVFilterContext* out_ = nullptr;
  CodecContext enc_;
  media::OutputContext mux_;
  Io io_;
  AVStream* out_stream_ = nullptr;
  int64_t captioned_second_ = INT64_MIN;
};

int BurnIn::Write(void* self, uint8_t* data, int size) {
  auto* b = static_cast<BurnIn*>(self);
  b->sink_status_ = b->sink_(data, static_cast<size_t>(size));
  return b->sink_status_.ok() ? size : AVERROR(EIO);
}

Status BurnIn::OpenInput(const std::string& input) {
  AVFormatContext* raw = nullptr;
  int err = avformat_open_input(&raw, input.c_str(), nullptr, nullptr);
  if (err < 0) return AvStatus("open " + input, err);
  in_.reset(raw);
  err = avformat_find_stream_info(raw, nullptr);
  if (err < 0) return AvStatus("read " + input, err);
  const AVCodec* codec = nullptr;
  video_ = av_find_best_stream(raw, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (video_ < 0 || !codec) return InvalidArgument(input + " has no video this libav decodes");
  const AVStream* s = raw->streams[video_];
  in_tb_ = s->time_base;
  dec_.reset(avcodec_alloc_context3(codec));
  err = avcodec_parameters_to_context(dec_.get(), s->codecpar);
  if (err < 0) return AvStatus("decoder parameters", err);
  dec_->pkt_timebase = in_tb_;
  err = avcodec_open2(dec_.get(), codec, nullptr);
  return err < 0 ? AvStatus("open decoder", err) : Status::Ok();
}

Status BurnIn::OpenFilter() {
  const AVFilter* buffer = avfilter_get_by_name("buffer");
  const AVFilter* drawtext = avfilter_get_by_name("drawtext");
  const AVFilter* format = avfilter_get_by_name("format");
  const AVFilter* sink = avfilter_get_by_name("buffersink");
  if (!buffer || !drawtext || !format || !sink) {
    return Unavailable("this libavfilter has no drawtext filter; no burned-in copy can be made");
  }
  graph_.reset(avfilter_graph_alloc());
  const std::string src_args =
      "video_size=" + std::to_string(dec_->width) + "x" + std::to_string(dec_->height) +
      ":pix_fmt=" + std::to_string(dec_->pix_fmt) + ":time_base=" + std::to_string(in_tb_.num) +
      "/" + std::to_string(in_tb_.den) + ":pixel_aspect=" +
      std::to_string(std::max(1, dec_->sample_aspect_ratio.num)) + "/" +
      std::to_string(std::max(1, dec_->sample_aspect_ratio.den));
  int err = avfilter_graph_create_filter(&src_, buffer, "in", src_args.c_str(), nullptr,
                                         graph_.get());
  if (err < 0) return AvStatus("video source filter", err);
  // Large enough to read on a phone, white on a dark box at the bottom left; the text is
  // replaced every second (Caption), never expanded by drawtext itself.
  const int size = std::max(12, dec_->height / 22);
  // Debian's DejaVu Sans (fonts-dejavu-core) when installed, else fontconfig's sans.
  const char* kDejaVu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  const std::string font =
      ::access(kDejaVu, R_OK) == 0 ? std::string("fontfile=") + kDejaVu : std::string("font=Sans");
  const std::string draw_args =
      font + ":expansion=none:fontcolor=white:fontsize=" + std::to_string(size) +
      ":box=1:boxcolor=black@0.6:boxborderw=" + std::to_string(size / 4) +
      ":line_spacing=" + std::to_string(size / 4) + ":x=" + std::to_string(size / 2) +
      ":y=h-th-" + std::to_string(size / 2) + ":text=" +
      QuotedOption(BurnInCaption(text_.origin, text_, zone_));
  err = avfilter_graph_create_filter(&draw_, drawtext, "drawtext", draw_args.c_str(), nullptr,
                                     graph_.get());
  if (err < 0) return AvStatus("drawtext filter (a font must be installed)", err);
  AVFilterContext* fmt = nullptr;
  err = avfilter_graph_create_filter(&fmt, format, "format", "pix_fmts=yuv420p", nullptr,
                                     graph_.get());
  if (err < 0) return AvStatus("format filter", err);
  err = avfilter_graph_create_filter(&out_, sink, "out", nullptr, nullptr, graph_.get());
  if (err < 0) return AvStatus("sink filter", err);
  if ((err = avfilter_link(src_, 0, draw_, 0)) < 0 || (err = avfilter_link(draw_, 0, fmt, 0)) < 0 ||
      (err = avfilter_link(fmt, 0, out_, 0)) < 0) {
    return AvStatus("link filters", err);
  }
  err = avfilter_graph_config(graph_.get(), nullptr);
  return err < 0 ? AvStatus("configure filters", err) : Status::Ok();
}

Status BurnIn::OpenOutput() {
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (!codec) codec = avcodec_find_encoder(AV_CODEC_ID_H264);
  if (!codec) return Unavailable("this libavcodec has no H.264 encoder");
  AVFormatContext* raw = nullptr;
  int err = avformat_alloc_output_context2(&raw, nullptr, "mp4", nullptr);
  if (err < 0) return AvStatus("mp4 muxer", err);
  mux_.reset(raw);
  enc_.reset(avcodec_alloc_context3(codec));
  enc_->width = dec_->width;
  enc_->height = dec_->height;
  enc_->pix_fmt = AV_PIX_FMT_YUV420P;
  enc_->sample_aspect_ratio = dec_->sample_aspect_ratio;
  enc_->time_base = in_tb_;
  AVRational rate = av_guess_frame_rate(in_.get(), in_->streams[video_], nullptr);
  if (rate.num > 0 && rate.den > 0) enc_->framerate = rate;
  enc_->gop_size = rate.num > 0 && rate.den > 0 ? 2 * rate.num / rate.den : 50;
  enc_->max_b_frames = 0;  // frame stepping and seeking as simple as the original's
  enc_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  av_opt_set(enc_->priv_data, "preset", "veryfast", 0);
  av_opt_set(enc_->priv_data, "crf", "20", 0);
  err = avcodec_open2(enc_.get(), codec, nullptr);
  if (err < 0) return AvStatus("open H.264 encoder", err);
  out_stream_ = avformat_new_stream(raw, nullptr);
  if (!out_stream_) return Internal("mp4 muxer: no stream");
  out_stream_->time_base = enc_->time_base;
  err = avcodec_parameters_from_context(out_stream_->codecpar, enc_.get());
  if (err < 0) return AvStatus("encoder parameters", err);
  auto* buffer = static_cast<uint8_t*>(av_malloc(kIoBufferSize));
  io_.reset(avio_alloc_context(buffer, kIoBufferSize, 1, this, nullptr, &BurnIn::Write, nullptr));
  if (!io_) {
    av_free(buffer);
    return Internal("mp4 muxer: no I/O context");
  }
  raw->pb = io_.get();
  raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "movflags", "frag_keyframe+empty_moov+default_base_moof", 0);
  err = avformat_write_header(raw, &opts);
  av_dict_free(&opts);
  if (err < 0) return sink_status_.ok() ? AvStatus("write mp4 header", err) : sink_status_;
  return Status::Ok();
}

Status BurnIn::Caption(int64_t second) {
  if (second == captioned_second_) return Status::Ok();
  captioned_second_ = second;
  const UtcMicros t{second * kMicrosPerSecond};
  const std::string arg = "text=" + QuotedOption(BurnInCaption(t, text_, zone_));
  int err = avfilter_graph_send_command(graph_.get(), "drawtext", "reinit", arg.c_str(), nullptr,
                                        0, 0);
  return err < 0 ? AvStatus("set the caption", err) : Status::Ok();
}

Status BurnIn::Encode(AVFrame* frame) {
  int err = avcodec_send_frame(enc_.get(), frame);
  if (err < 0) return AvStatus("encode", err);
  media::Packet pkt = media::MakePacket();
  for (;;) {
    err = avcodec_receive_packet(enc_.get(), pkt.get());
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return Status::Ok();
    if (err < 0) return AvStatus("encode", err);
    av_packet_rescale_ts(pkt.get(), enc_->time_base, out_stream_->time_base);
    pkt->stream_index = out_stream_->index;
    err = av_interleaved_write_frame(mux_.get(), pkt.get());
    if (err < 0) return sink_status_.ok() ? AvStatus("write mp4", err) : sink_status_;
  }
}

Status BurnIn::FilterAndEncode(AVFrame* decoded) {
  if (decoded) {
    const int64_t pts =
        decoded->best_effort_timestamp != AV_NOPTS_VALUE ? decoded->best_effort_timestamp : 0;
    decoded->pts = pts;
    const int64_t wall_us = text_.origin.us + av_rescale_q(pts, in_tb_, AVRational{1, 1000000});
    CUSTODIAN_RETURN_IF_ERROR(Caption(wall_us / kMicrosPerSecond));
  }
  int err = av_buffersrc_add_frame_flags(src_, decoded, AV_BUFFERSRC_FLAG_KEEP_REF);
  if (err < 0) return AvStatus("filter", err);
  Frame filtered(av_frame_alloc());
  for (;;) {
    err = av_buffersink_get_frame(out_, filtered.get());
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return Status::Ok();
    if (err < 0) return AvStatus("filter", err);
    filtered->pict_type = AV_PICTURE_TYPE_NONE;
    Status st = Encode(filtered.get());
    av_frame_unref(filtered.get());
    CUSTODIAN_RETURN_IF_ERROR(st);
  }
}

Status BurnIn::Run(const std::string& input, const std::function<bool()>& cancelled) {
  CUSTODIAN_RETURN_IF_ERROR(OpenInput(input));
  CUSTODIAN_RETURN_IF_ERROR(OpenFilter());
  CUSTODIAN_RETURN_IF_ERROR(OpenOutput());
  media::Packet pkt = media::MakePacket();
  Frame frame(av_frame_alloc());
  int64_t checked_second = INT64_MIN;
  auto drain = [&]() -> Status {
    for (;;) {
      int err = avcodec_receive_frame(dec_.get(), frame.get());
      if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return Status::Ok();
      if (err < 0) return AvStatus("decode", err);
      Status st = FilterAndEncode(frame.get());
      av_frame_unref(frame.get());
      CUSTODIAN_RETURN_IF_ERROR(st);
    }
  };
  for (;;) {
    int err = av_read_frame(in_.get(), pkt.get());
    if (err == AVERROR_EOF) break;
    if (err < 0) return AvStatus("read " + input, err);
    if (pkt->stream_index != video_) {
      av_packet_unref(pkt.get());
      continue;
    }
    if (captioned_second_ != checked_second) {
      checked_second = captioned_second_;
      if (cancelled && cancelled()) return FailedPrecondition("export cancelled");
    }
    err = avcodec_send_packet(dec_.get(), pkt.get());
    av_packet_unref(pkt.get());
    if (err < 0 && err != AVERROR(EAGAIN)) return AvStatus("decode", err);
    CUSTODIAN_RETURN_IF_ERROR(drain());
  }
  avcodec_send_packet(dec_.get(), nullptr);
  CUSTODIAN_RETURN_IF_ERROR(drain());
  CUSTODIAN_RETURN_IF_ERROR(FilterAndEncode(nullptr));
  CUSTODIAN_RETURN_IF_ERROR(Encode(nullptr));
  int err = av_write_trailer(mux_.get());
  if (err < 0) return sink_status_.ok() ? AvStatus("finish mp4", err) : sink_status_;
  avio_flush(io_.get());
  return sink_status_;
}

}  // namespace

std::string BurnInCaption(UtcMicros t, const BurnInText& text, const TimeZone& zone) {
  return WallClockCueText(t, text.camera_name, zone) + "\nWORKING COPY - export " +
         std::to_string(text.export_id);
}

Status WriteBurnedInCopy(const std::string& input, const BurnInText& text, const TimeZone& zone,
                         const ByteSink& sink, const std::function<bool()>& cancelled) {
  BurnIn b(text, zone, sink);
  return b.Run(input, cancelled);
}

}  // namespace custodian::exports
