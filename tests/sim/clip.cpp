#include "tests/sim/clip.h"

#include <gst/app/gstappsink.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "base/mutex.h"

namespace custodian::sim {

namespace {

constexpr int kLoadTimeoutSeconds = 120;

enum class TrackKind { kH264, kH265, kAac, kIgnored };

// One elementary stream coming out of parsebin, collected by an appsink.
struct CollectedTrack {
  TrackKind kind = TrackKind::kIgnored;
  Mutex mu;
  CapsPtr caps GUARDED_BY(mu);
  std::vector<BufferPtr> buffers GUARDED_BY(mu);
};

struct LoadState {
  GstElement* pipeline = nullptr;
  Mutex mu;
  std::vector<std::unique_ptr<CollectedTrack>> tracks GUARDED_BY(mu);
};

TrackKind KindOf(GstCaps* caps) {
  if (!caps || gst_caps_is_empty(caps)) return TrackKind::kIgnored;
  const GstStructure* s = gst_caps_get_structure(caps, 0);
  const char* name = gst_structure_get_name(s);
  int mpegversion = 0;
  if (g_str_equal(name, "video/x-h264")) return TrackKind::kH264;
  if (g_str_equal(name, "video/x-h265")) return TrackKind::kH265;
  if (g_str_equal(name, "audio/mpeg") && gst_structure_get_int(s, "mpegversion", &mpegversion) &&
      (mpegversion == 2 || mpegversion == 4)) {
    return TrackKind::kAac;
  }
  return TrackKind::kIgnored;
}

// A parser and the caps the payloaders accept without further conversion. The sinks must
// not wait to preroll: the demuxer feeds every branch from one thread.
const char* BranchDescription(TrackKind kind) {
  switch (kind) {
    case TrackKind::kH264:
      return "h264parse ! appsink name=sink sync=false async=false "
             "caps=video/x-h264,stream-format=avc,alignment=au";
    case TrackKind::kH265:
      return "h265parse ! appsink name=sink sync=false async=false "
             "caps=video/x-h265,stream-format=hvc1,alignment=au";
    case TrackKind::kAac:
      return "aacparse ! appsink name=sink sync=false async=false "
             "caps=audio/mpeg,mpegversion=4,stream-format=raw";
    case TrackKind::kIgnored:
      break;
  }
  return "fakesink sync=false async=false";
}

GstFlowReturn OnNewSample(GstAppSink* sink, gpointer data) {
  auto* track = static_cast<CollectedTrack*>(data);
  GstSample* sample = gst_app_sink_pull_sample(sink);
  if (!sample) return GST_FLOW_EOS;
  MutexLock lock(track->mu);
  if (!track->caps) track->caps.reset(gst_caps_ref(gst_sample_get_caps(sample)));
  track->buffers.emplace_back(gst_buffer_ref(gst_sample_get_buffer(sample)));
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

void OnPadAdded(GstElement*, GstPad* pad, gpointer data) {
  auto* state = static_cast<LoadState*>(data);
  CapsPtr caps(gst_pad_get_current_caps(pad));
  if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
  auto track = std::make_unique<CollectedTrack>();
  track->kind = KindOf(caps.get());
  {
    MutexLock lock(state->mu);
    for (const auto& t : state->tracks) {
      bool both_video = t->kind != TrackKind::kAac && track->kind != TrackKind::kAac;
      if (t->kind != TrackKind::kIgnored && (t->kind == track->kind || both_video)) {
        track->kind = TrackKind::kIgnored;  // keep the first video and first audio only
      }
    }
  }
  GError* error = nullptr;
  GstElement* branch = gst_parse_bin_from_description(BranchDescription(track->kind), TRUE, &error);
  ErrorPtr error_owner(error);
  if (!branch) return;
  gst_bin_add(GST_BIN(state->pipeline), branch);
  if (ElementPtr sink{gst_bin_get_by_name(GST_BIN(branch), "sink")};
      sink && GST_IS_APP_SINK(sink.get())) {
    GstAppSinkCallbacks callbacks{};
    callbacks.new_sample = OnNewSample;
    gst_app_sink_set_callbacks(GST_APP_SINK(sink.get()), &callbacks, track.get(), nullptr);
  }
  gst_element_sync_state_with_parent(branch);
  PadPtr sink_pad(gst_element_get_static_pad(branch, "sink"));
  gst_pad_link(pad, sink_pad.get());
  MutexLock lock(state->mu);
  state->tracks.push_back(std::move(track));
}

GstClockTimeDiff Relative(GstClockTime t, GstClockTime start) {
  return static_cast<GstClockTimeDiff>(t) - static_cast<GstClockTimeDiff>(start);
}

GstClockTime FrameDuration(const ClipTrack& video) {
  int fps_n = 0, fps_d = 1;
  const GstStructure* s = gst_caps_get_structure(video.caps.get(), 0);
  if (gst_structure_get_fraction(s, "framerate", &fps_n, &fps_d) && fps_n > 0 && fps_d > 0) {
    return gst_util_uint64_scale(GST_SECOND, fps_d, fps_n);
  }
  const auto& v = video.samples;
  if (v.size() >= 2 && v.back().pts_ns > v.front().pts_ns) {
    return static_cast<GstClockTime>(v.back().pts_ns - v.front().pts_ns) / (v.size() - 1);
  }
  return GST_SECOND / 25;
}

// Matroska stores times in whole milliseconds, so a 30 fps clip or 48 kHz AAC comes back
// with up to 0.5 ms of jitter. When every sample sits that close to a regular grid of
// `period` (the case for the clips we encode), put it exactly on the grid.
void SnapToGrid(std::vector<ClipSample>& samples, GstClockTime period) {
  if (samples.empty() || period == 0) return;
  const GstClockTimeDiff first = samples.front().pts_ns;
  const GstClockTimeDiff tolerance = GST_MSECOND;
  for (size_t i = 0; i < samples.size(); ++i) {
    GstClockTimeDiff grid = first + static_cast<GstClockTimeDiff>(i * period);
    if (std::abs(samples[i].pts_ns - grid) > tolerance ||
        std::abs(samples[i].dts_ns - grid) > tolerance) {
      return;  // irregular (or reordered) timing: keep the file's times
    }
  }
  for (size_t i = 0; i < samples.size(); ++i) {
    samples[i].pts_ns = samples[i].dts_ns = first + static_cast<GstClockTimeDiff>(i * period);
  }
}

// Matroska keeps no decode times, and a clip with B-frames lists its frames out of
// presentation order. A camera sends them in decode order at an even pace: give such a
// clip decode times that do the same, the sorted presentation times each taken `depth`
// frames later, where depth is the furthest any frame arrives ahead of its place.
void FillDecodeTimes(std::vector<ClipSample>& samples, GstClockTime period) {
  constexpr size_t kWindow = 32;  // further back than any encoder reorders
  size_t depth = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (samples[i].dts_ns != samples[i].pts_ns) return;  // the file had decode times
    size_t later = 0;
    for (size_t j = i > kWindow ? i - kWindow : 0; j < i; ++j)
      later += samples[j].pts_ns > samples[i].pts_ns ? 1 : 0;
    depth = std::max(depth, later);
  }
  if (depth == 0) return;
  std::vector<GstClockTimeDiff> sorted;
  for (const ClipSample& s : samples) sorted.push_back(s.pts_ns);
  std::sort(sorted.begin(), sorted.end());
  const auto step = static_cast<GstClockTimeDiff>(period);
  for (size_t i = 0; i < samples.size(); ++i) {
    samples[i].dts_ns = i >= depth ? sorted[i - depth]
                                   : sorted[0] - static_cast<GstClockTimeDiff>(depth - i) * step;
  }
}

// Duration of one AAC frame (1024 samples) at the track's rate; 0 if unknown.
GstClockTime AacFrameDuration(const ClipTrack& audio) {
  int rate = 0;
  const GstStructure* s = gst_caps_get_structure(audio.caps.get(), 0);
  if (!gst_structure_get_int(s, "rate", &rate) || rate <= 0) return 0;
  return gst_util_uint64_scale(1024, GST_SECOND, rate);
}

}  // namespace

size_t Clip::total_bytes() const {
  size_t n = 0;
  for (const ClipSample& s : video_.samples) n += gst_buffer_get_size(s.buffer.get());
  if (audio_) {
    for (const ClipSample& s : audio_->samples) n += gst_buffer_get_size(s.buffer.get());
  }
  return n;
}

Result<std::shared_ptr<const Clip>> Clip::Load(const std::string& path) {
  GError* parse_error = nullptr;
  ElementPtr pipeline(gst_parse_launch("filesrc name=src ! parsebin name=parse", &parse_error));
  ErrorPtr parse_error_owner(parse_error);
  if (!pipeline || parse_error) return Internal("GStreamer lacks filesrc or parsebin");
  LoadState state;
  state.pipeline = pipeline.get();
  ElementPtr src(gst_bin_get_by_name(GST_BIN(pipeline.get()), "src"));
  ElementPtr parse(gst_bin_get_by_name(GST_BIN(pipeline.get()), "parse"));
  g_object_set(src.get(), "location", path.c_str(), nullptr);
  g_signal_connect(parse.get(), "pad-added", G_CALLBACK(OnPadAdded), &state);

  std::string error;
  bool ok = RunToEos(pipeline.get(), kLoadTimeoutSeconds, &error);
  pipeline.reset();  // no more callbacks into `state` after this
  if (!ok) return IoError("cannot read clip " + path + ": " + error);

  std::shared_ptr<Clip> clip(new Clip());
  clip->path_ = path;
  // No callback runs any more; the locks are uncontended and let the compiler check access.
  MutexLock state_lock(state.mu);
  for (auto& t : state.tracks) {
    MutexLock track_lock(t->mu);
    if (t->kind == TrackKind::kIgnored || !t->caps) continue;
    ClipTrack track;
    track.caps = std::move(t->caps);
    for (BufferPtr& b : t->buffers) track.samples.push_back(ClipSample{std::move(b), 0, 0});
    if (t->kind == TrackKind::kAac) {
      clip->audio_ = std::move(track);
    } else {
      clip->codec_ = t->kind == TrackKind::kH265 ? VideoCodec::kH265 : VideoCodec::kH264;
      clip->video_ = std::move(track);
    }
  }
  Status finished = clip->Finish();
  if (!finished.ok()) return IoError("clip " + path + ": " + finished.message());
  return std::shared_ptr<const Clip>(std::move(clip));
}

// Puts every timestamp relative to the first keyframe and fixes the loop length.
Status Clip::Finish() {
  auto& v = video_.samples;
  auto first_key = std::find_if(v.begin(), v.end(), [](const ClipSample& s) {
    return !GST_BUFFER_FLAG_IS_SET(s.buffer.get(), GST_BUFFER_FLAG_DELTA_UNIT) &&
           GST_BUFFER_PTS_IS_VALID(s.buffer.get());
  });
  if (first_key == v.end()) return DataLoss("no H.264/H.265 video track with a keyframe");
  v.erase(v.begin(), first_key);
  const GstClockTime start = GST_BUFFER_PTS(v.front().buffer.get());

  GstClockTimeDiff last_pts = 0;
  for (ClipSample& s : v) {
    GstBuffer* b = s.buffer.get();
    if (!GST_BUFFER_PTS_IS_VALID(b)) return DataLoss("a video frame has no timestamp");
    s.pts_ns = Relative(GST_BUFFER_PTS(b), start);
    s.dts_ns = GST_BUFFER_DTS_IS_VALID(b) ? Relative(GST_BUFFER_DTS(b), start) : s.pts_ns;
    last_pts = std::max(last_pts, s.pts_ns);
  }
  const GstClockTime frame = FrameDuration(video_);
  SnapToGrid(v, frame);
  FillDecodeTimes(v, frame);
  last_pts = std::max(last_pts, v.back().pts_ns);
  loop_duration_ns_ = std::max<GstClockTime>(v.size() * frame, last_pts + frame);

  if (audio_) {
    auto& a = audio_->samples;
    for (ClipSample& s : a) {
      GstBuffer* b = s.buffer.get();
      s.pts_ns = GST_BUFFER_PTS_IS_VALID(b) ? Relative(GST_BUFFER_PTS(b), start) : -1;
      s.dts_ns = s.pts_ns;
    }
    SnapToGrid(a, AacFrameDuration(*audio_));
    // Drop what starts before the first keyframe or ends after the loop.
    std::erase_if(a, [&](const ClipSample& s) {
      GstClockTime dur =
          GST_BUFFER_DURATION_IS_VALID(s.buffer.get()) ? GST_BUFFER_DURATION(s.buffer.get()) : 0;
      return s.pts_ns < 0 || static_cast<GstClockTime>(s.pts_ns) + dur > loop_duration_ns_;
    });
    if (a.empty()) audio_.reset();
  }
  return Status::Ok();
}

}  // namespace custodian::sim
