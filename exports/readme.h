// README.txt of an export package: what is inside, how to play it, how to verify it, and
// the UK time offset of the times it names. Written for a police officer or a resident,
// not for an engineer.
#pragma once

#include <string>

#include "base/zoneinfo.h"
#include "exports/manifest.h"
#include "exports/signing.h"

namespace custodian::exports {

// The text, from the manifest as it stands before README.txt, SHA256SUMS and the
// manifest itself are added.
std::string ReadmeText(const Manifest& m, const PublicKey& key, const TimeZone& zone);

// Which clock the times come from (the appliance's), and each camera's own clock against it
// as measured from its RTCP sender reports while the exported footage was recorded: the
// range of offsets, or "camera clock unknown" for a camera that sent none. Lines indented
// for the TIMES section.
std::string CameraClockLines(const std::vector<ManifestSegment>& segments);

}  // namespace custodian::exports
