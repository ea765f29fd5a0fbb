// Timed text: the wall-clock track that puts the date, time and camera into every picture
// of an exported MP4 without re-encoding it.
//
// An exported file is spliced from recorded fragments (builder.h). To it we add one more
// track, MP4 timed text (`tx3g`, FFmpeg's `mov_text`, handler `sbtl`), whose cues give the
// UK local date and time with its offset name ("29/03/2026 02:00:00 BST") and the camera's
// name, one cue per wall-clock second. The video track is untouched: the text track's
// samples go in fragments of their own (a `moof` with a single `traf`, then its `mdat`),
// so no recorded `moof` or `mdat` changes size or offset, and VLC, ffplay and browsers show
// the cues as subtitles.
//
// Pure functions over bytes; no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "base/zoneinfo.h"

namespace custodian::exports {

// The text track's media timescale: milliseconds.
inline constexpr uint32_t kTimedTextTimescale = 1000;

struct TimedTextCue {
  uint64_t start = 0;     // media time, kTimedTextTimescale units, from the file's origin
  uint32_t duration = 0;  // same units
  std::string text;       // UTF-8
};

// "29/03/2026 02:00:00 BST - Front door": the cue for the second holding t.
std::string WallClockCueText(UtcMicros t, const std::string& camera_name, const TimeZone& zone);

// Cues for the wall-clock interval [from, to) of a file whose media time 0 is origin: one
// per whole second, the first and last cut at from and to. Contiguous: each cue starts
// where the one before ends. Empty when to <= from.
std::vector<TimedTextCue> WallClockCues(UtcMicros origin, UtcMicros from, UtcMicros to,
                                        const std::string& camera_name, const TimeZone& zone);

// The file header (ftyp, moov, ... as the first segment has it) with a timed-text track
// added: a `trak` after the last one, its `trex` in `mvex`, and `mvhd`'s next track id
// moved on. The text box spans width x height (the video's picture size). `track_id`
// receives the new track's id. kInvalidArgument when the header has no moov, mvhd or mvex,
// or a box does not fit its parent.
Result<std::vector<uint8_t>> AddTimedTextTrack(const uint8_t* header, size_t size, int width,
                                               int height, uint32_t* track_id);

// One fragment (moof with mfhd and a single traf, then mdat) holding cues for the text
// track, starting at cues.front().start. cues must be contiguous and non-empty.
std::vector<uint8_t> TimedTextFragment(uint32_t sequence, uint32_t track_id,
                                       const std::vector<TimedTextCue>& cues);

// The tx3g sample entry's fields after its data_reference_index (display flags,
// justification, colours, default style, font table): what FFmpeg keeps as a mov_text
// stream's extradata, for a muxer that writes the track itself (a re-encoded copy).
std::vector<uint8_t> TimedTextSampleDescription();

// One cue's sample as stored in the track: the text's length (16 bits), then its UTF-8.
std::vector<uint8_t> TimedTextSample(const std::string& text);

}  // namespace custodian::exports
