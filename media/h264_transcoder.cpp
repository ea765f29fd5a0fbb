#include "media/h264_transcoder.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cmath>
#include <cstring>

#include "media/av_util.h"

namespace custodian::media {

namespace {

constexpr int kIoBufferBytes = 64 * 1024;
// libx264 at its cheapest: the transcode serves a viewer on a box that is recording.
constexpr const char* kPreset = "ultrafast";
constexpr const char* kCrf = "26";
constexpr const char* kMovFlags = "empty_moov+default_base_moof+frag_custom+skip_trailer";

// Bytes in memory read as a file by libavformat.
struct MemoryInput {
  std::string data;
  size_t pos = 0;

  static int Read(void* opaque, uint8_t* buf, int size) {
    auto* in = static_cast<MemoryInput*>(opaque);
    const size_t n = std::min<size_t>(static_cast<size_t>(size), in->data.size() - in->pos);
    if (n == 0) return AVERROR_EOF;
    std::memcpy(buf, in->data.data() + in->pos, n);
    in->pos += n;
    return static_cast<int>(n);
  }
  static int64_t Seek(void* opaque, int64_t offset, int whence) {
    auto* in = static_cast<MemoryInput*>(opaque);
    const auto size = static_cast<int64_t>(in->data.size());
    if (whence & AVSEEK_SIZE) return size;
    int64_t to = offset;
    if ((whence & 3) == SEEK_CUR) to += static_cast<int64_t>(in->pos);
    if ((whence & 3) == SEEK_END) to += size;
    if (to < 0 || to > size) return AVERROR(EINVAL);
    in->pos = static_cast<size_t>(to);
    return to;
  }
};

IoContext MakeIo(void* opaque, bool write, int (*read)(void*, uint8_t*, int),
                 int (*write_cb)(void*, uint8_t*, int), int64_t (*seek)(void*, int64_t, int)) {
  auto* buffer = static_cast<uint8_t*>(av_malloc(kIoBufferBytes));
  if (!buffer) return nullptr;
  AVIOContext* io =
      avio_alloc_context(buffer, kIoBufferBytes, write ? 1 : 0, opaque, read, write_cb, seek);
  if (!io) av_free(buffer);
  return IoContext(io);
}

// Even dimensions no larger than the limits, keeping the picture's shape.
std::pair<int, int> FitSize(int width, int height, const TranscodeSize& limit) {
  double scale = std::min({1.0, static_cast<double>(limit.max_width) / width,
                           static_cast<double>(limit.max_height) / height});
  int w = static_cast<int>(std::lround(width * scale)) & ~1;
  int h = static_cast<int>(std::lround(height * scale)) & ~1;
  return {std::max(w, 2), std::max(h, 2)};
}

}  // namespace

struct H264Transcoder::Impl {
  TranscodeSize size;
  std::string output;
  bool finished = false;
  int64_t pictures = 0;

  AVRational input_time_base{0, 1};
  AVRational frame_rate{25, 1};  // for the encoder's rate control; the file's when it says
  CodecContext decoder;
  CodecContext encoder;
  Scaler scaler;
  FramePtr decoded{av_frame_alloc()};
  FramePtr scaled;
  int source_width = 0, source_height = 0;
  int source_format = -1;
  int64_t first_pts = AV_NOPTS_VALUE;
  int64_t last_pts = AV_NOPTS_VALUE;

  IoContext out_io;
  OutputContext muxer;
  AVStream* out_stream = nullptr;
  bool fragment_open = false;

  static int Write(void* opaque, uint8_t* buf, int size) {
    static_cast<Impl*>(opaque)->output.append(reinterpret_cast<const char*>(buf),
                                              static_cast<size_t>(size));
    return size;
  }

  Status OpenDecoder(const AVStream* stream) {
    const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
    if (!codec) return DataLoss("no decoder for " + CodecName(stream->codecpar->codec_id));
    decoder.reset(avcodec_alloc_context3(codec));
    if (!decoder) return ResourceExhausted("out of memory");
    int rc = avcodec_parameters_to_context(decoder.get(), stream->codecpar);
    if (rc < 0) return AvStatus("decoder parameters", rc);
    decoder->thread_count = 1;  // one core per transcode; frame threads would add delay
    decoder->pkt_timebase = stream->time_base;
    rc = avcodec_open2(decoder.get(), codec, nullptr);
    if (rc < 0) return AvStatus("open decoder", rc);
    input_time_base = stream->time_base;
    if (stream->avg_frame_rate.num > 0 && stream->avg_frame_rate.den > 0) {
      frame_rate = stream->avg_frame_rate;
    }
    return Status::Ok();
  }

  Status OpenEncoder(const AVFrame* first) {
    const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
    if (!codec) return Internal("this libavcodec has no libx264 encoder");
    source_width = first->width;
    source_height = first->height;
    source_format = first->format;
    auto [w, h] = FitSize(first->width, first->height, size);
    encoder.reset(avcodec_alloc_context3(codec));
    if (!encoder) return ResourceExhausted("out of memory");
    encoder->width = w;
    encoder->height = h;
    encoder->pix_fmt = AV_PIX_FMT_YUV420P;
    encoder->time_base = input_time_base;
    encoder->framerate = frame_rate;
    encoder->gop_size = 1000;  // keyframes follow the input's (below), not a fixed cadence
    encoder->max_b_frames = 0;
    encoder->thread_count = 1;
    encoder->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary* raw = nullptr;
    av_dict_set(&raw, "preset", kPreset, 0);
    av_dict_set(&raw, "tune", "zerolatency", 0);
    av_dict_set(&raw, "crf", kCrf, 0);
    av_dict_set(&raw, "forced-idr", "1", 0);
    std::unique_ptr<AVDictionary, DictFreer> opts(raw);
    int rc = avcodec_open2(encoder.get(), codec, &raw);
    opts.release();
    opts.reset(raw);
    if (rc < 0) return AvStatus("open the H.264 encoder", rc);

    scaler.reset(sws_getContext(first->width, first->height,
                                static_cast<AVPixelFormat>(first->format), w, h,
                                AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr, nullptr, nullptr));
    if (!scaler) return Internal("no scaler for this picture format");
    scaled.reset(av_frame_alloc());
    if (!scaled) return ResourceExhausted("out of memory");
    scaled->format = AV_PIX_FMT_YUV420P;
    scaled->width = w;
    scaled->height = h;
    rc = av_frame_get_buffer(scaled.get(), 0);
    if (rc < 0) return AvStatus("picture buffer", rc);
    return OpenMuxer();
  }

  Status OpenMuxer() {
    AVFormatContext* raw = nullptr;
    int rc = avformat_alloc_output_context2(&raw, nullptr, "mp4", nullptr);
    if (rc < 0) return AvStatus("mp4 muxer", rc);
    muxer.reset(raw);
    out_io = MakeIo(this, true, nullptr, &Impl::Write, nullptr);
    if (!out_io) return ResourceExhausted("out of memory");
    out_io->seekable = 0;
    muxer->pb = out_io.get();
    muxer->flags |= AVFMT_FLAG_CUSTOM_IO;
    out_stream = avformat_new_stream(muxer.get(), nullptr);
    if (!out_stream) return ResourceExhausted("out of memory");
    rc = avcodec_parameters_from_context(out_stream->codecpar, encoder.get());
    if (rc < 0) return AvStatus("stream parameters", rc);
    out_stream->time_base = encoder->time_base;
    AVDictionary* opts = nullptr;
    av_dict_set(&opts, "movflags", kMovFlags, 0);
    rc = avformat_write_header(muxer.get(), &opts);
    av_dict_free(&opts);
    if (rc < 0) return AvStatus("write the H.264 init section", rc);
    avio_flush(muxer->pb);
    return Status::Ok();
  }

  Status DrainEncoder() {
    Packet pkt = MakePacket();
    if (!pkt) return ResourceExhausted("out of memory");
    for (;;) {
      int rc = avcodec_receive_packet(encoder.get(), pkt.get());
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return Status::Ok();
      if (rc < 0) return AvStatus("encode", rc);
      av_packet_rescale_ts(pkt.get(), encoder->time_base, out_stream->time_base);
      pkt->stream_index = 0;
      rc = av_write_frame(muxer.get(), pkt.get());
      av_packet_unref(pkt.get());
      if (rc < 0) return AvStatus("write an H.264 picture", rc);
      fragment_open = true;
    }
  }

  Status Encode(AVFrame* frame) {
    if (!encoder) CUSTODIAN_RETURN_IF_ERROR(OpenEncoder(frame));
    if (frame->width != source_width || frame->height != source_height ||
        frame->format != source_format) {
      return DataLoss("the picture size changed within one file");
    }
    int rc = av_frame_make_writable(scaled.get());
    if (rc < 0) return AvStatus("picture buffer", rc);
    sws_scale(scaler.get(), frame->data, frame->linesize, 0, frame->height, scaled->data,
              scaled->linesize);
    int64_t pts = frame->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE) pts = last_pts == AV_NOPTS_VALUE ? 0 : last_pts + 1;
    if (first_pts == AV_NOPTS_VALUE) first_pts = pts;
    pts -= first_pts;
    if (last_pts != AV_NOPTS_VALUE && pts <= last_pts) pts = last_pts + 1;
    last_pts = pts;
    scaled->pts = pts;
    scaled->pict_type = frame->key_frame ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    rc = avcodec_send_frame(encoder.get(), scaled.get());
    if (rc < 0) return AvStatus("encode", rc);
    ++pictures;
    return DrainEncoder();
  }

  // Takes every picture the decoder has ready. Returns how many.
  Result<int> DrainDecoder() {
    int n = 0;
    for (;;) {
      int rc = avcodec_receive_frame(decoder.get(), decoded.get());
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return n;
      if (rc < 0) return AvStatus("decode", rc);
      Status s = Encode(decoded.get());
      av_frame_unref(decoded.get());
      CUSTODIAN_RETURN_IF_ERROR(s);
      ++n;
    }
  }

  Status FlushFragment() {
    if (!fragment_open) return Status::Ok();
    int rc = av_write_frame(muxer.get(), nullptr);
    if (rc < 0) return AvStatus("close an H.264 fragment", rc);
    avio_flush(muxer->pb);
    fragment_open = false;
    return Status::Ok();
  }

  Result<int> Feed(std::string_view init, std::string_view fragments) {
    if (finished) return FailedPrecondition("the transcode is finished");
    MemoryInput in;
    in.data.reserve(init.size() + fragments.size());
    in.data.append(init);
    in.data.append(fragments);
    IoContext io = MakeIo(&in, false, &MemoryInput::Read, nullptr, &MemoryInput::Seek);
    if (!io) return ResourceExhausted("out of memory");
    AVFormatContext* raw = avformat_alloc_context();
    if (!raw) return ResourceExhausted("out of memory");
    raw->pb = io.get();
    raw->flags |= AVFMT_FLAG_CUSTOM_IO;
    AVDictionary* opts = nullptr;
    av_dict_set(&opts, "use_tfdt", "1", 0);  // fragment times from the file, not from zero
    int rc = avformat_open_input(&raw, nullptr, av_find_input_format("mp4"), &opts);
    av_dict_free(&opts);
    if (rc < 0) return AvStatus("read the recorded fragments", rc);
    InputContext demuxer(raw);
    int video = av_find_best_stream(demuxer.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (video < 0) return DataLoss("the recording has no video track");
    if (!decoder) CUSTODIAN_RETURN_IF_ERROR(OpenDecoder(demuxer->streams[video]));

    Packet pkt = MakePacket();
    if (!pkt) return ResourceExhausted("out of memory");
    int encoded = 0;
    for (;;) {
      rc = av_read_frame(demuxer.get(), pkt.get());
      if (rc == AVERROR_EOF) break;
      if (rc < 0) return AvStatus("read the recorded fragments", rc);
      if (pkt->stream_index == video) {
        av_packet_rescale_ts(pkt.get(), demuxer->streams[video]->time_base, input_time_base);
        rc = avcodec_send_packet(decoder.get(), pkt.get());
        if (rc == AVERROR(EAGAIN)) {  // pictures waiting: take them, then send again
          auto n = DrainDecoder();
          if (!n.ok()) return n.status();
          encoded += *n;
          rc = avcodec_send_packet(decoder.get(), pkt.get());
        }
        // A damaged picture is skipped; the decoder recovers at the next keyframe.
        if (rc < 0 && rc != AVERROR_INVALIDDATA) {
          av_packet_unref(pkt.get());
          return AvStatus("decode", rc);
        }
      }
      av_packet_unref(pkt.get());
      auto n = DrainDecoder();
      if (!n.ok()) return n.status();
      encoded += *n;
    }
    CUSTODIAN_RETURN_IF_ERROR(FlushFragment());
    return encoded;
  }

  Status Finish() {
    if (finished) return Status::Ok();
    finished = true;
    if (!decoder) return Status::Ok();
    avcodec_send_packet(decoder.get(), nullptr);
    auto n = DrainDecoder();
    if (!n.ok()) return n.status();
    if (!encoder) return Status::Ok();
    avcodec_send_frame(encoder.get(), nullptr);
    CUSTODIAN_RETURN_IF_ERROR(DrainEncoder());
    CUSTODIAN_RETURN_IF_ERROR(FlushFragment());
    int rc = av_write_trailer(muxer.get());
    if (rc < 0) return AvStatus("finish the H.264 file", rc);
    avio_flush(muxer->pb);
    return Status::Ok();
  }
};

H264Transcoder::H264Transcoder(TranscodeSize size) : impl_(std::make_unique<Impl>()) {
  impl_->size = size;
}
H264Transcoder::~H264Transcoder() = default;

Result<int> H264Transcoder::Feed(std::string_view init, std::string_view fragments) {
  return impl_->Feed(init, fragments);
}
Status H264Transcoder::Finish() { return impl_->Finish(); }
const std::string& H264Transcoder::Output() const { return impl_->output; }
bool H264Transcoder::finished() const { return impl_->finished; }
int64_t H264Transcoder::pictures() const { return impl_->pictures; }

}  // namespace custodian::media
