// RecorderService: the set of CameraRecorders for a site, kept in step with the config.
//
// Apply() starts recorders for new cameras, stops removed ones cleanly, restarts changed
// ones and leaves unchanged ones recording without a break (SIGHUP reload). A camera's
// main and sub stream recorders share the camera's activity::KeyframePictures (the activity
// index's sub stream hand-off), kept while either stream is configured, so that either may
// be restarted alone. Not thread-safe: one owner thread (the `record` verb's main thread)
// calls everything.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/site_config.h"
#include "recorder/camera_recorder.h"

namespace custodian::recorder {

class RecorderService {
 public:
  RecorderService(records::Database& db, Filesystem& fs, const Clock& clock, std::string data_dir);
  ~RecorderService();

  void Apply(const std::vector<CameraSettings>& cameras);
  void Stop();
  std::map<std::string, CameraCounters> Counters() const;
  size_t size() const { return cameras_.size(); }

 private:
  ActivityHandOff HandOffFor(const CameraSettings& c);

  records::Database& db_;
  Filesystem& fs_;
  const Clock& clock_;
  const std::string data_dir_;
  std::map<std::string, std::unique_ptr<CameraRecorder>> cameras_;
  // By camera (config::StreamOwnerId): the pictures its sub stream hands to its main stream.
  std::map<std::string, std::shared_ptr<activity::KeyframePictures>> pictures_;
};

// CamerasDirWatch: notices camera files added, changed or removed in a cameras_dir without
// a signal, so that a camera added through the web UI starts recording within seconds. It
// compares the name, size, modification time and inode of each *.yaml and *.yml file
// directly in the directory (hidden files, such as the API's temporary files, are
// skipped; an atomic rename changes the inode). Polling is enough: the `record` verb asks
// every 2 s, and a listing of a few files costs microseconds. Not thread-safe.
class CamerasDirWatch {
 public:
  explicit CamerasDirWatch(std::string dir);  // empty: never reports a change
  // Whether the files differ from the last call (or construction); remembers them, so a
  // broken file is reported once, not on every call.
  bool Changed();
  // Watches another directory (after a reload changed cameras_dir).
  void Reset(std::string dir);

 private:
  std::string Fingerprint() const;
  std::string dir_;
  std::string last_;
};

// The recorder's view of the configured cameras; reads each camera's password file.
Result<std::vector<CameraSettings>> CameraSettingsFromConfig(const config::SiteConfig& site);

// Writes the configured cameras into the records (new ones added, names updated).
Status RegisterCameras(records::Database& db, const config::SiteConfig& site);

}  // namespace custodian::recorder
