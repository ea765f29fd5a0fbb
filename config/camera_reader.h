// Reading cameras from YAML. Internal to config/: other modules use site_config.h.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/camera_config.h"
#include "config/yaml_reader.h"

namespace custodian::config::internal {

// Camera ids seen so far in this load, each with the "file:line" that defined it, so that a
// duplicate is caught across the site file and every cameras_dir file.
using CameraIds = std::map<std::string, std::string>;

// Reads one camera mapping found at key_path ("cameras[0]", or "" for a camera file that is
// a single mapping). Problems are reported to file, which fails the load; nullopt only when
// node is not a mapping at all.
std::optional<CameraConfig> ReadCamera(SourceFile& file, const YAML::Node& node,
                                       const std::string& key_path, CameraIds& ids);

// Reads a list of camera mappings, appending the good ones to out; items are key_path[i].
void ReadCameraList(SourceFile& file, const YAML::Node& list, const std::string& key_path,
                    const YAML::Mark& mark, CameraIds& ids, std::vector<CameraConfig>* out);

}  // namespace custodian::config::internal
