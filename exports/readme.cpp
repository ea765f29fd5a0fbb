#include "exports/readme.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>

namespace custodian::exports {

namespace {

std::string Local(const TimeZone& zone, UtcMicros t) {
  LocalTime l = zone.ToLocal(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s %02d:%02d:%02d %s", FormatCivilDate(l.date).c_str(), l.hour,
                l.minute, l.second, l.abbreviation.c_str());
  return buf;
}

std::string Span(const TimeZone& zone, UtcMicros from, UtcMicros to) {
  return Local(zone, from) + " to " + Local(zone, to);
}

// "+30.2 s" (ahead) or "-0.4 s" (behind), to a tenth of a second.
std::string Seconds(int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f s", static_cast<double>(us) / 1e6);
  return buf;
}

}  // namespace

std::string CameraClockLines(const std::vector<ManifestSegment>& segments) {
  struct Range {
    std::optional<int64_t> low, high;
  };
  std::map<std::string, Range> cameras;
  for (const ManifestSegment& s : segments) {
    Range& r = cameras[s.camera_id];
    if (!s.clock_offset_us) continue;
    r.low = std::min(r.low.value_or(*s.clock_offset_us), *s.clock_offset_us);
    r.high = std::max(r.high.value_or(*s.clock_offset_us), *s.clock_offset_us);
  }
  std::ostringstream o;
  o << "  Which clock: every time here is the appliance's clock when the footage was recorded,\n"
       "  not the camera's. A camera's own clock (and any time it shows in its picture) may\n"
       "  differ; as measured from the time reports the camera sent (+ ahead, - behind):\n";
  for (const auto& [camera, r] : cameras) {
    o << "    camera " << camera << ": ";
    if (!r.low) {
      o << "camera clock unknown (the camera sent no time reports)\n";
    } else if (*r.low == *r.high) {
      o << Seconds(*r.low) << "\n";
    } else {
      o << Seconds(*r.low) << " to " << Seconds(*r.high) << "\n";
    }
  }
  return o.str();
}

namespace {

// The title and who asked, on what basis, who exported and approved it.
void WriteHeading(std::ostream& o, const Manifest& m, const TimeZone& zone) {
  o << "CCTV FOOTAGE EXPORT " << m.export_id << (m.site_name.empty() ? "" : " - " + m.site_name)
    << "\n\n";
  o << "Request:   " << m.request_type << " request"
    << (m.reference.empty() ? "" : ", reference " + m.reference) << "\n";
  o << "Basis:     " << m.legal_basis_text
    << (m.legal_basis_detail.empty() ? "" : " (" + m.legal_basis_detail + ")") << "\n";
  o << "Exported:  " << Local(zone, m.created) << " by " << m.exporter.name << "\n";
  o << "Approved:  " << (m.approved ? Local(zone, *m.approved) : std::string("-")) << " by "
    << m.approver.name << "\n";
  o << "Redacted:  " << (m.redacted ? "yes" : "no, this is the footage as recorded") << "\n\n";
}

// The folders and files, with each working copy's camera and time.
void WriteContents(std::ostream& o, const Manifest& m, const TimeZone& zone) {
  o << "WHAT IS INSIDE\n\n";
  bool master = false;
  for (const ManifestFile& f : m.files) master = master || f.kind == "original";
  if (master) {
    o << "  master/       THE MASTER EXHIBIT: the files the camera recording was written to,\n"
         "                bit for bit, as the appliance recorded them (about a minute each). Only\n"
         "                these are evidence of exactly what was recorded; keep them unaltered.\n";
  } else {
    o << "  (no master/)  The recorded files themselves were not asked for in this export; they\n"
         "                stay on the appliance, held for this request, and their SHA-256 are in\n"
         "                manifest.json (\"segments\").\n";
  }
  o << "  working/      WORKING COPIES to view and share: one MP4 per camera for each\n"
       "                continuous stretch, named export-<export>_<camera>_<start UTC>.mp4. Their\n"
       "                video is the recorded video, not re-encoded, joined from the recorded\n"
       "                files and cut to the time asked for, with a subtitle track added that\n"
       "                shows the date, time and camera in every picture.\n";
  for (const ManifestFile& f : m.files) {
    if (f.kind != "video" || !f.from || !f.to) continue;
    o << "      " << f.path << "\n          camera " << f.camera_id << ", "
      << Span(zone, *f.from, *f.to) << ", " << f.width << "x" << f.height << "\n";
  }
  o << "  player.html             a player for the working copies: open it in a web browser\n"
       "                          (see HOW TO PLAY); it also checks the files\n"
       "  manifest.json           what was exported and why, with the SHA-256 of every file\n"
       "  manifest.json.minisig   the appliance's digital signature of manifest.json\n"
       "  SHA256SUMS              the SHA-256 of every file, for sha256sum -c\n"
       "  custodian-export.pub    the appliance's public key (see HOW TO CHECK)\n\n";
}

// Each camera's time asked for and the footage found for it.
void WriteRequestedAndCovered(std::ostream& o, const Manifest& m, const TimeZone& zone) {
  o << "REQUESTED AND COVERED\n\n";
  for (const ManifestRange& r : m.ranges) {
    o << "  camera " << r.camera_id << " (" << r.camera_name << ")\n";
    if (!r.camera_make.empty() || !r.camera_model.empty()) {
      o << "      device     " << r.camera_make << (r.camera_make.empty() ? "" : " ")
        << r.camera_model << (r.camera_firmware.empty() ? "" : ", firmware " + r.camera_firmware)
        << "\n";
    }
    o << "      asked for  " << Span(zone, r.from, r.to) << "\n";
    if (r.covered_from && r.covered_to) {
      o << "      covered    " << Span(zone, *r.covered_from, *r.covered_to) << "\n";
    } else {
      o << "      covered    nothing: no footage was found\n";
    }
  }
  o << "\n  Each file starts at the camera keyframe at or just before the time asked for, so it\n"
       "  may begin a second or two early and end a second or two late.\n\n";
}

// Where there is no footage, and why.
void WriteGaps(std::ostream& o, const Manifest& m, const TimeZone& zone) {
  o << "GAPS\n\n";
  if (m.gaps.empty()) o << "  None: the footage is continuous over every time asked for.\n";
  for (const ManifestGap& g : m.gaps) {
    o << "  camera " << g.camera_id << ": " << Span(zone, g.from, g.to) << " - " << g.reason
      << "\n";
  }
  o << "\n  A gap means there is no footage for that time. Nothing has been filled in or joined\n"
       "  over it; a gap inside a requested time starts a new file.\n\n";
}

// How the times are given, and how far the cameras' clocks can be trusted.
void WriteTimes(std::ostream& o, const Manifest& m) {
  o << "TIMES\n\n"
       "  Times in this file are UK local time: GMT (UTC+00:00) in winter, BST (UTC+01:00) in\n"
       "  summer. In manifest.json every time is given twice: in UTC (ending in Z) and in UK\n"
       "  local time with its offset (e.g. +01:00). A player's clock counts from 0:00 at the\n"
       "  start of each file; add it to the file's start time above.\n"
       "  Every working copy also has a subtitle track (MP4 timed text) giving the UK date and\n"
       "  time, GMT or BST, and the camera's name for each second of the picture: turn subtitles\n"
       "  on to see them (VLC: Subtitle > Sub Track > Track 1). The export added that track; the\n"
       "  video track is the camera's own, byte for byte.\n"
       "  Clock: "
    << ClockQualityText(m.segments) << ".\n"
    << CameraClockLines(m.segments) << "\n";
}

// How to play the files.
void WriteHowToPlay(std::ostream& o) {
  o << "HOW TO PLAY\n\n"
       "  Open player.html from this folder in a web browser (Chrome, Edge, Firefox, Safari;\n"
       "  nothing is installed and nothing goes on the internet). It plays every camera side by\n"
       "  side on one timeline in UK local time, at any speed, a frame at a time, saves stills\n"
       "  with the date, time and camera on them, and checks every file against manifest.json\n"
       "  when you choose this folder under \"Check the files\".\n"
       "  The files are the camera's own H.264/H.265 video, copied without re-encoding.\n"
       "  - VLC media player (videolan.org): Media > Open File, or drag the file onto VLC.\n"
       "  - ffplay: ffplay working/FILE.mp4 (the time is shown as subtitles)\n"
       "  - A web browser (Chrome, Edge, Firefox, Safari): drag the file into a browser window.\n"
       "    Browsers may not play H.265 (HEVC); use VLC for those.\n\n";
}

// How to check the signature and the hashes.
void WriteHowToCheck(std::ostream& o, const PublicKey& key) {
  o << "HOW TO CHECK THE EXPORT HAS NOT BEEN ALTERED\n\n"
       "  1. Check the signature on manifest.json with minisign (jedisct1.github.io/minisign):\n\n"
       "       minisign -Vm manifest.json -P "
    << key.Base64()
    << "\n\n"
       "     It must say \"Signature and comment signature verified\". The key id is "
    << key.KeyIdHex()
    << ".\n"
       "     Compare the key with the one the charity gave you separately (a letter, its\n"
       "     website): the copy in custodian-export.pub travels with the files, so on its own\n"
       "     it proves nothing.\n"
       "  2. Check every file against the hashes in SHA256SUMS:\n\n"
       "       sha256sum -c SHA256SUMS\n\n"
       "     and that the SHA-256 of SHA256SUMS itself (sha256sum SHA256SUMS) is the one\n"
       "     manifest.json lists for it.\n"
       "  3. Or, where Custodian is installed, do both at once:\n\n"
       "       custodian export verify THIS_FOLDER\n\n"
       "  A file altered by even one byte fails these checks.\n";
}

}  // namespace

std::string ReadmeText(const Manifest& m, const PublicKey& key, const TimeZone& zone) {
  std::ostringstream o;
  WriteHeading(o, m, zone);
  WriteContents(o, m, zone);
  WriteRequestedAndCovered(o, m, zone);
  WriteGaps(o, m, zone);
  WriteTimes(o, m);
  WriteHowToPlay(o);
  WriteHowToCheck(o, key);
  return o.str();
}

}  // namespace custodian::exports
