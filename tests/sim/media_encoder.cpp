#include "tests/sim/media_encoder.h"

#include <gst/gst.h>

#include "tests/sim/gst_handles.h"

namespace custodian::sim {

namespace {

constexpr int kAudioRate = 48000;
constexpr int kAudioSamplesPerBuffer = 1024;  // one AAC frame per buffer
constexpr int kAudioBitrate = 64000;

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string VideoSource(const MediaSpec& spec) {
  if (spec.input == kInputPattern) return "videotestsrc pattern=ball";
  if (spec.input == kInputStill) return "videotestsrc pattern=colors";
  return "filesrc location=" + Quote(ResolveInput(spec.input)) +
         " ! decodebin ! videoconvert ! videoscale add-borders=false ! videorate";
}

// Ends the clip after `frames` raw frames, whatever the input's length. (identity's
// eos-after does not count the duplicates videorate marks as gaps.)
struct FrameLimit {
  int64_t left;
};

GstPadProbeReturn LimitFrames(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* limit = static_cast<FrameLimit*>(data);
  if (limit->left-- > 0) return GST_PAD_PROBE_OK;
  // HANDLED (unlike DROP) passes the flow return upstream: sources stop and send EOS.
  gst_buffer_unref(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_FLOW_RETURN(info) = GST_FLOW_EOS;
  return GST_PAD_PROBE_HANDLED;
}

std::string VideoEncoder(const MediaSpec& spec) {
  std::string common = " bitrate=" + std::to_string(spec.bitrate_kbps) +
                       " key-int-max=" + std::to_string(EffectiveGop(spec));
  // zerolatency turns B-frames off, so a B-frame clip goes without it. Closed GOPs: a
  // segment cut at a keyframe must decode on its own, as cameras' streams do.
  if (spec.bframes == 0) common += " tune=zerolatency";
  const std::string b = std::to_string(spec.bframes);
  if (spec.codec == VideoCodec::kH265) {
    std::string options = "scenecut=0";
    if (spec.bframes > 0) options += ":bframes=" + b + ":b-adapt=0:b-pyramid=1:open-gop=0";
    return "x265enc speed-preset=ultrafast" + common + " option-string=" + options +
           " ! h265parse";
  }
  std::string x264 = common + " option-string=scenecut=0";
  if (spec.bframes > 0) x264 += " bframes=" + b + " b-adapt=0 b-pyramid=true";
  // One slice per frame, as cameras send: ffmpeg's RTSP demuxer splits multi-slice frames.
  return "x264enc speed-preset=veryfast sliced-threads=false" + x264 + " ! h264parse";
}

std::string PipelineDescription(const MediaSpec& spec, const std::string& out_path) {
  std::string caps = "video/x-raw,format=I420,width=" + std::to_string(spec.width) +
                     ",height=" + std::to_string(spec.height) +
                     ",framerate=" + std::to_string(spec.fps) + "/1,pixel-aspect-ratio=1/1";
  std::string desc = VideoSource(spec) +
                     " ! videoconvert ! videoscale ! capsfilter name=raw caps=" + Quote(caps) +
                     " ! " + VideoEncoder(spec) + " ! queue ! mux. ";
  if (spec.audio) {
    // Whole AAC frames only, and never longer than the video, so the clip loops cleanly.
    long buffers = static_cast<long>(spec.seconds) * kAudioRate / kAudioSamplesPerBuffer;
    desc += "audiotestsrc wave=sine freq=440 volume=0.2 samplesperbuffer=" +
            std::to_string(kAudioSamplesPerBuffer) + " num-buffers=" + std::to_string(buffers) +
            " ! audio/x-raw,rate=" + std::to_string(kAudioRate) +
            ",channels=1 ! audioconvert ! voaacenc bitrate=" + std::to_string(kAudioBitrate) +
            " ! aacparse ! queue ! mux. ";
  }
  return desc + "matroskamux name=mux ! filesink location=" + Quote(out_path);
}

}  // namespace

Status EncodeMedia(const MediaSpec& spec, const std::string& out_path) {
  CUSTODIAN_RETURN_IF_ERROR(ValidateMediaSpec(spec));
  std::string desc = PipelineDescription(spec, out_path);
  GError* parse_error = nullptr;
  ElementPtr pipeline(gst_parse_launch(desc.c_str(), &parse_error));
  ErrorPtr parse_error_owner(parse_error);
  if (!pipeline || parse_error) {
    return Internal("cannot build encoder pipeline: " +
                    std::string(parse_error ? parse_error->message : "unknown") + " [" + desc +
                    "]");
  }
  ElementPtr raw(gst_bin_get_by_name(GST_BIN(pipeline.get()), "raw"));
  PadPtr raw_src(gst_element_get_static_pad(raw.get(), "src"));
  gst_pad_add_probe(raw_src.get(), GST_PAD_PROBE_TYPE_BUFFER, LimitFrames,
                    new FrameLimit{static_cast<int64_t>(spec.seconds) * spec.fps},
                    [](gpointer p) { delete static_cast<FrameLimit*>(p); });
  // Generous: x265 at 1080p runs well below real time on a small machine.
  int timeout_s = 60 + spec.seconds * 20;
  std::string error;
  if (!RunToEos(pipeline.get(), timeout_s, &error)) {
    return Internal("encoding " + MediaFileName(spec) + " failed: " + error);
  }
  return Status::Ok();
}

}  // namespace custodian::sim
