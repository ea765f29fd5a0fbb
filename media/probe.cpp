#include "media/probe.h"

#include "media/av_util.h"

namespace custodian::media {

Result<FileProbe> ProbeFile(const std::string& path, bool decode) {
  AVFormatContext* raw = nullptr;
  int rc = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (rc < 0) return AvStatus("open " + path, rc);
  InputContext ic(raw);
  rc = avformat_find_stream_info(raw, nullptr);
  if (rc < 0) return AvStatus("read stream info of " + path, rc);

  FileProbe out;
  int v = av_find_best_stream(raw, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (v < 0) return DataLoss(path + " has no video stream");
  int a = av_find_best_stream(raw, AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  const AVStream* vs = raw->streams[v];
  out.video_codec = CodecName(vs->codecpar->codec_id);
  out.width = vs->codecpar->width;
  out.height = vs->codecpar->height;
  if (a >= 0) out.audio_codec = CodecName(raw->streams[a]->codecpar->codec_id);

  CodecContext dec;
  FramePtr frame;
  if (decode) {
    const AVCodec* codec = avcodec_find_decoder(vs->codecpar->codec_id);
    if (!codec) return FailedPrecondition("no decoder for " + out.video_codec);
    dec.reset(avcodec_alloc_context3(codec));
    avcodec_parameters_to_context(dec.get(), vs->codecpar);
    dec->err_recognition = AV_EF_EXPLODE;
    if ((rc = avcodec_open2(dec.get(), codec, nullptr)) < 0) return AvStatus("open decoder", rc);
    frame.reset(av_frame_alloc());
    out.decode_errors = 0;
  }

  Packet pkt = MakePacket();
  int64_t first = AV_NOPTS_VALUE, end = 0;
  std::vector<int64_t> frame_ts;
  auto drain = [&] {
    while (avcodec_receive_frame(dec.get(), frame.get()) == 0) {
      frame_ts.push_back(frame->best_effort_timestamp);
      av_frame_unref(frame.get());
    }
  };
  while ((rc = av_read_frame(raw, pkt.get())) >= 0) {
    if (pkt->stream_index == v) {
      ++out.video_frames;
      if (pkt->flags & AV_PKT_FLAG_KEY) ++out.keyframes;
      int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
      if (ts != AV_NOPTS_VALUE) {
        if (first == AV_NOPTS_VALUE || ts < first) first = ts;
        int64_t e = ts + (pkt->duration > 0 ? pkt->duration : 0);
        if (e > end) end = e;
      }
      if (dec) {
        if (avcodec_send_packet(dec.get(), pkt.get()) < 0) ++out.decode_errors;
        drain();
      }
    }
    av_packet_unref(pkt.get());
  }
  if (rc != AVERROR_EOF) return AvStatus("read " + path, rc);
  if (dec) {
    avcodec_send_packet(dec.get(), nullptr);
    drain();
  }
  // With B-frames stored as negative composition offsets (trun version 1), libavformat
  // shifts presentation times forward by the largest offset: the file starts at `first`.
  if (first != AV_NOPTS_VALUE)
    out.duration_us = av_rescale_q(end - first, vs->time_base, AVRational{1, 1000000});
  for (int64_t ts : frame_ts) {
    out.frame_times_us.push_back(
        ts == AV_NOPTS_VALUE || first == AV_NOPTS_VALUE
            ? ts
            : av_rescale_q(ts - first, vs->time_base, AVRational{1, 1000000}));
  }
  return out;
}

}  // namespace custodian::media
