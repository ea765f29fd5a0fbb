#include "exports/player.h"

#include <map>
#include <nlohmann/json.hpp>

namespace custodian::exports {

extern const char kPlayerTemplate[];

namespace {

constexpr char kPlaceholder[] = R"({"export_id":0,"site":"","reference":"","files":[]})";

}  // namespace

std::string PlayerHtml(const Manifest& m, const std::string& manifest_name) {
  std::map<std::string, std::string> names;
  for (const ManifestRange& r : m.ranges) names[r.camera_id] = r.camera_name;
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const ManifestFile& f : m.files) {
    if (f.kind != "video" || !f.from || !f.to) continue;
    files.push_back({{"path", f.path},
                     {"camera_id", f.camera_id},
                     {"camera_name", names.count(f.camera_id) ? names[f.camera_id] : f.camera_id},
                     {"from_ms", f.from->us / 1000},
                     {"to_ms", f.to->us / 1000},
                     {"codec", f.video_codec},
                     {"width", f.width},
                     {"height", f.height}});
  }
  const nlohmann::ordered_json data = {{"export_id", m.export_id}, {"site", m.site_name},
                                       {"reference", m.reference}, {"manifest", manifest_name},
                                       {"redacted", m.redacted},   {"files", files}};
  // Inside a script element "</" would end it early: JSON allows "<\/" for the same text.
  std::string json = data.dump();
  for (size_t at = 0; (at = json.find("</", at)) != std::string::npos; at += 3)
    json.replace(at, 2, "<\\/");
  std::string page = kPlayerTemplate;
  const size_t at = page.find(kPlaceholder);
  if (at != std::string::npos) page.replace(at, sizeof(kPlaceholder) - 1, json);
  return page;
}

}  // namespace custodian::exports
