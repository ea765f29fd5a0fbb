// Encodes a test clip (MediaSpec) into a Matroska file with GStreamer: x264/x265 at a fixed GOP
// without scene-cut keyframes and, unless the spec asks for them, without B-frames (like most IP
// cameras), plus an optional AAC-LC tone. Needs gst_init() first. Takes roughly a third of the
// clip's length for 1080p H.264 on a 2-core machine; x265 is several times slower.
#pragma once

#include <string>

#include "base/status.h"
#include "tests/sim/media_spec.h"

namespace custodian::sim {

// Writes the clip to out_path (overwriting it). Not atomic: see EnsureCachedMedia.
Status EncodeMedia(const MediaSpec& spec, const std::string& out_path);

}  // namespace custodian::sim
