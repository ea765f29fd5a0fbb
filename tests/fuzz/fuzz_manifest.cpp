// Fuzz target: export verification's manifest parser (exports::ParseManifest), which reads
// a file that came back from outside (a USB stick, an email) and so may be anything.
#include <cstdint>
#include <string>

#include "exports/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string json(reinterpret_cast<const char*>(data), size);
  auto summary = custodian::exports::ParseManifest(json);
  if (summary.ok()) {
    for (const auto& f : summary->files) (void)f.path.size();
  }
  return 0;
}
