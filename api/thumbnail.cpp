#include "api/thumbnail.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

#include <memory>

#include "exports/burned_copy.h"
#include "media/av_util.h"

namespace custodian::api {

namespace {

using media::AvStatus;
using media::CodecContext;
using Frame = media::FramePtr;


constexpr int kJpegQuality = 5;  // MJPEG qscale: 2 (best) .. 31

Result<CodecContext> OpenDecoder(const AVStream* stream) {
  const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
  if (!codec) return DataLoss("no decoder for " + media::CodecName(stream->codecpar->codec_id));
  CodecContext ctx(avcodec_alloc_context3(codec));
  if (!ctx) return ResourceExhausted("out of memory");
  int rc = avcodec_parameters_to_context(ctx.get(), stream->codecpar);
  if (rc < 0) return AvStatus("decoder parameters", rc);
  ctx->thread_count = 1;
  rc = avcodec_open2(ctx.get(), codec, nullptr);
  if (rc < 0) return AvStatus("open decoder", rc);
  return ctx;
}

// Decodes from the current position; returns the frame nearest target_pts.
Result<Frame> NearestFrame(AVFormatContext* fmt, int stream_index, AVCodecContext* dec,
                           int64_t target_pts) {
  Frame best, frame(av_frame_alloc());
  media::Packet pkt = media::MakePacket();
  if (!frame || !pkt) return ResourceExhausted("out of memory");
  auto distance = [&](const AVFrame* f) {
    int64_t d = f->best_effort_timestamp - target_pts;
    return d < 0 ? -d : d;
  };
  bool draining = false, past = false;
  while (!past) {
    if (!draining) {
      int rc = av_read_frame(fmt, pkt.get());
      if (rc == AVERROR_EOF) {
        draining = true;
        avcodec_send_packet(dec, nullptr);
      } else if (rc < 0) {
        return AvStatus("read", rc);
      } else {
        if (pkt->stream_index == stream_index) avcodec_send_packet(dec, pkt.get());
        av_packet_unref(pkt.get());
      }
    }
    for (;;) {
      int rc = avcodec_receive_frame(dec, frame.get());
      if (rc == AVERROR(EAGAIN)) break;
      if (rc == AVERROR_EOF) {
        if (best) return best;
        return DataLoss("no frame decoded");
      }
      if (rc < 0) return AvStatus("decode", rc);
      if (!best || distance(frame.get()) <= distance(best.get())) {
        best.reset(av_frame_clone(frame.get()));
      }
      if (frame->best_effort_timestamp >= target_pts) past = true;
      av_frame_unref(frame.get());
    }
  }
  if (!best) return DataLoss("no frame decoded");
  return best;
}

Result<std::string> EncodeJpeg(const AVFrame* src, int max_width) {
  int w = src->width, h = src->height;
  if (w > max_width) {
    h = static_cast<int>(static_cast<int64_t>(h) * max_width / w) & ~1;
    w = max_width;
  }
  Frame dst(av_frame_alloc());
  if (!dst) return ResourceExhausted("out of memory");
  dst->format = AV_PIX_FMT_YUV420P;
  dst->width = w;
  dst->height = h;
  dst->color_range = AVCOL_RANGE_JPEG;
  if (av_frame_get_buffer(dst.get(), 0) < 0) return ResourceExhausted("out of memory");
  media::Scaler sws(
      sws_getContext(src->width, src->height, static_cast<AVPixelFormat>(src->format), w, h,
                     AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr, nullptr, nullptr));
  if (!sws) return DataLoss("cannot convert the frame's pixel format");
  const int* coeffs = sws_getCoefficients(SWS_CS_DEFAULT);
  sws_setColorspaceDetails(sws.get(), coeffs, src->color_range == AVCOL_RANGE_JPEG, coeffs, 1, 0,
                           1 << 16, 1 << 16);
  sws_scale(sws.get(), src->data, src->linesize, 0, src->height, dst->data, dst->linesize);

  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (!codec) return Internal("FFmpeg has no MJPEG encoder");
  CodecContext enc(avcodec_alloc_context3(codec));
  if (!enc) return ResourceExhausted("out of memory");
  enc->width = w;
  enc->height = h;
  enc->pix_fmt = AV_PIX_FMT_YUV420P;
  enc->color_range = AVCOL_RANGE_JPEG;
  enc->time_base = AVRational{1, 25};
  enc->flags |= AV_CODEC_FLAG_QSCALE;
  enc->global_quality = FF_QP2LAMBDA * kJpegQuality;
  int rc = avcodec_open2(enc.get(), codec, nullptr);
  if (rc < 0) return AvStatus("open JPEG encoder", rc);
  dst->quality = enc->global_quality;
  rc = avcodec_send_frame(enc.get(), dst.get());
  if (rc < 0) return AvStatus("encode JPEG", rc);
  media::Packet pkt = media::MakePacket();
  rc = avcodec_receive_packet(enc.get(), pkt.get());
  if (rc < 0) return AvStatus("encode JPEG", rc);
  return std::string(reinterpret_cast<const char*>(pkt->data), pkt->size);
}

}  // namespace

namespace {

// The decoded frame of a segment nearest offset_us.
Result<Frame> FrameAt(const std::string& path, int64_t offset_us) {
  AVFormatContext* raw = nullptr;
  int rc = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (rc < 0) return AvStatus("open segment", rc);
  media::InputContext fmt(raw);
  rc = avformat_find_stream_info(fmt.get(), nullptr);
  if (rc < 0) return AvStatus("read stream info", rc);
  int index = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (index < 0) return DataLoss("the segment has no video stream");
  const AVStream* stream = fmt->streams[index];
  const int64_t origin = stream->start_time == AV_NOPTS_VALUE ? 0 : stream->start_time;
  const int64_t target = origin + av_rescale_q(offset_us < 0 ? 0 : offset_us,
                                               AVRational{1, 1000000}, stream->time_base);
  rc = av_seek_frame(fmt.get(), index, target, AVSEEK_FLAG_BACKWARD);
  if (rc < 0) return AvStatus("seek", rc);
  auto dec = OpenDecoder(stream);
  if (!dec.ok()) return dec.status();
  return NearestFrame(fmt.get(), index, dec->get(), target);
}

}  // namespace

Result<std::string> RenderThumbnailJpeg(const std::string& path, int64_t offset_us, int max_width) {
  auto frame = FrameAt(path, offset_us);
  if (!frame.ok()) return frame.status();
  return EncodeJpeg(frame->get(), max_width);
}

Result<std::string> RenderStillJpeg(const std::string& path, int64_t offset_us,
                                    const std::string& caption) {
  auto frame = FrameAt(path, offset_us);
  if (!frame.ok()) return frame.status();
  auto drawn = exports::DrawCaption(frame->get(), caption);
  if (!drawn.ok()) return drawn.status();
  return EncodeJpeg(drawn->get(), (*drawn)->width);
}

}  // namespace custodian::api
