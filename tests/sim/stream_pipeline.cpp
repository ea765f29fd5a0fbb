#include "tests/sim/stream_pipeline.h"

#include <gst/rtp/gstrtcpbuffer.h>
#include <gst/video/video-event.h>

#include "base/clock.h"
#include "tests/sim/clip_feeder.h"
#include "tests/sim/gst_handles.h"

namespace custodian::sim {

namespace {

constexpr int kVideoPayloadType = 96;
constexpr int kAudioPayloadType = 97;
constexpr int kPatternAudioBitrate = 64000;

const char* Payloader(VideoCodec codec) {
  return codec == VideoCodec::kH265 ? "rtph265pay" : "rtph264pay";
}

// config-interval=-1: parameter sets before every keyframe, for clients joining mid-stream.
std::string VideoPay(VideoCodec codec) {
  return std::string(Payloader(codec)) + " name=pay0 pt=" + std::to_string(kVideoPayloadType) +
         " config-interval=-1";
}

std::string AudioPay() { return "rtpmp4gpay name=pay1 pt=" + std::to_string(kAudioPayloadType); }

std::string PatternDescription(const MediaSpec& m) {
  // One slice per frame, as cameras send: ffmpeg's RTSP demuxer splits multi-slice frames.
  std::string enc = m.codec == VideoCodec::kH265 ? "x265enc" : "x264enc sliced-threads=false";
  // zerolatency turns B-frames off, and so does x264's ultrafast preset: a B-frame pattern
  // goes without the one, and for H.264 with veryfast (as the clips are encoded).
  std::string options = "scenecut=0";
  std::string preset = "ultrafast";
  if (m.bframes == 0) {
    enc += " tune=zerolatency";
  } else if (m.codec == VideoCodec::kH265) {
    options += ":bframes=" + std::to_string(m.bframes) + ":b-adapt=0:b-pyramid=1:open-gop=0";
  } else {
    enc += " bframes=" + std::to_string(m.bframes) + " b-adapt=0 b-pyramid=true";
    preset = "veryfast";
  }
  std::string parse = m.codec == VideoCodec::kH265 ? "h265parse" : "h264parse";
  // rtph264pay's caps let x264 settle on Constrained Baseline, which has no B-frames.
  if (m.bframes > 0 && m.codec == VideoCodec::kH264) {
    parse = "video/x-h264,profile=main ! " + parse;
  }
  std::string desc =
      "videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=" +
      std::to_string(m.width) + ",height=" + std::to_string(m.height) +
      ",framerate=" + std::to_string(m.fps) + "/1 ! " + enc +
      " speed-preset=" + preset + " bitrate=" + std::to_string(m.bitrate_kbps) +
      " key-int-max=" + std::to_string(EffectiveGop(m)) + " option-string=" + options + " ! " +
      parse + " ! " + VideoPay(m.codec);
  if (m.audio) {
    desc +=
        " audiotestsrc is-live=true wave=sine freq=440 volume=0.2"
        " ! audio/x-raw,rate=48000,channels=1 ! audioconvert ! voaacenc bitrate=" +
        std::to_string(kPatternAudioBitrate) + " ! aacparse ! " + AudioPay();
  }
  return desc;
}

std::string FileDescription(const Clip& clip) {
  std::string desc = "appsrc name=vsrc ! clocksync ! " + VideoPay(clip.codec());
  if (clip.audio()) desc += " appsrc name=asrc ! clocksync ! " + AudioPay();
  return desc;
}

int64_t NowMonotonicUs() { return SystemClock::Instance().Monotonic().us; }

// Drops a payloader's input while its stream is stalled. Video then resumes at a keyframe
// (asking an encoder upstream for one), so clients see a gap rather than corrupt frames.
struct StallGate {
  std::shared_ptr<SimStream> stream;  // the probe may outlive the Simulator
  bool video;
  bool stalled = false;
  bool awaiting_keyframe = false;
};

GstPadProbeReturn OnPayloaderInput(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* gate = static_cast<StallGate*>(data);
  if (NowMonotonicUs() < gate->stream->stalled_until_us.load()) {
    gate->stalled = true;
    return GST_PAD_PROBE_DROP;
  }
  if (gate->stalled) {
    gate->stalled = false;
    if (gate->video) {
      gate->awaiting_keyframe = true;
      gst_pad_push_event(pad,
                         gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
    }
  }
  if (gate->awaiting_keyframe) {
    if (GST_BUFFER_FLAG_IS_SET(GST_PAD_PROBE_INFO_BUFFER(info), GST_BUFFER_FLAG_DELTA_UNIT)) {
      return GST_PAD_PROBE_DROP;
    }
    gate->awaiting_keyframe = false;
  }
  return GST_PAD_PROBE_OK;
}

void AddStallGate(const std::shared_ptr<SimStream>& stream, GstBin* bin, const char* payloader,
                  bool video) {
  ElementPtr pay(gst_bin_get_by_name(bin, payloader));
  if (!pay) return;
  PadPtr sink(gst_element_get_static_pad(pay.get(), "sink"));
  gst_pad_add_probe(sink.get(), GST_PAD_PROBE_TYPE_BUFFER, OnPayloaderInput,
                    new StallGate{stream, video},
                    [](gpointer p) { delete static_cast<StallGate*>(p); });
}

// A camera whose clock is wrong: its sender reports pair the RTP time with its own idea of
// the wall time. The NTP timestamp is 32.32 fixed point, so whole seconds go in the high
// word (modulo 2^64, which a negative offset relies on).
gboolean OnSendingRtcp(GObject*, GstBuffer* buffer, gboolean, gpointer offset_s) {
  const int64_t seconds = GPOINTER_TO_INT(offset_s);
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  if (!gst_rtcp_buffer_map(buffer, GST_MAP_READWRITE, &rtcp)) return FALSE;
  GstRTCPPacket packet;
  for (gboolean more = gst_rtcp_buffer_get_first_packet(&rtcp, &packet); more;
       more = gst_rtcp_packet_move_to_next(&packet)) {
    if (gst_rtcp_packet_get_type(&packet) != GST_RTCP_TYPE_SR) continue;
    guint32 ssrc = 0, rtp_time = 0, packets = 0, octets = 0;
    guint64 ntp = 0;
    gst_rtcp_packet_sr_get_sender_info(&packet, &ssrc, &ntp, &rtp_time, &packets, &octets);
    ntp += static_cast<guint64>(seconds) << 32;
    gst_rtcp_packet_sr_set_sender_info(&packet, ssrc, ntp, rtp_time, packets, octets);
  }
  gst_rtcp_buffer_unmap(&rtcp);
  return FALSE;  // suppressing the report as usual is fine
}

// The RTP sessions exist once the media is prepared (its streams have joined the bin).
void OnMediaPrepared(GstRTSPMedia* media, gpointer offset_s) {
  for (guint i = 0; i < gst_rtsp_media_n_streams(media); ++i) {
    GstRTSPStream* stream = gst_rtsp_media_get_stream(media, i);
    GObject* session = stream ? gst_rtsp_stream_get_rtpsession(stream) : nullptr;
    if (!session) continue;
    // A media prepared again keeps its sessions: move their reports once, not twice.
    if (!g_object_get_data(session, "custodian-sim-clock-offset")) {
      g_object_set_data(session, "custodian-sim-clock-offset", offset_s);
      g_signal_connect(session, "on-sending-rtcp", G_CALLBACK(OnSendingRtcp), offset_s);
    }
    g_object_unref(session);
  }
}

}  // namespace

std::string LaunchDescription(const SimStream& stream) {
  std::string inner =
      stream.clip ? FileDescription(*stream.clip) : PatternDescription(stream.spec.media);
  return "( " + inner + " )";
}

void ConfigureMedia(const std::shared_ptr<SimStream>& stream, GstRTSPMedia* media) {
  ElementPtr element(gst_rtsp_media_get_element(media));
  GstBin* bin = GST_BIN(element.get());
  if (stream->clip) {
    auto feeder = ClipFeeder::Create(stream->clip);
    if (ElementPtr v{gst_bin_get_by_name(bin, "vsrc")}) feeder->AttachVideo(v.get());
    if (ElementPtr a{gst_bin_get_by_name(bin, "asrc")}) feeder->AttachAudio(a.get());
  }
  AddStallGate(stream, bin, "pay0", true);
  AddStallGate(stream, bin, "pay1", false);
  if (stream->spec.clock_offset_s != 0) {
    g_signal_connect(media, "prepared", G_CALLBACK(OnMediaPrepared),
                     GINT_TO_POINTER(stream->spec.clock_offset_s));
  }
}

}  // namespace custodian::sim
