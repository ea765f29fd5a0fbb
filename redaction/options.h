// What a redaction is asked to do: the mode, the mask style, the subject or region chosen by
// a person, manual regions, and the tuning of detection and tracking. Plain data and the
// parsers of the command-line forms (`X,Y,W,H`, `X,Y,W,H@SECONDS`, `X,Y,W,H@FROM-TO`).
//
// Boxes are in pixels of the input video's frame; times are seconds of media time from the
// first frame. Nothing here touches a file or a library.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace custodian::redaction {

struct Box {
  int x = 0, y = 0, w = 0, h = 0;
  int right() const { return x + w; }
  int bottom() const { return y + h; }
  bool empty() const { return w <= 0 || h <= 0; }
  int64_t area() const { return empty() ? 0 : int64_t{w} * h; }
  bool operator==(const Box&) const = default;
};

Box Intersect(const Box& a, const Box& b);
double IoU(const Box& a, const Box& b);
// Grows a box by `fraction` of its width and height on every side.
Box Enlarge(const Box& b, double fraction);
Box ClipTo(const Box& b, int width, int height);

enum class Mode { kFaces, kKeepSubject, kKeepRegion };
enum class MaskStyle { kSolid, kPixelate, kBlur };

const char* ModeName(Mode m);        // "faces" | "keep-subject" | "keep-region"
const char* MaskStyleName(MaskStyle s);  // "solid" | "pixelate" | "blur"
Result<Mode> ParseMode(const std::string& text);
Result<MaskStyle> ParseMaskStyle(const std::string& text);

// A box over a span of media time, masked in every mode.
struct ManualRegion {
  Box box;
  double from_s = 0;
  double to_s = 0;
};

// The data subject in keep-subject mode: a box around them at one moment.
struct SubjectPick {
  Box box;
  double at_s = 0;
};

Result<Box> ParseBox(const std::string& text);                 // "X,Y,W,H"
Result<SubjectPick> ParseSubject(const std::string& text);     // "X,Y,W,H@SECONDS"
Result<ManualRegion> ParseManualRegion(const std::string& text);  // "X,Y,W,H@FROM-TO"

// Detection and tracking parameters. Defaults are the ones measured in
// docs/design/redaction.md; they are written into every redaction record. Values of 0 are
// chosen from the frame rate when the video is opened (ResolveForFrameRate).
struct DetectionParams {
  // Detectors run every `detect_every` frames (0: about five times a second).
  int detect_every = 0;
  // The smallest face sought, in frame pixels. The face network finds faces of
  // `net_face_px` pixels in its input, so the frame is scaled by net_face_px / min_face_px
  // (at most max_upscale) for the finest level of tiles, and halved for each coarser level.
  int min_face_px = 16;
  int net_face_px = 16;
  double max_upscale = 1.5;
  float face_score = 0.35f;  // the face network's score threshold (0-1)
  // A second look: a network face of at least second_look_from_px (0: twice min_face_px)
  // scored under second_look_below is kept only if the network finds it again (IoU 0.3) in
  // one input centred on it at the scale that makes it second_look_px across. Most false
  // faces on things are found at one scale only; faces smaller than that are left alone (on
  // them the second look lost true faces). 0 turns it off.
  int second_look_from_px = 0;
  int second_look_px = 64;
  float second_look_below = 0.8f;
  // Frames whose finest level needs more than `max_tiles` tiles (HD) are not scanned whole at
  // every detection: tiles where something moves or a face is tracked are, and the others in
  // turn so that each is scanned at least every `sweep_frames` frames (0: every 2 s).
  int max_tiles = 4;
  int sweep_frames = 0;
  // A cost limit for scheduled frames: at most this many network tiles per second of video
  // (0: none), spent on the tiles of interest least recently scanned first. It becomes
  // max_tiles_per_detect (ResolveForFrameRate).
  int tiles_per_second = 100;
  int max_tiles_per_detect = 0;
  // The frontal Haar cascade, a second detector on the crops around motion and tracked faces
  // (it finds some blurred faces the network misses).
  bool use_haar = true;
  int haar_min_neighbors = 3;
  int motion_width = 320;  // background subtraction runs on frames scaled to this width
  // Tracking: how far a mask is enlarged, how long it is held after a face's last detection,
  // and how many frames it starts before a track's first detection and ends after its last
  // (0: 1 s, 1 s and 0.4 s). A track seen only once (an unconfirmed detection) is masked
  // for `detect_every` frames either side only.
  double margin = 0.25;
  int margin_px = 3;
  int hold_frames = 0;
  int pre_frames = 0;
  int post_frames = 0;
};

// The contact sheet's default size for footage of `duration_s` seconds: a frame every 10 s,
// at least 16, at most 360 (an hour).
int ContactSheetFrames(double duration_s);

// Fills the parameters left at 0 from the video's frame rate.
DetectionParams ResolveForFrameRate(DetectionParams p, double fps);

// A timed-text (subtitle) track for the output, MP4 `tx3g` (FFmpeg's mov_text): a redacted
// working copy of an export keeps the wall-clock cues its source shows (exports/timed_text.h),
// so the time is still on screen. Plain data, built by the caller: the sample entry's fields
// after its data_reference_index, and each cue's sample bytes (16-bit length, then UTF-8).
struct TextCue {
  int64_t start_ms = 0;  // from the output's first frame
  int64_t duration_ms = 0;
  std::vector<uint8_t> sample;
};
struct TextTrack {
  std::vector<uint8_t> sample_description;
  std::vector<TextCue> cues;  // in time order, not overlapping
};

struct RedactionOptions {
  Mode mode = Mode::kFaces;
  MaskStyle style = MaskStyle::kSolid;
  std::optional<SubjectPick> subject;   // required in keep-subject mode
  std::optional<Box> region;            // required in keep-region mode
  std::vector<ManualRegion> manual;
  std::optional<std::string> keep_audio_reason;  // audio is removed unless given
  std::string reviewer;   // optional; written into the record
  bool signed_off = false;
  DetectionParams detection;
  // Where the Haar cascades are; empty means the opencv-data default.
  std::string cascade_dir;
  // Where the face network's model is; empty means DefaultModelDir() (face_net.h).
  std::string model_dir;
  // Faces mode: also mask whole people (moving figures), for a disclosure where clothing or
  // gait would identify someone; otherwise only their heads.
  bool mask_people = false;
  // Contact sheet: a JPEG grid written beside the output; empty path means none.
  std::string contact_sheet_path;
  // How many frames it shows; 0: ContactSheetFrames(duration).
  int contact_sheet_frames = 0;
  // Subtitles to add to the output; none when unset.
  std::optional<TextTrack> text_track;
};

Status ValidateOptions(const RedactionOptions& o);

}  // namespace custodian::redaction
