// RecorderService: the set of CameraRecorders for a site, kept in step with the config.
//
// Apply() starts recorders for new cameras, stops removed ones cleanly, restarts changed
// ones and leaves unchanged ones recording without a break (SIGHUP reload). Not
// thread-safe: one owner thread (the `record` verb's main thread) calls everything.
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
  records::Database& db_;
  Filesystem& fs_;
  const Clock& clock_;
  const std::string data_dir_;
  std::map<std::string, std::unique_ptr<CameraRecorder>> cameras_;
};

// The recorder's view of the configured cameras; reads each camera's password file.
Result<std::vector<CameraSettings>> CameraSettingsFromConfig(const config::SiteConfig& site);

// Writes the configured cameras into the records (new ones added, names updated).
Status RegisterCameras(records::Database& db, const config::SiteConfig& site);

}  // namespace custodian::recorder
