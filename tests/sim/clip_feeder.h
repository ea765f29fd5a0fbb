// ClipFeeder: plays a shared Clip into the appsrc elements of one media pipeline, looping
// forever with timestamps that keep increasing across loops.
//
// Each loop k shifts every sample by k * Clip::loop_duration_ns(), on top of the pipeline
// running time at which the first sample was requested (plus a small lead), so the
// timestamps are valid live running times. A clocksync element downstream of each appsrc
// releases samples at their timestamps; the feeder itself never sleeps.
//
// Buffers pushed are shallow copies (new timestamps, shared memory), so a clip is held in
// memory once however many pipelines loop it. A feeder lives as long as the appsrc
// elements it is attached to; each appsrc is fed from its own streaming thread.
#pragma once

#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <memory>
#include <mutex>
#include <optional>

#include "base/mutex.h"
#include "tests/sim/clip.h"

namespace custodian::sim {

class ClipFeeder : public std::enable_shared_from_this<ClipFeeder> {
 public:
  static std::shared_ptr<ClipFeeder> Create(std::shared_ptr<const Clip> clip);

  // Sets appsrc's caps and live/time properties and starts feeding it the given track.
  void AttachVideo(GstElement* appsrc);
  void AttachAudio(GstElement* appsrc);

 private:
  struct Cursor;
  explicit ClipFeeder(std::shared_ptr<const Clip> clip) : clip_(std::move(clip)) {}
  void Attach(GstElement* appsrc, const ClipTrack& track);
  static void OnNeedData(GstAppSrc* src, guint length, gpointer data);
  void PushNext(GstAppSrc* src, Cursor& cursor);
  GstClockTime Origin(GstElement* appsrc);

  const std::shared_ptr<const Clip> clip_;
  Mutex mu_;
  std::optional<GstClockTime> origin_ GUARDED_BY(mu_);  // running time of the clip's t=0
};

}  // namespace custodian::sim
