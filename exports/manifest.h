// Manifest: what an export package holds and why, as manifest.json.
//
// The manifest names the request (reference, type, legal basis), who exported and who
// approved, when, the software, each requested camera range and the stretch it actually
// covers (output starts at the keyframe at or before the requested start), the gaps
// inside it, the clock quality of the recording, and the SHA-256 and size of every file in
// the package and of every source segment read. Times are UTC ("...Z") with the UK local
// time beside them.
//
// The JSON is deterministic: keys in a fixed order, arrays in a fixed order, so the same
// export facts give the same bytes (and the same signature input).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "base/zoneinfo.h"

namespace custodian::exports {

inline constexpr char kManifestFormat[] = "custodian-export-manifest-1";
inline constexpr char kManifestName[] = "manifest.json";
inline constexpr char kSignatureName[] = "manifest.json.minisig";
inline constexpr char kPublicKeyName[] = "custodian-export.pub";
inline constexpr char kReadmeName[] = "README.txt";
inline constexpr char kChecksumsName[] = "SHA256SUMS";

struct ManifestFile {
  std::string path;  // relative to the package, '/'-separated
  // "video" (a working copy), "original" (the master), "burned_in" (a working copy
  // re-encoded with the time in the picture), "readme", "public_key", "checksums"
  std::string kind;
  int64_t bytes = 0;
  std::string sha256;
  // Video and original files:
  std::string camera_id;
  std::optional<UtcMicros> from;
  std::optional<UtcMicros> to;
  std::string video_codec;
  int width = 0, height = 0;
  std::vector<int64_t> source_segments;  // ids
  // Video files: the id of the wall-clock timed-text track (timed_text.h); 0 for none.
  uint32_t timed_text_track = 0;
  // Burned-in copies: the working copy this file was re-encoded from.
  std::string derived_from;
};

struct ManifestSegment {
  int64_t id = 0;
  std::string camera_id;
  std::string file_name;  // the recorded file's name
  UtcMicros start;
  UtcMicros end;
  int64_t bytes = 0;
  std::string sha256;            // as recorded when the segment was written
  bool sha256_verified = false;  // re-read and matched during this export
  bool clock_synced = false;
  std::optional<int64_t> clock_offset_us;
  std::string video_codec;
  int width = 0, height = 0;
};

struct ManifestGap {
  std::string camera_id;
  UtcMicros from;
  UtcMicros to;
  std::string reason;  // recorded gap reasons, or "no footage recorded"
};

struct ManifestRange {
  std::string camera_id;
  std::string camera_name;
  // What recorded it, as the camera's record says at export time ("" when unknown).
  std::string camera_make;
  std::string camera_model;
  std::string camera_firmware;
  UtcMicros from;
  UtcMicros to;
  std::optional<UtcMicros> covered_from;  // unset when nothing was found
  std::optional<UtcMicros> covered_to;
  std::vector<std::string> files;  // video files for this range, in time order
};

struct ManifestPerson {
  int64_t user_id = 0;
  std::string name;
};

struct Manifest {
  int64_t export_id = 0;
  std::string site_name;
  int64_t request_id = 0;
  std::string request_type;
  std::string reference;
  std::string requester_organisation;
  std::string legal_basis;       // the code, e.g. "crime_prevention"
  std::string legal_basis_text;  // the same in words
  std::string legal_basis_detail;
  ManifestPerson exporter;
  ManifestPerson approver;
  std::optional<UtcMicros> approved;
  UtcMicros created;
  std::string software_version;
  std::string software_revision;
  std::string key_id;
  bool redacted = false;
  std::vector<ManifestRange> ranges;
  std::vector<ManifestGap> gaps;
  std::vector<ManifestSegment> segments;
  std::vector<ManifestFile> files;
};

// manifest.json's bytes.
std::string ManifestJson(const Manifest& m, const TimeZone& zone);

// What `export verify` needs back from a manifest.
struct ManifestSummary {
  std::string format;
  int64_t export_id = 0;
  std::string reference;
  std::string created_utc;
  std::string key_id;
  std::string site_name;
  // path, kind, bytes, sha256; for video files also the camera, times, codec and size
  std::vector<ManifestFile> files;
  std::vector<ManifestRange> ranges;  // camera id and name only
};
Result<ManifestSummary> ParseManifest(const std::string& json);

// A short summary of the clock quality of the segments: "all N segments were recorded with
// the appliance clock synchronised (NTP); camera clocks within 40 ms" etc.
std::string ClockQualityText(const std::vector<ManifestSegment>& segments);

}  // namespace custodian::exports
