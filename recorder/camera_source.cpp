#include "recorder/camera_source.h"

#include <cctype>
#include <cstdio>

#include "base/clock.h"

#include "media/access_unit.h"
#include "media/dts_rebuilder.h"
#include "media/fmp4_writer.h"
#include "media/rtsp/parameter_sets.h"
#include "media/rtsp/rtsp_tcp_source.h"

extern "C" {
#include <libavutil/mathematics.h>
}

namespace custodian::recorder {

namespace {

bool IsRecordableVideo(const AVCodecParameters* p) {
  return p->codec_type == AVMEDIA_TYPE_VIDEO &&
         (p->codec_id == AV_CODEC_ID_H264 || p->codec_id == AV_CODEC_ID_HEVC);
}

std::string AudioNote(const std::string& what) {
  return "camera audio " + what + " cannot be stored in MP4; audio not recorded";
}

// RTSP over TCP with the project's own client.
class RtspTcpCameraSource final : public CameraSource {
 public:
  explicit RtspTcpCameraSource(std::unique_ptr<media::rtsp::RtspTcpSource> src) : src_(std::move(src)) {
    for (int i = 0; i < src_->stream_count(); ++i) {
      const AVCodecParameters* p = src_->codecpar(i);
      if (video_ < 0 && IsRecordableVideo(p)) video_ = i;
      else if (audio_ < 0 && p->codec_type == AVMEDIA_TYPE_AUDIO && media::Mp4CanStore(p)) audio_ = i;
    }
    for (const std::string& skipped : src_->skipped_tracks())
      if (skipped.rfind("audio", 0) == 0 && audio_ < 0) audio_note_ = AudioNote("(" + skipped + ")");
  }
  int video_stream() const override { return video_; }
  int audio_stream() const override { return audio_; }
  const AVCodecParameters* codecpar(int s) const override { return src_->codecpar(s); }
  AVRational time_base(int s) const override { return src_->time_base(s); }
  Status Read(AVPacket* out, int* stream, int64_t stall_timeout_us, SourceEnd* end) override {
    for (;;) {
      Status st = src_->ReadPacket(out, stream, stall_timeout_us);
      if (st.ok()) {
        if (*stream == video_ || *stream == audio_) return st;
        av_packet_unref(out);
        continue;
      }
      switch (src_->end_reason()) {
        case media::rtsp::RtspEnd::kStalled: *end = SourceEnd::kStalled; break;
        case media::rtsp::RtspEnd::kCancelled: *end = SourceEnd::kCancelled; break;
        case media::rtsp::RtspEnd::kClosed:
        case media::rtsp::RtspEnd::kConnectionLost: *end = SourceEnd::kEnded; break;
        default: *end = SourceEnd::kError; break;
      }
      return st;
    }
  }
  std::optional<UtcMicros> CameraWallClock(int64_t pts, int stream) const override {
    return src_->CameraWallClock(pts, stream);
  }

 private:
  std::unique_ptr<media::rtsp::RtspTcpSource> src_;
  int video_ = -1;
  int audio_ = -1;
};

// libavformat: RTSP over UDP, or any input it opens.
class LibavCameraSource final : public CameraSource {
 public:
  static Result<std::unique_ptr<CameraSource>> Open(const SourceRequest& r, SourceEnd* end);
  int video_stream() const override { return video_; }
  int audio_stream() const override { return audio_; }
  const AVCodecParameters* codecpar(int s) const override { return input_->streams[s]->codecpar; }
  AVRational time_base(int s) const override { return input_->streams[s]->time_base; }
  Status Read(AVPacket* out, int* stream, int64_t stall_timeout_us, SourceEnd* end) override;
  std::optional<UtcMicros> CameraWallClock(int64_t pts, int stream) const override;

 private:
  static int OnInterrupt(void* self);
  void Arm(int64_t timeout_us) { deadline_ = SystemClock::Instance().Monotonic().us + timeout_us; }
  bool Expired() const { return SystemClock::Instance().Monotonic().us > deadline_; }

  media::InputContext input_;
  std::atomic<bool>* cancel_ = nullptr;
  int64_t deadline_ = 0;
  int video_ = -1;
  int audio_ = -1;
  media::AccessUnitAssembler assembler_;
  media::Packet pkt_ = media::MakePacket();
  bool flushed_ = false;
};

int LibavCameraSource::OnInterrupt(void* opaque) {
  auto* self = static_cast<LibavCameraSource*>(opaque);
  return (self->cancel_ && self->cancel_->load()) || self->Expired() ? 1 : 0;
}

Result<std::unique_ptr<CameraSource>> LibavCameraSource::Open(const SourceRequest& r, SourceEnd* end) {
  std::unique_ptr<LibavCameraSource> s(new LibavCameraSource());
  s->cancel_ = r.cancel;
  AVFormatContext* ic = avformat_alloc_context();
  ic->interrupt_callback = AVIOInterruptCB{&OnInterrupt, s.get()};
  AVDictionary* opts = nullptr;
  if (r.url.rfind("rtsp", 0) == 0) {
    av_dict_set(&opts, "rtsp_transport", r.tcp ? "tcp" : "udp", 0);
    av_dict_set_int(&opts, "timeout", r.connect_timeout_us, 0);
  }
  av_dict_set_int(&opts, "analyzeduration", 2'000'000, 0);  // a GOP brings the parameter sets
  s->Arm(r.connect_timeout_us);
  // libavformat takes credentials in the URL; it stays in memory, never in a log.
  const std::string url = UrlWithCredentials(r.url, r.username, r.password);
  int rc = avformat_open_input(&ic, url.c_str(), nullptr, &opts);
  av_dict_free(&opts);
  if (rc < 0) {
    *end = (rc == AVERROR_HTTP_UNAUTHORIZED || rc == AVERROR_HTTP_FORBIDDEN) ? SourceEnd::kAuthFailed
                                                                               : SourceEnd::kError;
    return media::AvStatus(std::string("connect over ") + (r.tcp ? "tcp" : "udp"), rc);
  }
  s->input_.reset(ic);
  s->Arm(r.connect_timeout_us + 2'000'000);
  const int64_t probe_start_us = SystemClock::Instance().Monotonic().us;
  rc = avformat_find_stream_info(ic, nullptr);
  s->startup_delay_us_ = SystemClock::Instance().Monotonic().us - probe_start_us;
  if (rc < 0) {
    *end = SourceEnd::kError;
    return media::AvStatus("read stream info", rc);
  }
  for (unsigned i = 0; i < ic->nb_streams; ++i) {
    const AVCodecParameters* p = ic->streams[i]->codecpar;
    if (s->video_ < 0 && IsRecordableVideo(p)) {
      s->video_ = static_cast<int>(i);
    } else if (p->codec_type == AVMEDIA_TYPE_AUDIO && s->audio_ < 0) {
      if (media::Mp4CanStore(p)) s->audio_ = static_cast<int>(i);
      else s->audio_note_ = AudioNote(media::CodecName(p->codec_id));
    }
  }
  if (s->audio_ >= 0) s->audio_note_.clear();
  return std::unique_ptr<CameraSource>(std::move(s));
}

Status LibavCameraSource::Read(AVPacket* out, int* stream, int64_t stall_timeout_us, SourceEnd* end) {
  for (;;) {
    if (flushed_) {
      *end = SourceEnd::kEnded;
      return Unavailable("the camera ended the stream");
    }
    Arm(stall_timeout_us);
    int rc = av_read_frame(input_.get(), pkt_.get());
    if (rc < 0) {
      // The frame in the assembler is whole once the stream has ended: hand it over first.
      if (assembler_.Flush(out)) {
        *stream = video_;
        flushed_ = true;
        return Status::Ok();
      }
      if (cancel_ && cancel_->load()) {
        *end = SourceEnd::kCancelled;
        return FailedPrecondition("cancelled");
      }
      if (Expired()) {
        *end = SourceEnd::kStalled;
        return Unavailable("no packet for " + std::to_string(stall_timeout_us / 1'000'000) + " s");
      }
      *end = SourceEnd::kEnded;
      return Unavailable(rc == AVERROR_EOF ? "the camera ended the stream" : media::AvErrorString(rc));
    }
    const int in = pkt_->stream_index;
    if (in == video_) {
      if (assembler_.Push(pkt_.get(), out)) {
        *stream = video_;
        return Status::Ok();
      }
    } else if (in == audio_) {
      av_packet_move_ref(out, pkt_.get());
      *stream = audio_;
      return Status::Ok();
    } else {
      av_packet_unref(pkt_.get());
    }
  }
}

std::optional<UtcMicros> LibavCameraSource::CameraWallClock(int64_t pts, int stream) const {
  const AVFormatContext* ic = input_.get();
  if (ic->start_time_realtime == AV_NOPTS_VALUE || ic->start_time_realtime <= 0) return std::nullopt;
  // RTCP sender reports map the stream's start to the camera's wall clock.
  int64_t pts_us = av_rescale_q(pts, ic->streams[stream]->time_base, AVRational{1, 1'000'000});
  int64_t start_us = ic->start_time != AV_NOPTS_VALUE ? ic->start_time : 0;
  return UtcMicros{ic->start_time_realtime + (pts_us - start_us)};
}

// Extradata in Annex B (start codes), as RTSP gives it: its SPS can be read, and so can
// those sent in-band before keyframes. (Files give avcC/hvcC, length-prefixed.)
bool IsAnnexB(const AVCodecParameters* p) {
  const uint8_t* d = p->extradata;
  const int n = p->extradata_size;
  return d && ((n >= 3 && d[0] == 0 && d[1] == 0 && d[2] == 1) ||
               (n >= 4 && d[0] == 0 && d[1] == 0 && d[2] == 0 && d[3] == 1));
}

// The reorder depth an Annex B keyframe's SPS gives, or -1.
int KeyframeReorderDepth(AVCodecID codec, const AVPacket& pkt) {
  namespace rtsp = media::rtsp;
  const bool h264 = codec == AV_CODEC_ID_H264;
  int depth = -1;
  bool found = false;
  auto each_nal = [&](const uint8_t* nal, size_t n) {
    rtsp::SpsInfo sps;
    if (found || (h264 ? (nal[0] & 0x1f) != 7 : ((nal[0] >> 1) & 0x3f) != 33)) return;
    found = h264 ? rtsp::ParseH264Sps(nal, n, &sps) : rtsp::ParseH265Sps(nal, n, &sps);
    if (found) depth = sps.reorder_depth;
  };
  rtsp::ForEachAnnexBNal(pkt.data, static_cast<size_t>(pkt.size), each_nal);
  return depth;
}

// Gives the video frames of any source decode times (media::DtsRebuilder): the camera's
// timestamp is the presentation time, and with B-frames frames arrive out of that order.
// Audio passes straight through. When the inner source ends, the frames held at the start
// of a timeline are handed out before the end is reported.
class TimedCameraSource final : public CameraSource {
 public:
  explicit TimedCameraSource(std::unique_ptr<CameraSource> inner)
      : inner_(std::move(inner)),
        video_(inner_->video_stream()),
        timeline_(TicksPerSecond(inner_.get(), video_),
                  TicksPerSecond(inner_.get(), video_) * (kDiscontinuityUs / kMicrosPerSecond)) {
    audio_note_ = inner_->audio_note();
    startup_delay_us_ = inner_->startup_delay_us();
    if (video_ < 0) return;
    const AVCodecParameters* par = inner_->codecpar(video_);
    codec_ = par->codec_id;
    annex_b_ = IsAnnexB(par);
    int depth = annex_b_ ? media::rtsp::ReorderDepthFromExtradata(par) : -1;
    // libavformat's own estimate, from its decoder's look at the SPS (files, avcC).
    if (depth < 0 && !annex_b_ && par->video_delay > 0) depth = par->video_delay;
    timeline_.SetReorderDepth(depth);
  }
  int video_stream() const override { return video_; }
  int audio_stream() const override { return inner_->audio_stream(); }
  const AVCodecParameters* codecpar(int s) const override { return inner_->codecpar(s); }
  AVRational time_base(int s) const override { return inner_->time_base(s); }
  std::optional<UtcMicros> CameraWallClock(int64_t pts, int stream) const override {
    return inner_->CameraWallClock(pts, stream);
  }
  std::string timing_note() const override { return timeline_.untimed_note(); }

  Status Read(AVPacket* out, int* stream, int64_t stall_timeout_us, SourceEnd* end) override {
    for (;;) {
      if (timeline_.Pop(out)) {
        *stream = video_;
        return Status::Ok();
      }
      if (ended_) {
        *end = end_;
        return end_status_;
      }
      Status st = inner_->Read(pkt_.get(), stream, stall_timeout_us, end);
      if (!st.ok()) {
        timeline_.Flush();
        ended_ = true;
        end_ = *end;
        end_status_ = st;
        continue;
      }
      if (*stream != video_) {
        av_packet_move_ref(out, pkt_.get());
        return st;
      }
      // A keyframe may bring a new SPS, with a deeper reorder depth.
      if (annex_b_ && (pkt_->flags & AV_PKT_FLAG_KEY))
        timeline_.SetReorderDepth(KeyframeReorderDepth(codec_, *pkt_));
      timeline_.Push(pkt_.get());
    }
  }

 private:
  static int64_t TicksPerSecond(const CameraSource* s, int stream) {
    if (stream < 0) return 90000;
    return av_rescale_q(kMicrosPerSecond, AVRational{1, 1'000'000}, s->time_base(stream));
  }

  std::unique_ptr<CameraSource> inner_;
  const int video_;
  media::DtsRebuilder timeline_;
  AVCodecID codec_ = AV_CODEC_ID_NONE;
  bool annex_b_ = false;
  media::Packet pkt_ = media::MakePacket();
  bool ended_ = false;
  SourceEnd end_ = SourceEnd::kNone;
  Status end_status_;
};

}  // namespace

std::string UrlWithCredentials(const std::string& url, const std::string& user,
                               const std::string& password) {
  if (user.empty()) return url;
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto encode = [](const std::string& in) {
    std::string out;
    for (unsigned char c : in) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out += static_cast<char>(c);
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        out += buf;
      }
    }
    return out;
  };
  std::string userinfo = encode(user);
  if (!password.empty()) userinfo += ":" + encode(password);
  return url.substr(0, scheme + 3) + userinfo + "@" + url.substr(scheme + 3);
}

Result<std::unique_ptr<CameraSource>> OpenCameraSource(const SourceRequest& r, SourceEnd* end) {
  *end = SourceEnd::kError;
  const bool tls = r.url.rfind("rtsps://", 0) == 0;
  if (tls && !r.tcp) {
    // libavformat would take any certificate: an rtsps:// camera is never read by it.
    return InvalidArgument("an rtsps:// camera is read over TCP only");
  }
  if (r.tcp && (tls || r.url.rfind("rtsp://", 0) == 0)) {
    media::rtsp::RtspSourceOptions options;
    options.connect_timeout_us = r.connect_timeout_us;
    options.allow_basic_auth = r.allow_basic_auth;
    options.check_certificate = r.check_certificate;
    auto src = media::rtsp::RtspTcpSource::Open(r.url, r.username, r.password, options, r.cancel);
    if (!src.ok()) {
      if (src.status().kind() == ErrorKind::kUnauthenticated ||
          src.status().kind() == ErrorKind::kPermissionDenied)
        *end = SourceEnd::kAuthFailed;
      if (src.status().kind() == ErrorKind::kUnauthenticated &&
          src.status().message().find(media::rtsp::kBasicRefusedMessage) != std::string::npos)
        *end = SourceEnd::kBasicRefused;
      if (src.status().kind() == ErrorKind::kFailedPrecondition && r.cancel && r.cancel->load())
        *end = SourceEnd::kCancelled;
      if (src.status().message().find(kCertificateChangedMessage) != std::string::npos)
        *end = SourceEnd::kCertificateChanged;
      return Status(src.status().kind(), "connect over tcp: " + src.status().message());
    }
    return std::unique_ptr<CameraSource>(new TimedCameraSource(
        std::make_unique<RtspTcpCameraSource>(std::move(src).value())));
  }
  // libavformat's RTSP client answers whichever challenge the camera sends, Basic included,
  // and has no option to refuse it: over plain RTSP it is given no password unless the
  // camera may use Basic. Nothing is connected in that case.
  if (r.url.rfind("rtsp://", 0) == 0 && !r.password.empty() && !r.allow_basic_auth) {
    *end = SourceEnd::kBasicRefused;
    return Unauthenticated(std::string(kUdpPasswordRefused));
  }
  auto src = LibavCameraSource::Open(r, end);
  if (!src.ok()) return src.status();
  return std::unique_ptr<CameraSource>(new TimedCameraSource(std::move(src).value()));
}

}  // namespace custodian::recorder
