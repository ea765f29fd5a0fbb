// CameraConfig: one camera as the site configuration describes it.
//
// Values here have been checked by LoadSiteConfig (site_config.h): the id is a safe path
// component, the URL is rtsp:// or rtsps:// with a host and no embedded credentials, and the
// password file existed and was readable at load time. The password itself is never held in
// the configuration; the recorder reads it with ReadCameraPassword when it connects, so that
// a changed password takes effect on the next connection and the secret is not copied into
// every structure that holds a CameraConfig. Plain values, safe to copy between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/filesystem.h"
#include "base/status.h"

namespace custodian::config {

// How the RTSP session carries media. kAuto tries TCP first and falls back to UDP.
enum class Transport { kTcp, kUdp, kAuto };

// "tcp", "udp" or "auto": the spelling the config file uses.
const char* TransportName(Transport transport);

struct CameraConfig {
  // [a-z0-9-], 1 to 64 characters, starting with a letter or digit. Stable: it names the
  // camera's footage directory and its rows in the records.
  std::string id;
  std::string name;           // for people; defaults to id
  std::string url;            // rtsp:// or rtsps://, without credentials: safe to log
  std::string sub_url;        // the camera's sub stream (rtsp:// or rtsps://); empty: none
  std::string username;       // empty: no authentication
  std::string password_file;  // absolute; empty when there is no password
  // The endpoint (config::CameraEndpoint) the password was entered for, as the API records
  // it in `password_for`; empty when not recorded. When the URL's endpoint differs (its
  // host, scheme or port was changed by hand), the loader drops the password: password_file
  // is cleared and password_withheld says why, so the password never goes to the new host.
  std::string password_for;
  std::string password_withheld;
  std::string withheld_password_file;  // the file it was in (left for the API to remove)
  // Answer a camera's Basic challenge over plain rtsp://, which sends the password in the
  // clear (`allow_basic_auth: true`). Off: only Digest is answered there.
  bool allow_basic_auth = false;
  Transport transport = Transport::kAuto;
  std::optional<int> max_age_days;      // overrides retention.max_age_days
  std::optional<uint64_t> quota_bytes;  // footage of this camera kept within this size
  std::optional<int> segment_seconds;   // overrides recorder.segment_seconds
  // The sub stream (sub_url) is always recorded under SubStreamId(id), since live view
  // reads the recorder's files. Kept for live view only (record_sub_stream false, the
  // default), its footage is held within kLiveOnlySubStreamBytes; recorded for review
  // (`record_sub_stream: true`), it is kept as `sub_retention` says (max_age_days,
  // quota_bytes or quota_gb), else as the main stream's max age.
  bool record_sub_stream = false;
  std::optional<int> sub_max_age_days;
  std::optional<uint64_t> sub_quota_bytes;
  // What the camera is, as it said over ONVIF (GetDeviceInformation) or as typed; recorded
  // with the camera's row and named in exports' manifests. Printable text of at most
  // kMaxDeviceTextLength characters; "" when unknown.
  std::string make;
  std::string model;
  std::string firmware;
  std::string source;                   // "file:line" where the camera is defined
};

// A sub stream kept for live view only is held within this many bytes (the newest
// footage: about an hour of a 640x360 stream at 0.5 Mbit/s).
inline constexpr uint64_t kLiveOnlySubStreamBytes = 256ull * 1024 * 1024;

// The records id of camera_id's sub stream: "<camera_id>--sub". It is recorded as a camera
// of its own in the records (segments, runs, gaps, status), but is not a camera people see,
// grant or request: it is the camera's. Configured ids cannot end in "--sub", and a camera
// with a sub_url has an id short enough for the suffix (CheckCameraId's limit).
inline constexpr char kSubStreamSuffix[] = "--sub";
std::string SubStreamId(const std::string& camera_id);
// Whether a records camera id is a sub stream's.
bool IsSubStreamId(const std::string& records_id);
// The camera whose stream a records camera id is: the id itself for a camera, the camera
// for a sub stream id.
std::string StreamOwnerId(const std::string& records_id);

// The camera's password: the content of password_file with one trailing newline removed,
// or "" when the camera has no password_file; read through fs. The error message never
// contains the password (nor the path, where people put the password itself by mistake).
Result<std::string> ReadCameraPassword(const CameraConfig& camera,
                                       Filesystem& fs = PosixFilesystem::Instance());

}  // namespace custodian::config
