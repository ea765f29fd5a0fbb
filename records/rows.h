// Row types of the confidentiality records: plain values copied in and out of the
// database, one struct per table (or per purpose where a caller needs fewer columns).
//
// Instants are UtcMicros (wall-clock UTC); durations are int64_t with `_us` in the name.
// Fields documented as "stamped" are set from the database's Clock when the row is
// written; whatever the caller puts there is ignored. Enum names are the exact strings
// stored in the database, which CHECK constraints restrict to the same sets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"

namespace custodian::records {

// The longest a segment may be (end - start). The schema enforces it (keep the CHECK in
// schema_v1.cpp equal), and range queries rely on it to use the (camera_id, start_us)
// index instead of scanning a camera's whole history. Twice the longest configurable
// segment_seconds, since a segment is cut at the first keyframe after that length.
constexpr int64_t kMaxSegmentDurationUs = 7200 * kMicrosPerSecond;

enum class SegmentState { kRecording, kComplete, kDeleting };
enum class GapReason { kCameraOffline, kRecorderStopped, kCrash, kStall, kAuthFailed, kError };
enum class Role { kStaff, kManager, kDpo, kAdmin };
enum class AccessResult { kOk, kDenied, kError };
enum class DeletionRule { kMaxAge, kDiskPressure, kQuota, kExportExpiry, kManual };

const char* Name(SegmentState v);
const char* Name(GapReason v);
const char* Name(Role v);
const char* Name(AccessResult v);
const char* Name(DeletionRule v);
std::optional<SegmentState> ParseSegmentState(std::string_view s);
std::optional<GapReason> ParseGapReason(std::string_view s);
std::optional<Role> ParseRole(std::string_view s);
std::optional<AccessResult> ParseAccessResult(std::string_view s);
std::optional<DeletionRule> ParseDeletionRule(std::string_view s);

struct CameraRow {
  std::string id;  // [a-z0-9-]{1,64}; the key in config and in footage paths
  std::string name;
  UtcMicros created;  // stamped on first insert, kept by later upserts
  // What the camera is, from its configuration (ONVIF fills these in); "" when unknown.
  // Defaulted so that {id, name, created} still initialises a row without a warning.
  std::string make = {};
  std::string model = {};
  std::string firmware = {};
};

struct SegmentRow {
  int64_t id = 0;
  std::string camera_id;
  std::optional<int64_t> run_id;
  UtcMicros start;
  std::optional<UtcMicros> end;  // unset while recording
  std::string path;              // relative to data_dir, e.g. footage/cam/2026-01-02/x.mp4
  int64_t bytes = 0;
  int64_t duration_us = 0;  // media duration, which may differ from end - start
  std::string video_codec;  // "h264", "hevc"; may be empty until the first keyframe
  int width = 0;
  int height = 0;
  std::optional<std::string> audio_codec;
  std::optional<std::string> audio_note;  // why audio was not recorded, if it was not
  std::optional<std::string> sha256;      // lowercase hex; set when complete
  SegmentState state = SegmentState::kRecording;
  bool clock_synced = false;               // wall clock was NTP-synchronised at start
  std::optional<int64_t> clock_offset_us;  // measured camera-minus-appliance offset
};

// What FinishSegment writes when a segment's file has been closed and made durable.
struct SegmentFinish {
  UtcMicros end;
  int64_t bytes = 0;
  int64_t duration_us = 0;
  std::string sha256;
  std::string video_codec;
  int width = 0;
  int height = 0;
  std::optional<std::string> audio_codec;
  std::optional<std::string> audio_note;
};

// The columns retention needs, for scans over every complete segment.
struct SegmentBrief {
  int64_t id = 0;
  std::string camera_id;
  UtcMicros start;
  UtcMicros end;
  int64_t bytes = 0;
};

// A continuous recording period of one camera.
struct RunRow {
  int64_t id = 0;
  std::string camera_id;
  UtcMicros start;
  std::optional<UtcMicros> end;  // unset while the run continues (or after a crash)
};

struct GapRow {
  int64_t id = 0;
  std::string camera_id;
  UtcMicros start;
  UtcMicros end;
  GapReason reason = GapReason::kError;
  std::string detail;  // no personal data: an error text or "recorder restarted"
};

struct CameraStatusRow {
  std::string camera_id;
  bool online = false;
  std::optional<UtcMicros> last_packet;
  int64_t bitrate_bps = 0;
  std::optional<std::string> last_error;
  UtcMicros updated;  // stamped
};

struct DeletionRow {
  int64_t id = 0;
  UtcMicros at;                          // stamped
  std::optional<std::string> camera_id;  // unset for an export's files
  UtcMicros from;
  UtcMicros to;
  int64_t segment_count = 0;
  int64_t bytes = 0;
  std::vector<std::string> sha256s;  // of every file deleted
  DeletionRule rule = DeletionRule::kMaxAge;
  std::optional<int64_t> export_id;   // for kExportExpiry
  std::optional<int64_t> deleted_by;  // user id; required for kManual
  std::string detail;
};

struct AlarmRow {
  int64_t id = 0;
  std::string kind;  // e.g. "disk_full", "camera_offline:door-1"
  UtcMicros raised;  // stamped
  std::optional<UtcMicros> cleared;
  std::string detail;
  std::optional<UtcMicros> acknowledged;  // schema v8: when a person acknowledged it
  std::optional<int64_t> acknowledged_by;
  std::optional<UtcMicros> notified;      // when the relay accepted its e-mail
};

struct HoldRange {
  std::string camera_id;
  UtcMicros from;
  UtcMicros to;  // exclusive
};

// Footage kept past its expiry for a request or legal matter.
struct HoldRow {
  int64_t id = 0;
  std::string reason;
  int64_t owner_user_id = 0;
  std::optional<int64_t> request_id;
  UtcMicros review;   // when a person must decide whether the hold is still needed
  UtcMicros created;  // stamped
  std::optional<UtcMicros> released;
  std::optional<int64_t> released_by;
  std::vector<HoldRange> ranges;  // at least one
};

// A retention setting change that takes effect only later (see docs/design/schema.md).
struct PolicyChangeRow {
  int64_t id = 0;
  std::optional<std::string> camera_id;  // unset: the site-wide default
  std::string key;                       // e.g. "max_age_days"
  std::optional<std::string> old_value;
  std::string new_value;
  std::optional<int64_t> requested_by;
  UtcMicros requested;  // stamped
  UtcMicros effective;
  std::optional<UtcMicros> applied;
  std::optional<UtcMicros> cancelled;
};

// An export package as retention sees it (exports built in api/; expiry in retention/).
// Only exports whose files may still be on disk are listed: state ready or failed, or
// expired with files not yet gone (`expiring`).
struct ExportExpiryRow {
  int64_t id = 0;
  int64_t request_id = 0;
  std::optional<std::string> path;  // relative to data_dir unless absolute
  UtcMicros created;
  std::optional<UtcMicros> expires;        // set by whoever built or extended the export
  std::optional<UtcMicros> last_handover;  // the latest disclosure of this export
  int64_t bytes = 0;
  std::optional<std::string> manifest_sha256;
  bool expiring = false;  // state expired, files being removed (finish before planning)
  std::vector<HoldRange> ranges;  // the footage the export holds (export_ranges)
};

}  // namespace custodian::records
