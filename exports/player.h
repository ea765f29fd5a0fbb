// player.html: the package's own player, one self-contained HTML file (no network, no
// installation, no third-party code) that plays the working copies beside it in any current
// browser: every camera on one wall-clock timeline in sync, the UK local time shown, variable
// speed, frame stepping, stills saved with the time, date and camera drawn in, and a check of
// every file against manifest.json's SHA-256 (WebCrypto, or its own SHA-256 for files too
// large to read at once) when the user chooses the package folder. H.265 files a browser
// cannot play are named, with the advice to use VLC.
//
// The page is exports/player.html, compiled in; the package's working copies (path, camera,
// times, codec) and the manifest's name are embedded as JSON in its `package` script element,
// because a page opened from a file cannot read the files beside it except as media or as files the
// user picks.
#pragma once

#include <string>

#include "exports/manifest.h"

namespace custodian::exports {

inline constexpr char kPlayerName[] = "player.html";

// The page for a package whose playable files are m.files of kind "video" (camera, times,
// codec and size set), checked against the signed manifest `manifest_name` beside it. A
// redacted package (m.redacted) plays its redacted copies and is checked against
// redaction-manifest.json; the page says the copies are redacted.
std::string PlayerHtml(const Manifest& m, const std::string& manifest_name = kManifestName);

}  // namespace custodian::exports
