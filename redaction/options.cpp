#include "redaction/options.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace custodian::redaction {
namespace {

bool ParseInt(std::string_view s, int* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseSeconds(std::string_view s, double* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(*out) && *out >= 0;
}

}  // namespace

Box Intersect(const Box& a, const Box& b) {
  int x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
  int x1 = std::min(a.right(), b.right()), y1 = std::min(a.bottom(), b.bottom());
  if (x1 <= x0 || y1 <= y0) return {};
  return {x0, y0, x1 - x0, y1 - y0};
}

double IoU(const Box& a, const Box& b) {
  int64_t inter = Intersect(a, b).area();
  int64_t uni = a.area() + b.area() - inter;
  return uni <= 0 ? 0.0 : static_cast<double>(inter) / static_cast<double>(uni);
}

Box Enlarge(const Box& b, double fraction) {
  int dx = static_cast<int>(std::lround(b.w * fraction));
  int dy = static_cast<int>(std::lround(b.h * fraction));
  return {b.x - dx, b.y - dy, b.w + 2 * dx, b.h + 2 * dy};
}

Box ClipTo(const Box& b, int width, int height) { return Intersect(b, {0, 0, width, height}); }

const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kFaces: return "faces";
    case Mode::kKeepSubject: return "keep-subject";
    case Mode::kKeepRegion: return "keep-region";
  }
  return "?";
}

const char* MaskStyleName(MaskStyle s) {
  switch (s) {
    case MaskStyle::kSolid: return "solid";
    case MaskStyle::kPixelate: return "pixelate";
    case MaskStyle::kBlur: return "blur";
  }
  return "?";
}

Result<Mode> ParseMode(const std::string& text) {
  for (Mode m : {Mode::kFaces, Mode::kKeepSubject, Mode::kKeepRegion}) {
    if (text == ModeName(m)) return m;
  }
  return InvalidArgument("unknown mode '" + text + "' (faces, keep-subject or keep-region)");
}

Result<MaskStyle> ParseMaskStyle(const std::string& text) {
  for (MaskStyle s : {MaskStyle::kSolid, MaskStyle::kPixelate, MaskStyle::kBlur}) {
    if (text == MaskStyleName(s)) return s;
  }
  return InvalidArgument("unknown style '" + text + "' (solid, pixelate or blur)");
}

Result<Box> ParseBox(const std::string& text) {
  int v[4];
  std::string_view rest = text;
  for (int i = 0; i < 4; ++i) {
    size_t comma = i < 3 ? rest.find(',') : rest.size();
    if (comma == std::string_view::npos || !ParseInt(rest.substr(0, comma), &v[i])) {
      return InvalidArgument("bad box '" + text + "': expected X,Y,W,H in pixels");
    }
    rest = i < 3 ? rest.substr(comma + 1) : std::string_view();
  }
  if (v[0] < 0 || v[1] < 0 || v[2] <= 0 || v[3] <= 0) {
    return InvalidArgument("bad box '" + text + "': X and Y must be >= 0, W and H > 0");
  }
  return Box{v[0], v[1], v[2], v[3]};
}

Result<SubjectPick> ParseSubject(const std::string& text) {
  size_t at = text.find('@');
  if (at == std::string::npos) {
    return InvalidArgument("bad subject '" + text + "': expected X,Y,W,H@SECONDS");
  }
  auto box = ParseBox(text.substr(0, at));
  if (!box.ok()) return box.status();
  SubjectPick s{*box, 0};
  if (!ParseSeconds(std::string_view(text).substr(at + 1), &s.at_s)) {
    return InvalidArgument("bad subject '" + text + "': SECONDS must be a number >= 0");
  }
  return s;
}

Result<ManualRegion> ParseManualRegion(const std::string& text) {
  const std::string form = "expected X,Y,W,H@FROM-TO (seconds)";
  size_t at = text.find('@');
  if (at == std::string::npos) return InvalidArgument("bad --manual '" + text + "': " + form);
  auto box = ParseBox(text.substr(0, at));
  if (!box.ok()) return InvalidArgument("bad --manual '" + text + "': " + form);
  std::string_view span = std::string_view(text).substr(at + 1);
  size_t dash = span.find('-');
  ManualRegion m{*box, 0, 0};
  if (dash == std::string_view::npos || !ParseSeconds(span.substr(0, dash), &m.from_s) ||
      !ParseSeconds(span.substr(dash + 1), &m.to_s)) {
    return InvalidArgument("bad --manual '" + text + "': " + form);
  }
  if (m.to_s < m.from_s) {
    return InvalidArgument("bad --manual '" + text + "': the span ends before it starts");
  }
  return m;
}

Status ValidateOptions(const RedactionOptions& o) {
  if (o.mode == Mode::kKeepSubject && !o.subject) {
    return InvalidArgument("keep-subject mode needs --subject X,Y,W,H@SECONDS");
  }
  if (o.mode == Mode::kKeepRegion && !o.region) {
    return InvalidArgument("keep-region mode needs --region X,Y,W,H");
  }
  if (o.keep_audio_reason && o.keep_audio_reason->empty()) {
    return InvalidArgument("--keep-audio needs a reason");
  }
  const DetectionParams& d = o.detection;
  if (d.detect_every < 0 || d.min_face_px < 8 || d.net_face_px < 8 || d.max_upscale < 1 ||
      d.face_score <= 0 || d.face_score >= 1 || d.max_tiles < 1 || d.sweep_frames < 0 ||
      d.tiles_per_second < 0 || d.max_tiles_per_detect < 0 || d.motion_width < 64 ||
      d.hold_frames < 0 || d.pre_frames < 0 || d.post_frames < 0 || d.margin < 0 ||
      d.margin_px < 0 || d.second_look_from_px < 0 || d.second_look_px < 0 ||
      (d.second_look_px > 0 && d.second_look_px < 8)) {
    return InvalidArgument("detection parameters out of range");
  }
  return Status::Ok();
}

int ContactSheetFrames(double duration_s) {
  if (!(duration_s > 0)) return 16;
  return static_cast<int>(std::clamp(std::ceil(duration_s / 10.0), 16.0, 360.0));
}

DetectionParams ResolveForFrameRate(DetectionParams p, double fps) {
  if (!(fps > 0 && fps < 1000)) fps = 25;
  auto frames = [&](double seconds) { return std::max(1, static_cast<int>(std::lround(seconds * fps))); };
  if (p.detect_every == 0) p.detect_every = frames(0.2);
  if (p.second_look_from_px == 0) p.second_look_from_px = 2 * p.min_face_px;
  if (p.sweep_frames == 0) p.sweep_frames = frames(2.0);
  if (p.hold_frames == 0) p.hold_frames = frames(1.0);
  if (p.pre_frames == 0) p.pre_frames = frames(1.0);
  if (p.post_frames == 0) p.post_frames = frames(0.4);
  if (p.max_tiles_per_detect == 0 && p.tiles_per_second > 0) {
    p.max_tiles_per_detect = std::max(4, static_cast<int>(std::lround(p.tiles_per_second * p.detect_every / fps)));
  }
  return p;
}

}  // namespace custodian::redaction
