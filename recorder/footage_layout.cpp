#include "recorder/footage_layout.h"

namespace custodian::recorder {

void ListFootageFiles(Filesystem& fs, const std::string& data_dir, std::vector<FootageFile>* files,
                      std::vector<std::string>* quarantined) {
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
      for (const DirEntry& f : *day)
        if (!f.is_dir) files->push_back({"footage/" + cam.name + "/" + e.name + "/" + f.name, cam.name, f.name});
    }
  }
}

}  // namespace custodian::recorder
