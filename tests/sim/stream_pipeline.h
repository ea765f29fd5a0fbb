// The media pipeline behind one simulated camera, and the per-stream state its pipelines
// share with the fault-injection commands.
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "tests/sim/clip.h"
#include "tests/sim/stream_spec.h"

namespace custodian::sim {

// One simulated camera. Shared: the Simulator and every pipeline built for the stream hold
// a reference, because a pipeline's streaming threads can still run (and read the fault
// deadlines) after the Simulator that made it is gone.
struct SimStream {
  StreamSpec spec;
  std::shared_ptr<const Clip> clip;  // file sources only
  // Fault deadlines in monotonic microseconds (base/clock.h); 0 or past means no fault.
  std::atomic<int64_t> refused_until_us{0};
  std::atomic<int64_t> stalled_until_us{0};
};

// gst-rtsp-server launch description: payloaders pay0 (video) and pay1 (audio).
std::string LaunchDescription(const SimStream& stream);

// Called for each new media of the stream (the factory's "media-configure"): starts the
// clip feeder of a file source, gates every payloader so `stall` can hold packets, and for
// a clock_offset moves the NTP time of the media's RTCP sender reports once it is prepared.
// The pipeline's probes and feeders keep `stream` alive for as long as they exist.
void ConfigureMedia(const std::shared_ptr<SimStream>& stream, GstRTSPMedia* media);

}  // namespace custodian::sim
