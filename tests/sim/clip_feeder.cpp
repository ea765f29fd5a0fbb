#include "tests/sim/clip_feeder.h"

namespace custodian::sim {

namespace {
// Samples are scheduled this far ahead of the running time at which feeding starts, so the
// first ones are not already late when they reach clocksync.
constexpr GstClockTime kStartLeadNs = 100 * GST_MSECOND;
}  // namespace

// Per-appsrc position in the clip; touched only by that appsrc's streaming thread.
struct ClipFeeder::Cursor {
  std::shared_ptr<ClipFeeder> feeder;
  const ClipTrack* track = nullptr;
  size_t next = 0;
  uint64_t loop = 0;
};

std::shared_ptr<ClipFeeder> ClipFeeder::Create(std::shared_ptr<const Clip> clip) {
  return std::shared_ptr<ClipFeeder>(new ClipFeeder(std::move(clip)));
}

void ClipFeeder::AttachVideo(GstElement* appsrc) { Attach(appsrc, clip_->video()); }

void ClipFeeder::AttachAudio(GstElement* appsrc) {
  if (clip_->audio()) Attach(appsrc, *clip_->audio());
}

void ClipFeeder::Attach(GstElement* appsrc, const ClipTrack& track) {
  g_object_set(appsrc, "caps", track.caps.get(), "is-live", TRUE, "format", GST_FORMAT_TIME,
               "do-timestamp", FALSE, nullptr);
  auto* cursor = new Cursor{shared_from_this(), &track, 0, 0};
  GstAppSrcCallbacks callbacks{};
  callbacks.need_data = OnNeedData;
  gst_app_src_set_callbacks(GST_APP_SRC(appsrc), &callbacks, cursor,
                            [](gpointer p) { delete static_cast<Cursor*>(p); });
}

void ClipFeeder::OnNeedData(GstAppSrc* src, guint, gpointer data) {
  auto* cursor = static_cast<Cursor*>(data);
  cursor->feeder->PushNext(src, *cursor);
}

GstClockTime ClipFeeder::Origin(GstElement* appsrc) {
  MutexLock lock(mu_);
  if (!origin_) {
    GstClockTime now = 0;
    if (GstClock* clock = gst_element_get_clock(appsrc)) {
      GstClockTime clock_now = gst_clock_get_time(clock);
      GstClockTime base = gst_element_get_base_time(appsrc);
      if (clock_now > base) now = clock_now - base;
      gst_object_unref(clock);
    }
    origin_ = now + kStartLeadNs;
  }
  return *origin_;
}

void ClipFeeder::PushNext(GstAppSrc* src, Cursor& cursor) {
  const ClipSample& sample = cursor.track->samples[cursor.next];
  GstClockTimeDiff offset = static_cast<GstClockTimeDiff>(Origin(GST_ELEMENT(src)) +
                                                          cursor.loop * clip_->loop_duration_ns());
  GstBuffer* buffer = gst_buffer_copy(sample.buffer.get());
  GST_BUFFER_PTS(buffer) = static_cast<GstClockTime>(offset + sample.pts_ns);
  GstClockTimeDiff dts = offset + sample.dts_ns;
  GST_BUFFER_DTS(buffer) = dts >= 0 ? static_cast<GstClockTime>(dts) : GST_CLOCK_TIME_NONE;
  // Only the very first buffer starts a new stream; loops continue it.
  if (cursor.loop > 0 || cursor.next > 0) GST_BUFFER_FLAG_UNSET(buffer, GST_BUFFER_FLAG_DISCONT);
  gst_app_src_push_buffer(src, buffer);
  if (++cursor.next == cursor.track->samples.size()) {
    cursor.next = 0;
    ++cursor.loop;
  }
}

}  // namespace custodian::sim
