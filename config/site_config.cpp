#include "config/site_config.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "base/filesystem.h"
#include "config/camera_reader.h"
#include "config/checks.h"
#include "config/limits.h"
#include "config/yaml_reader.h"

namespace custodian::config {
namespace {

namespace fs = std::filesystem;
using internal::CameraIds;
using internal::ErrorList;
using internal::MapReader;
using internal::Presence;
using internal::SourceFile;

// A section such as "retention": a mapping under a top-level key, absent by default.
std::optional<MapReader> Section(MapReader& root, const std::string& key,
                                 Presence presence = Presence::kOptional) {
  std::optional<YAML::Node> node = root.Value(key, presence);
  if (!node) return std::nullopt;
  MapReader section(root.file(), *node, key, root.Mark(key));
  if (!section.ok()) return std::nullopt;
  return section;
}

// Leaves *out alone when key is absent. False when it is present but invalid.
bool ReadInt(MapReader& r, const std::string& key, int64_t min, int64_t max, int* out) {
  std::optional<int64_t> v = r.Int(key, min, max);
  if (v) *out = static_cast<int>(*v);
  return v.has_value() || !r.Has(key);
}

void ReadSite(MapReader& root, SiteConfig* site) {
  auto r = Section(root, "site", Presence::kRequired);
  if (!r) return;
  if (auto v = r->String("name", Presence::kRequired)) site->site_name = *v;
  r->Finish();
}

void ReadRetention(MapReader& root, RetentionConfig* out) {
  auto r = Section(root, "retention");
  if (!r) return;
  using namespace limits;
  ReadInt(*r, "max_age_days", kMaxAgeDaysMin, kMaxAgeDaysMax, &out->max_age_days);
  bool high_ok =
      ReadInt(*r, "high_watermark_percent", kPercentMin, kPercentMax, &out->high_watermark_percent);
  bool low_ok =
      ReadInt(*r, "low_watermark_percent", kPercentMin, kPercentMax, &out->low_watermark_percent);
  ReadInt(*r, "shorten_delay_hours", 0, kShortenDelayHoursMax, &out->shorten_delay_hours);
  ReadInt(*r, "export_expiry_days", kExportExpiryDaysMin, kExportExpiryDaysMax,
          &out->export_expiry_days);
  const int high = out->high_watermark_percent;
  const int low = out->low_watermark_percent;
  // An invalid value has been reported already; comparing its default would mislead.
  if (high_ok && low_ok && low >= high) {
    if (r->Has("low_watermark_percent")) {
      r->Error("low_watermark_percent", "must be below high_watermark_percent (" +
                                            std::to_string(high) + "), got " + std::to_string(low));
    } else {
      r->Error("high_watermark_percent", "must be above low_watermark_percent (" +
                                             std::to_string(low) + "), got " +
                                             std::to_string(high));
    }
  }
  r->Finish();
}

void ReadRecorder(MapReader& root, RecorderConfig* out) {
  auto r = Section(root, "recorder");
  if (!r) return;
  using namespace limits;
  ReadInt(*r, "segment_seconds", kSegmentSecondsMin, kSegmentSecondsMax, &out->segment_seconds);
  ReadInt(*r, "stall_timeout_seconds", kTimeoutSecondsMin, kTimeoutSecondsMax,
          &out->stall_timeout_seconds);
  ReadInt(*r, "connect_timeout_seconds", kTimeoutSecondsMin, kTimeoutSecondsMax,
          &out->connect_timeout_seconds);
  ReadInt(*r, "low_space_percent", kPercentMin, kPercentMax, &out->low_space_percent);
  if (auto v = r->Choice("activity_index", {"true", "false"})) out->activity_index = *v == "true";
  if (auto v = r->Choice("activity_from_sub_stream", {"true", "false"}))
    out->activity_from_sub_stream = *v == "true";
  r->Finish();
}

void ReadHttp(MapReader& root, HttpConfig* out) {
  auto r = Section(root, "http");
  if (!r) return;
  using namespace limits;
  if (auto v = r->String("listen")) {
    Result<ListenAddress> address = ParseListenAddress(*v);
    if (address.ok()) {
      out->listen = *v;
    } else {
      r->Error("listen", address.status().message());
    }
  }
  if (auto v = r->String("tls_cert")) out->tls_cert = r->file().Resolve(*v);
  if (auto v = r->String("tls_key")) out->tls_key = r->file().Resolve(*v);
  if (auto v = r->String("web_root")) out->web_root = r->file().Resolve(*v);
  if (r->Has("tls_cert") != r->Has("tls_key")) {
    std::string given = r->Has("tls_cert") ? "tls_cert" : "tls_key";
    r->Error(given, "tls_cert and tls_key must be given together");
  }
  ReadInt(*r, "session_idle_minutes", kSessionIdleMinutesMin, kSessionIdleMinutesMax,
          &out->session_idle_minutes);
  ReadInt(*r, "session_absolute_hours", kSessionAbsoluteHoursMin, kSessionAbsoluteHoursMax,
          &out->session_absolute_hours);
  ReadInt(*r, "test_only_viewing_idle_seconds", kTestOnlyViewingIdleSecondsMin,
          kTestOnlyViewingIdleSecondsMax, &out->test_only_viewing_idle_seconds);
  r->Finish();
}

// A relay's "host:port" ([v6]:port allowed), reported through r when it is not one.
bool CheckRelay(MapReader& r, const std::string& relay) {
  size_t colon = relay.rfind(':');
  bool ok = colon != std::string::npos && colon > 0 && colon + 1 < relay.size() &&
            relay.find_first_not_of("0123456789", colon + 1) == std::string::npos &&
            relay.size() - colon - 1 <= 5 && std::stoi(relay.substr(colon + 1)) > 0 &&
            std::stoi(relay.substr(colon + 1)) < 65536;
  if (!ok) r.Error("relay", "expected host:port, got \"" + relay + "\"");
  return ok;
}

void ReadAlarmEmail(MapReader& alarms, AlarmEmailConfig* out) {
  std::optional<YAML::Node> node = alarms.Value("email");
  if (!node) return;
  MapReader r(alarms.file(), *node, alarms.PathOf("email"), alarms.Mark("email"));
  if (!r.ok()) return;
  if (auto v = r.String("relay", Presence::kRequired)) {
    if (CheckRelay(r, *v)) out->relay = *v;
  }
  if (auto v = r.Choice("security", {"starttls", "tls"})) out->security = *v;
  if (auto v = r.String("ca_file")) out->ca_file = r.file().Resolve(*v);
  if (auto v = r.String("username")) out->username = *v;
  if (auto v = r.String("password_file")) out->password_file = r.file().Resolve(*v);
  if (r.Has("password_file") && !r.Has("username")) {
    r.Error("password_file", "needs username as well");
  }
  r.Reject("password",
           "passwords are not written in the configuration; put it in a file readable only by "
           "custodian and name that file in password_file");
  if (auto v = r.String("from", Presence::kRequired)) out->from = *v;
  if (auto list = r.Value("to", Presence::kRequired)) {
    if (!list->IsSequence() || list->size() == 0) {
      r.Error("to", "expected a list of at least one e-mail address");
    } else {
      for (const YAML::Node& item : *list) {
        std::string address = item.IsScalar() ? item.Scalar() : "";
        if (address.find('@') == std::string::npos ||
            address.find_first_of("\r\n<>, ") != std::string::npos) {
          r.Error("to", "expected e-mail addresses, got \"" + address + "\"");
        } else {
          out->to.push_back(address);
        }
      }
    }
  }
  r.Finish();
}

void ReadAlarms(MapReader& root, AlarmsConfig* out) {
  auto r = Section(root, "alarms");
  if (!r) return;
  using namespace limits;
  ReadInt(*r, "camera_offline_seconds", kCameraOfflineSecondsMin, kCameraOfflineSecondsMax,
          &out->camera_offline_seconds);
  ReadInt(*r, "backup_overdue_days", 0, kBackupOverdueDaysMax, &out->backup_overdue_days);
  ReadInt(*r, "dsar_warning_days", 0, kDsarWarningDaysMax, &out->dsar_warning_days);
  ReadInt(*r, "camera_clock_limit_seconds", 0, kCameraClockLimitSecondsMax,
          &out->camera_clock_limit_seconds);
  if (auto watched = r->Choice("clock_sync_watched", {"true", "false"})) {
    out->clock_sync_watched = *watched == "true";
  }
  ReadAlarmEmail(*r, &out->email);
  r->Finish();
}

// The *.yaml and *.yml files directly in dir, by name; hidden files are skipped.
std::vector<std::string> CameraFileNames(const std::string& dir, std::error_code& ec) {
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::string ext = it->path().extension().string();
    std::error_code type_ec;
    if (name[0] == '.' || (ext != ".yaml" && ext != ".yml")) continue;
    if (!it->is_regular_file(type_ec)) continue;
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

void ReadCameraFile(SourceFile& file, CameraIds& ids, std::vector<CameraConfig>* out) {
  std::optional<YAML::Node> node = file.Parse();
  if (!node) return;
  if (node->IsSequence()) {
    internal::ReadCameraList(file, *node, "", node->Mark(), ids, out);
  } else if (node->IsMap()) {
    if (auto camera = internal::ReadCamera(file, *node, "", ids)) out->push_back(*camera);
  } else {
    file.Error(node->Mark(), "",
               "expected a camera mapping or a list of cameras, got " + internal::Describe(*node));
  }
}

void ReadCamerasDir(MapReader& root, ErrorList& errors, CameraIds& ids, SiteConfig* site,
                    Filesystem& files) {
  std::optional<std::string> value = root.String("cameras_dir");
  if (!value) return;
  site->cameras_dir = root.file().Resolve(*value);
  std::string display_dir = root.file().ResolveForDisplay(*value);
  std::error_code ec;
  if (!fs::is_directory(site->cameras_dir, ec)) {
    root.Error("cameras_dir", "not a directory: " + internal::Quote(display_dir));
    return;
  }
  std::vector<std::string> names = CameraFileNames(site->cameras_dir, ec);
  if (ec) {
    root.Error("cameras_dir", "cannot list " + internal::Quote(display_dir) + ": " + ec.message());
    return;
  }
  int seq = 1;
  for (const std::string& name : names) {
    SourceFile file(display_dir == "." ? name : JoinPath(display_dir, name),
                    JoinPath(site->cameras_dir, name), errors, seq++, files);
    ReadCameraFile(file, ids, &site->cameras);
  }
}

void ReadTopLevel(MapReader& root, ErrorList& errors, SiteConfig* site, Filesystem& files) {
  ReadSite(root, site);
  if (auto v = root.String("data_dir", Presence::kRequired)) {
    site->data_dir = root.file().Resolve(*v);
  }
  ReadRetention(root, &site->retention);
  ReadRecorder(root, &site->recorder);
  ReadHttp(root, &site->http);
  ReadAlarms(root, &site->alarms);
  if (auto v = root.Choice("log_level", {"debug", "info", "warn", "error"})) {
    ParseLogLevel(*v, &site->log_level);
  }
  CameraIds ids;
  if (auto list = root.Value("cameras")) {
    internal::ReadCameraList(root.file(), *list, "cameras", root.Mark("cameras"), ids,
                             &site->cameras);
  }
  ReadCamerasDir(root, errors, ids, site, files);
  root.Finish();
}

}  // namespace

Result<SiteConfig> LoadSiteConfig(const std::string& path, Filesystem& files) {
  ErrorList errors;
  SiteConfig site;
  site.path = internal::AbsolutePath(path);
  SourceFile file(path, site.path, errors, 0, files);
  if (std::optional<YAML::Node> root = file.Parse()) {
    try {
      MapReader reader(file, *root, "", root->Mark());
      if (reader.ok()) ReadTopLevel(reader, errors, &site, files);
    } catch (const YAML::Exception& e) {
      // Reading only walks nodes that exist, so this would be a bug in the reader.
      file.Error(e.mark, "", std::string("internal error reading YAML: ") + e.what());
    }
  }
  if (!errors.empty()) return InvalidArgument(errors.Joined());
  return site;
}

Result<CameraConfig> LoadCameraFile(const std::string& path, const std::string& display_path,
                                    Filesystem& files) {
  ErrorList errors;
  SourceFile file(display_path, internal::AbsolutePath(path), errors, 0, files);
  std::optional<CameraConfig> camera;
  if (std::optional<YAML::Node> node = file.Parse()) {
    CameraIds ids;
    if (!node->IsMap()) {
      file.Error(node->Mark(), "", "expected a camera mapping, got " + internal::Describe(*node));
    } else {
      try {
        camera = internal::ReadCamera(file, *node, "", ids);
      } catch (const YAML::Exception& e) {
        file.Error(e.mark, "", std::string("internal error reading YAML: ") + e.what());
      }
    }
  }
  if (!errors.empty()) return InvalidArgument(errors.Joined());
  if (!camera) return InvalidArgument(display_path + ": no camera read");
  return *camera;
}

int EffectiveMaxAgeDays(const SiteConfig& site, const CameraConfig& camera) {
  return camera.max_age_days.value_or(site.retention.max_age_days);
}

int EffectiveSegmentSeconds(const SiteConfig& site, const CameraConfig& camera) {
  return camera.segment_seconds.value_or(site.recorder.segment_seconds);
}

std::string RecordsDbPath(const SiteConfig& site) { return JoinPath(site.data_dir, "records.db"); }
std::string FootageDir(const SiteConfig& site) { return JoinPath(site.data_dir, "footage"); }
std::string ExportsDir(const SiteConfig& site) { return JoinPath(site.data_dir, "exports"); }
std::string KeysDir(const SiteConfig& site) { return JoinPath(site.data_dir, "keys"); }

}  // namespace custodian::config
