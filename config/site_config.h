// SiteConfig: the appliance's site configuration, loaded strictly from YAML.
//
// LoadSiteConfig reads the site file and any camera files under its cameras_dir, and either
// returns a SiteConfig in which every value has been checked, or fails with every problem it
// found. It never returns a half-read configuration. Each problem is one line:
//
//   site.yaml:12: cameras[1].transport: expected one of tcp, udp, auto, got "tcpp"
//
// naming the file (as the caller or cameras_dir spelt it), the 1-based line and the key path.
// Unknown keys, wrong types, missing required keys, out-of-range numbers, bad camera ids and
// URLs, duplicate camera ids and unreadable password files are all errors. Messages never
// contain a password. The key reference is docs/ref/config.md.
//
// The defaults below are the documented defaults; a key left out of the file keeps them.
// Paths in a loaded SiteConfig are absolute: relative paths in a file resolve against that
// file's directory. A SiteConfig is a plain value, safe to copy and to read from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/filesystem.h"
#include "base/log.h"
#include "base/status.h"
#include "config/camera_config.h"

namespace custodian::config {

struct RetentionConfig {
  int max_age_days = 31;            // footage older than this is deleted unless held
  int high_watermark_percent = 90;  // disk use above which retention frees space early
  int low_watermark_percent = 85;   // ... down to this disk use
  int shorten_delay_hours = 24;     // a shortened max_age_days takes effect this much later
  int export_expiry_days = 30;      // exports are deleted this long after handover or creation
};

struct RecorderConfig {
  int segment_seconds = 60;         // target segment length; cut at the next keyframe
  int stall_timeout_seconds = 5;    // no packets for this long: reconnect
  int connect_timeout_seconds = 5;  // RTSP connect and first packet
  int low_space_percent = 10;       // free space below which the recorder reports low space
  bool activity_index = true;       // keep an activity index beside each segment
  // A main stream's activity index takes its pictures from the camera's sub stream.
  bool activity_from_sub_stream = true;
};

struct HttpConfig {
  std::string listen = "127.0.0.1:8443";  // host:port, IPv6 as [addr]:port
  std::string tls_cert;                   // absolute; empty: self-signed under KeysDir
  std::string tls_key;                    // absolute; set together with tls_cert
  int session_idle_minutes = 15;
  int session_absolute_hours = 12;
  // Tests only: how long a viewing (docs/design/api.md, "Viewings") may be idle before it
  // ends, in seconds; 0 keeps the built-in 120 s. Named so that no site sets it by mistake.
  int test_only_viewing_idle_seconds = 0;
  std::string web_root = "/usr/share/custodian/web";  // the web UI's files; absolute
};

// Alarm e-mail through an SMTP relay over TLS (docs/design/health.md). Unset relay: no
// e-mail; the health page and the banner still show every alarm.
struct AlarmEmailConfig {
  std::string relay;                // "host:port"; empty: no e-mail
  std::string security = "starttls";  // starttls (port 587) or tls (port 465); never plain
  std::string ca_file;              // absolute; empty: the system's CAs
  std::string username;             // empty: no AUTH
  std::string password_file;        // absolute; read at each send, never logged
  std::string from;                 // required with relay
  std::vector<std::string> to;      // required with relay, at least one
};

struct AlarmsConfig {
  int camera_offline_seconds = 300;  // a camera without pictures this long is an alarm
  int backup_overdue_days = 8;       // 0: backups are not watched
  int dsar_warning_days = 7;         // a DSAR this close to its deadline is an alarm
  int camera_clock_limit_seconds = 2;  // a camera clock further off is an alarm; 0: not watched
  // Whether the appliance's own clock synchronisation (NTP) is watched. Only for a machine
  // that cannot synchronise and says so (the demo in a container): the health page then
  // shows the clock as not watched instead of raising an alarm nobody can clear.
  bool clock_sync_watched = true;
  AlarmEmailConfig email;
};

struct SiteConfig {
  std::string path;         // absolute path of the site file
  std::string site_name;    // site.name
  std::string data_dir;     // absolute; see the layout helpers below
  std::string cameras_dir;  // absolute; empty when not set
  RetentionConfig retention;
  RecorderConfig recorder;
  HttpConfig http;
  AlarmsConfig alarms;
  // Cameras in the site file in order, then those from cameras_dir files by file name.
  std::vector<CameraConfig> cameras;
  LogLevel log_level = LogLevel::kInfo;
};

// Loads and checks the site file at path. On failure the status is kInvalidArgument and its
// message holds every error found, one per line. The site file and the camera files are read
// through fs (a file that cannot be read is one of the errors); cameras_dir is listed and
// password files are checked directly.
Result<SiteConfig> LoadSiteConfig(const std::string& path,
                                  Filesystem& fs = PosixFilesystem::Instance());

// Loads one camera file (a single camera mapping, as in cameras_dir) with the same strict
// reader, on its own: messages name the file as display_path. For checking a camera file
// before it replaces anything (camera administration); ids are not compared with the site's.
Result<CameraConfig> LoadCameraFile(const std::string& path, const std::string& display_path,
                                    Filesystem& fs = PosixFilesystem::Instance());

// The camera's own max_age_days if set, else the site's.
int EffectiveMaxAgeDays(const SiteConfig& site, const CameraConfig& camera);
// The camera's own segment_seconds if set, else the site recorder's.
int EffectiveSegmentSeconds(const SiteConfig& site, const CameraConfig& camera);

// Layout of data_dir.
std::string RecordsDbPath(const SiteConfig& site);  // <data_dir>/records.db
std::string FootageDir(const SiteConfig& site);     // <data_dir>/footage
std::string ExportsDir(const SiteConfig& site);     // <data_dir>/exports
std::string KeysDir(const SiteConfig& site);        // <data_dir>/keys

}  // namespace custodian::config
