#include "exports/burned_copy.h"

extern "C" {
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/opt.h>
}

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "media/av_util.h"

namespace custodian::exports {

namespace {

using media::AvStatus;
using media::CodecContext;
using Frame = media::FramePtr;
using Io = media::IoContext;

struct GraphFreer {
  void operator()(AVFilterGraph* g) const { avfilter_graph_free(&g); }
};
using Graph = std::unique_ptr<AVFilterGraph, GraphFreer>;

constexpr int kIoBufferSize = 1 << 16;

// A camera's name as literal caption text: the characters that would end drawtext's option
// quoting or start one of its expansions are dropped.
std::string LiteralText(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == ':') out += "\\:";  // not the end of the option
    else if (c != '\'' && c != '\\' && c != '%' && c != '{' && c != '}') out.push_back(c);
  }
  return out;
}

// A stretch of the copy with one UK offset: [from_s, to_s) in seconds of the input's media
// time (to_s < 0: to the end).
struct OffsetSpan {
  double from_s = 0, to_s = -1;
  int utc_offset_s = 0;
  std::string abbreviation;
};

// The stretches of [origin, end) with one UTC offset each: one, or two across a clock change
// (more for a copy spanning several changes). Clocks change on whole seconds.
std::vector<OffsetSpan> OffsetSpans(UtcMicros origin, UtcMicros end, const TimeZone& zone) {
  std::vector<OffsetSpan> spans;
  LocalTime at = zone.ToLocal(origin);
  spans.push_back({0, -1, at.utc_offset_s, at.abbreviation});
  int64_t lo = origin.us / kMicrosPerSecond;
  const int64_t last = end.us / kMicrosPerSecond + 1;
  while (lo < last) {
    // UK changes fall on whole hours: look an hour on, then bisect to the second.
    int64_t hi = std::min(last, lo + 3600);
    if (zone.ToLocal(UtcMicros{hi * kMicrosPerSecond}).utc_offset_s == spans.back().utc_offset_s) {
      lo = hi;
      continue;
    }
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      const bool same = zone.ToLocal(UtcMicros{mid * kMicrosPerSecond}).utc_offset_s ==
                        spans.back().utc_offset_s;
      (same ? lo : hi) = mid;
    }
    const LocalTime next = zone.ToLocal(UtcMicros{hi * kMicrosPerSecond});
    const double at_s = static_cast<double>(hi * kMicrosPerSecond - origin.us) / kMicrosPerSecond;
    spans.back().to_s = at_s;
    spans.push_back({at_s, -1, next.utc_offset_s, next.abbreviation});
    lo = hi;
  }
  return spans;
}

// drawtext's options for a caption: large enough to read on a phone, white on a dark box at
// the bottom left of a picture `height` pixels tall.
std::string CaptionStyle(int height) {
  const int size = std::max(12, height / 22);
  const char* kDejaVu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  const std::string font =
      ::access(kDejaVu, R_OK) == 0 ? std::string("fontfile=") + kDejaVu : std::string("font=Sans");
  return font + ":fontcolor=white:fontsize=" + std::to_string(size) +
         ":box=1:boxcolor=black@0.6:boxborderw=" + std::to_string(size / 4) +
         ":line_spacing=" + std::to_string(size / 4) + ":x=" + std::to_string(size / 2) +
         ":y=h-th-" + std::to_string(size / 2);
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
  AVFilterContext* out_ = nullptr;
  CodecContext enc_;
  media::OutputContext mux_;
  Io io_;
  AVStream* out_stream_ = nullptr;
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
  // The time is drawtext's own strftime of the frame's time plus the file's start, shifted
  // by the UK offset, so it is set by the appliance's zone rules, not the process's TZ; one
  // drawtext per offset, each enabled for its stretch, so a clock change inside the copy
  // shows.
  AVFilterContext* prev = src_;
  int k = 0;
  for (const OffsetSpan& span : OffsetSpans(text_.origin, text_.end, zone_)) {
    char epoch[64];
    std::snprintf(epoch, sizeof epoch, "%.6f",
                  static_cast<double>(text_.origin.us) / kMicrosPerSecond + span.utc_offset_s);
    const std::string caption = std::string("%{pts\\:gmtime\\:") + epoch +
                                "\\:%d/%m/%Y %H\\\\\\:%M\\\\\\:%S} " + span.abbreviation + " - " +
                                LiteralText(text_.camera_name) + "\nWORKING COPY - export " +
                                std::to_string(text_.export_id);
    char enable[96];
    if (span.to_s < 0) {
      std::snprintf(enable, sizeof enable, "gte(t\\,%.6f)", span.from_s);
    } else {
      std::snprintf(enable, sizeof enable, "gte(t\\,%.6f)*lt(t\\,%.6f)", span.from_s, span.to_s);
    }
    const std::string draw_args =
        CaptionStyle(dec_->height) + ":enable=" + enable + ":text=" + caption;
    AVFilterContext* draw = nullptr;
    err = avfilter_graph_create_filter(&draw, drawtext, ("drawtext" + std::to_string(k++)).c_str(),
                                       draw_args.c_str(), nullptr, graph_.get());
    if (err < 0) return AvStatus("drawtext filter (a font must be installed)", err);
    if ((err = avfilter_link(prev, 0, draw, 0)) < 0) return AvStatus("link filters", err);
    prev = draw;
  }
  AVFilterContext* fmt = nullptr;
  err = avfilter_graph_create_filter(&fmt, format, "format", "pix_fmts=yuv420p", nullptr,
                                     graph_.get());
  if (err < 0) return AvStatus("format filter", err);
  err = avfilter_graph_create_filter(&out_, sink, "out", nullptr, nullptr, graph_.get());
  if (err < 0) return AvStatus("sink filter", err);
  if ((err = avfilter_link(prev, 0, fmt, 0)) < 0 || (err = avfilter_link(fmt, 0, out_, 0)) < 0) {
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
  int packets = 0;
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
    if (++packets % 25 == 0 && cancelled && cancelled()) {
      return FailedPrecondition("export cancelled");
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

Status WriteBurnedInCopy(const std::string& input, const BurnInText& text, const TimeZone& zone,
                         const ByteSink& sink, const std::function<bool()>& cancelled) {
  BurnIn b(text, zone, sink);
  return b.Run(input, cancelled);
}

Result<media::FramePtr> DrawCaption(const AVFrame* picture, const std::string& caption) {
  const AVFilter* buffer = avfilter_get_by_name("buffer");
  const AVFilter* drawtext = avfilter_get_by_name("drawtext");
  const AVFilter* format = avfilter_get_by_name("format");
  const AVFilter* sink = avfilter_get_by_name("buffersink");
  if (!buffer || !drawtext || !format || !sink) {
    return Unavailable("this libavfilter has no drawtext filter; no caption can be drawn");
  }
  Graph graph(avfilter_graph_alloc());
  if (!graph) return ResourceExhausted("out of memory");
  const std::string src_args =
      "video_size=" + std::to_string(picture->width) + "x" + std::to_string(picture->height) +
      ":pix_fmt=" + std::to_string(picture->format) + ":time_base=1/25:pixel_aspect=" +
      std::to_string(std::max(1, picture->sample_aspect_ratio.num)) + "/" +
      std::to_string(std::max(1, picture->sample_aspect_ratio.den));
  AVFilterContext *src = nullptr, *draw = nullptr, *fmt = nullptr, *out = nullptr;
  int err =
      avfilter_graph_create_filter(&src, buffer, "in", src_args.c_str(), nullptr, graph.get());
  if (err < 0) return AvStatus("picture source filter", err);
  const std::string draw_args = CaptionStyle(picture->height) + ":text=" + LiteralText(caption);
  err = avfilter_graph_create_filter(&draw, drawtext, "drawtext", draw_args.c_str(), nullptr,
                                     graph.get());
  if (err < 0) return AvStatus("drawtext filter (a font must be installed)", err);
  err = avfilter_graph_create_filter(&fmt, format, "format", "pix_fmts=yuv420p", nullptr,
                                     graph.get());
  if (err < 0) return AvStatus("format filter", err);
  err = avfilter_graph_create_filter(&out, sink, "out", nullptr, nullptr, graph.get());
  if (err < 0) return AvStatus("sink filter", err);
  if ((err = avfilter_link(src, 0, draw, 0)) < 0 || (err = avfilter_link(draw, 0, fmt, 0)) < 0 ||
      (err = avfilter_link(fmt, 0, out, 0)) < 0) {
    return AvStatus("link filters", err);
  }
  if ((err = avfilter_graph_config(graph.get(), nullptr)) < 0) {
    return AvStatus("configure filters", err);
  }
  Frame in(av_frame_clone(picture));
  Frame drawn(av_frame_alloc());
  if (!in || !drawn) return ResourceExhausted("out of memory");
  in->pts = 0;
  if ((err = av_buffersrc_add_frame(src, in.get())) < 0 ||
      (err = av_buffersrc_add_frame(src, nullptr)) < 0) {
    return AvStatus("caption filter input", err);
  }
  if ((err = av_buffersink_get_frame(out, drawn.get())) < 0) {
    return AvStatus("caption filter output", err);
  }
  return drawn;
}

}  // namespace custodian::exports
