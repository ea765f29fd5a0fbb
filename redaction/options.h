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
// docs/design/redaction.md; they are written into every redaction record.
struct DetectionParams {
  // Full-frame scans run every `full_scan_every` frames on an image scaled so that its width
  // is `scan_width` (never more than `max_upscale` times the frame).
  int full_scan_every = 50;
  int scan_width = 960;
  double max_upscale = 3.0;
  // Between full scans, detectors look only where there is motion or a live track, every
  // `detect_every` frames, on crops scaled so that the smallest face sought is
  // `min_face_scaled` pixels.
  int detect_every = 5;
  int min_face_px = 20;  // smallest face sought, in frame pixels
  int motion_width = 320;  // background subtraction runs on frames scaled to this width
  // Haar cascades: pyramid step and neighbours required.
  double haar_scale_step = 1.1;
  int haar_min_neighbors = 2;
  bool use_dlib = true;
  bool use_profile = true;
  bool use_people = true;
  int people_every = 3;  // frames over 0.5 MP: people detector on every 3rd full scan
  // Full scans also run the frontal cascade on the image turned by +-tilt_degrees, +-2x
  // that, ... up to +-max_tilt_degrees.
  double tilt_degrees = 15;
  double max_tilt_degrees = 30;
  bool dlib_tilted = true;  // dlib also on the image turned by +-tilt_degrees
  bool dlib_on_large_frames = true;  // frames over 0.5 MP: dlib too (recall over speed)
  // Frames over 0.5 MP (HD) are not fully scanned every full_scan_every frames: each 32-px
  // block is compared with what the last thorough scan of it saw; blocks that differ by more
  // than `change_threshold` grey levels (block mean) and have then kept still for
  // `settle_checks` detection frames get a thorough scan (with a margin), which looks for
  // faces from `hd_min_face_px` (cascades) and `hd_dlib_min_face_px` (dlib) up. Faces it
  // finds are kept for as long as their blocks do not change. The whole frame is scanned
  // thoroughly at the first frame and every `refresh_every` frames; moving things are
  // covered by the crops around motion between.
  int hd_crop_every = 10;  // frames over 0.5 MP: the crops around motion every 10 frames
  int hd_min_face_px = 24;
  int hd_dlib_min_face_px = 36;
  double change_threshold = 6;
  int settle_checks = 3;
  int refresh_every = 1500;
  // Tracking: how far a mask is enlarged, how long it is held over a detection gap, and
  // how many frames it starts before a track's first detection and ends after its last.
  double margin = 0.3;
  int margin_px = 3;
  int hold_frames = 25;
  int pre_frames = 10;
  int post_frames = 8;
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
  // Contact sheet: a JPEG grid written beside the output; empty path means none.
  std::string contact_sheet_path;
  int contact_sheet_frames = 16;
};

Status ValidateOptions(const RedactionOptions& o);

}  // namespace custodian::redaction
