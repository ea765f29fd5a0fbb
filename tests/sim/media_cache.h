// The clip cache: encoded test clips kept in a directory (by default under the build tree),
// named by MediaFileName, so tests and benchmarks encode each clip once.
//
// Safe across processes: an flock on "<clip>.lock" serialises encoders of the same clip,
// and a clip appears under its final name only once complete (written to a temporary
// name, then renamed).
#pragma once

#include <functional>
#include <string>

#include "base/status.h"
#include "tests/sim/media_spec.h"

namespace custodian::sim {

using MediaEncoder = std::function<Status(const MediaSpec& spec, const std::string& out_path)>;

// The cache directory when none is given: $CUSTODIAN_SIM_MEDIA_DIR if set, else
// "sim-media" in the build tree this code was compiled in.
std::string DefaultMediaDir();

// Path of the cached clip for `spec` in cache_dir, calling `encode` first when absent.
Result<std::string> EnsureCachedMedia(const MediaSpec& spec, const std::string& cache_dir,
                                      const MediaEncoder& encode);

}  // namespace custodian::sim
