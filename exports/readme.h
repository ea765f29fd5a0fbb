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

}  // namespace custodian::exports
