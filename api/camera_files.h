// CameraFiles: camera administration's reads and writes of the site configuration.
//
// Cameras made or changed through the API live as one YAML file per camera,
// <cameras_dir>/<id>.yaml, beside the files people write by hand; cameras defined in the
// site file itself (or in a cameras_dir file of another name) are read-only here, and a
// change to them is refused with kFailedPrecondition (409) naming where they are defined.
// Without a cameras_dir in the site file every write is refused the same way.
//
// A write never leaves a half-written or unchecked file in place, whichever read or write
// fails (a failed write removes its temporary file and any new password file):
//   1. a new password goes to a new file <cameras_dir>/secrets/<id>-<random>.password
//      (mode 0600, directory 0700), written, fsynced and renamed into place; it replaces
//      nothing, so a failed change leaves the old one in use;
//   2. the camera's YAML is written to a hidden temporary file in cameras_dir (which the
//      loader and the recorder's directory watch skip) and fsynced;
//   3. the temporary file is read back with config::LoadCameraFile, the same strict reader
//      as LoadSiteConfig; a problem is kInvalidArgument naming the key, and the temporary
//      file and the new password file are removed;
//   4. it is renamed over <id>.yaml and the directory fsynced;
//   5. the whole site is loaded again; should that fail (a file changed meanwhile), the
//      previous <id>.yaml is put back (or the new one removed) and the error returned;
//   6. a password file the change replaced is removed.
// A stored password belongs to the URL's endpoint (scheme, host and port): the camera file
// names it in `password_for`, and a change of the URL to another endpoint without a new
// password drops the stored one (its file removed, *password_dropped set), so that an
// administrator cannot point a camera at their own host and "test" it to harvest the
// password. A password the loader already withheld (the URL was changed by
// hand) is dropped from the file the same way.
// Passwords are never read back, returned or put in a message.
//
// Thread-safe: writes are serialised by one process-wide mutex (so a CameraFiles may be
// made per request); reads load the site afresh each time.
#pragma once

#include <optional>
#include <string>

#include "base/filesystem.h"
#include "base/status.h"
#include "config/site_config.h"

namespace custodian::api {

// What an administrator asked to change; unset members stay as they are.
struct CameraChange {
  std::string id;
  std::optional<std::string> name;
  std::optional<std::string> url;
  std::optional<std::string> sub_url;    // "" removes the sub stream
  std::optional<std::string> transport;  // "tcp", "udp" or "auto"
  std::optional<std::string> username;   // "" removes the credentials
  std::optional<std::string> password;   // "" removes the password
  std::optional<bool> allow_basic_auth;  // Basic over plain rtsp:// (sends the password in the clear)
  // What the camera is (ONVIF's GetDeviceInformation, or typed); "" clears one.
  std::optional<std::string> make;
  std::optional<std::string> model;
  std::optional<std::string> firmware;
  // Set: a new per-camera max age (nullopt inside: the site's default again).
  std::optional<std::optional<int>> max_age_days;
};

class CameraFiles {
 public:
  // Every file is read and written through fs (the site's files and cameras_dir alike).
  explicit CameraFiles(std::string site_path, Filesystem& fs = PosixFilesystem::Instance())
      : site_path_(std::move(site_path)), fs_(fs) {}

  // The site as it is on disk now; kFailedPrecondition when no site file was given.
  Result<config::SiteConfig> LoadSite() const;

  // Whether the API may change this camera: it is the only camera in <cameras_dir>/<id>.yaml.
  static bool IsManaged(const config::SiteConfig& site, const config::CameraConfig& camera);

  // Writes a new camera (create) or changes a managed one; returns it as loaded.
  // kAlreadyExists for a used id on create, kNotFound for an unknown one on update.
  Result<config::CameraConfig> Write(const CameraChange& change, bool create,
                                     bool* password_dropped = nullptr);

 private:
  const std::string site_path_;
  Filesystem& fs_;
};

// The YAML text of a camera file for `camera` (relative paths where the files are under
// cameras_dir). Exposed for tests.
std::string CameraFileYaml(const config::CameraConfig& camera, const std::string& cameras_dir);

}  // namespace custodian::api
