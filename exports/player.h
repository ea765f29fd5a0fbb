// player.html: the package's own player, one self-contained HTML file (no network, no
// installation, no third-party code) that plays the working copies beside it in any current
// browser: every camera on one wall-clock timeline in sync, the UK local time shown, variable
// speed, frame stepping, stills saved with the time, date and camera drawn in, and a check of
// every file against manifest.json's SHA-256 (WebCrypto, or its own SHA-256 for files too
// large to read at once) when the user chooses the package folder. H.265 files a browser
// cannot play are named, with the advice to use VLC.
//
// The page is exports/player.html, compiled in; the package's working copies (path, camera,
// times, codec) are embedded as JSON in its `package` script element, because a page opened
// from a file cannot read the files beside it except as media or as files the user picks.
#pragma once

#include <string>

#include "exports/manifest.h"

namespace custodian::exports {

inline constexpr char kPlayerName[] = "player.html";

// The page for a package whose working copies are m.files of kind "video".
std::string PlayerHtml(const Manifest& m);

}  // namespace custodian::exports
