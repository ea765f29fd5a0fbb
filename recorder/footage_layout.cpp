#include "recorder/footage_layout.h"

namespace custodian::recorder {

bool IsActivityIndexName(const std::string& name) {
  return name.ends_with(".activity") || name.ends_with(".activity.tmp");
}

void ListFootageFiles(Filesystem& fs, const std::string& data_dir, std::vector<FootageFile>* files,
                      std::vector<std::string>* quarantined, std::vector<FootageFile>* indexes) {
  const std::string footage = JoinPath(data_dir, "footage");
  auto cameras = fs.List(footage);
  if (!cameras.ok()) return;
  for (const DirEntry& cam : *cameras) {
    if (!cam.is_dir) continue;
    const std::string cam_dir = JoinPath(footage, cam.name);
    auto entries = fs.List(cam_dir);
    if (!entries.ok()) continue;
    for (const DirEntry& e : *entries) {
      if (cam.name == "quarantine") {
        quarantined->push_back("footage/quarantine/" + e.name);
        continue;
      }
      if (!e.is_dir) continue;
      auto day = fs.List(JoinPath(cam_dir, e.name));
      if (!day.ok()) continue;
      for (const DirEntry& f : *day) {
        if (f.is_dir) continue;
        FootageFile file{"footage/" + cam.name + "/" + e.name + "/" + f.name, cam.name, f.name};
        if (!IsActivityIndexName(f.name)) {
          files->push_back(std::move(file));
        } else if (indexes) {
          indexes->push_back(std::move(file));
        }
      }
    }
  }
}

}  // namespace custodian::recorder
