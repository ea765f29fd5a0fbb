#include "api/camera_files.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <sstream>

#include "api/passwords.h"
#include "base/log.h"
#include "config/checks.h"

namespace custodian::api {

namespace {

constexpr char kSecretsDir[] = "secrets";

std::string Join(const std::string& dir, const std::string& name) { return dir + "/" + name; }

// The path as written in a camera file: relative when it lies under cameras_dir.
std::string RelativeTo(const std::string& path, const std::string& dir) {
  const std::string prefix = dir + "/";
  return path.rfind(prefix, 0) == 0 ? path.substr(prefix.size()) : path;
}

// Creates path (a fresh temporary name) through fs with mode, writes data and syncs it; on
// failure the file is removed. The message names the path, never the data.
Status WriteNewFile(Filesystem& fs, const std::string& path, const std::string& data,
                    uint32_t mode) {
  auto f = fs.Create(path);
  if (!f.ok()) return f.status();
  // The mode is set before anything is written, so a password is never readable by others.
  Status st = fs.Chmod(path, mode);
  if (st.ok()) st = (*f)->Append(data.data(), data.size());
  if (st.ok()) st = (*f)->Sync();
  Status closed = (*f)->Close();
  if (st.ok()) st = closed;
  if (!st.ok()) (void)fs.Unlink(path);
  return st;
}

// Writes data to a hidden temporary file in dir and renames it to dir/name; Rename syncs the
// directory. On failure dir/name is unchanged and the temporary is removed.
Status ReplaceFile(Filesystem& fs, const std::string& dir, const std::string& name,
                   const std::string& data, uint32_t mode) {
  const std::string tmp = Join(dir, "." + name + ".tmp-" + RandomHex(4));
  CUSTODIAN_RETURN_IF_ERROR(WriteNewFile(fs, tmp, data, mode));
  Status st = fs.Rename(tmp, Join(dir, name));
  if (!st.ok()) (void)fs.Unlink(tmp);
  return st;
}

// The whole of a camera file; nullopt when there is none.
Result<std::optional<std::string>> ReadWhole(Filesystem& fs, const std::string& path) {
  auto read = ReadFileToString(fs, path);
  if (read.status().kind() == ErrorKind::kNotFound) return std::optional<std::string>();
  if (!read.ok()) return read.status();
  return std::optional<std::string>(std::move(read).value());
}

// A new password file under cameras_dir/secrets; returns its absolute path.
Result<std::string> WritePasswordFile(Filesystem& fs, const std::string& cameras_dir,
                                      const std::string& id, const std::string& password) {
  const std::string secrets = Join(cameras_dir, kSecretsDir);
  if (::mkdir(secrets.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus("create " + secrets, errno);
  }
  const std::string name = id + "-" + RandomHex(6) + ".password";
  CUSTODIAN_RETURN_IF_ERROR(ReplaceFile(fs, secrets, name, password + "\n", 0600));
  return Join(secrets, name);
}

void ApplyChange(const CameraChange& change, config::CameraConfig* camera) {
  if (change.name) camera->name = *change.name;
  if (change.url) camera->url = *change.url;
  if (change.sub_url) {
    camera->sub_url = *change.sub_url;
    // Recording a sub stream is set by hand in the file; it goes with the sub stream.
    if (change.sub_url->empty()) {
      camera->record_sub_stream = false;
      camera->sub_max_age_days.reset();
      camera->sub_quota_bytes.reset();
    }
  }
  if (change.make) camera->make = *change.make;
  if (change.model) camera->model = *change.model;
  if (change.firmware) camera->firmware = *change.firmware;
  if (change.transport) {
    camera->transport = *change.transport == "tcp"   ? config::Transport::kTcp
                        : *change.transport == "udp" ? config::Transport::kUdp
                                                     : config::Transport::kAuto;
  }
  if (change.username) {
    camera->username = *change.username;
    if (change.username->empty()) camera->password_file.clear();
  }
  if (change.max_age_days) camera->max_age_days = *change.max_age_days;
  if (change.allow_basic_auth) camera->allow_basic_auth = *change.allow_basic_auth;
}

const config::CameraConfig* FindCamera(const config::SiteConfig& site, const std::string& id) {
  for (const auto& c : site.cameras) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

}  // namespace

std::string CameraFileYaml(const config::CameraConfig& camera, const std::string& cameras_dir) {
  YAML::Emitter out;
  out << YAML::Comment(
      "Written by custodian's camera administration; hand edits are kept until the next "
      "change through the web UI.");
  out << YAML::BeginMap;
  out << YAML::Key << "id" << YAML::Value << camera.id;
  out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << camera.name;
  out << YAML::Key << "url" << YAML::Value << YAML::DoubleQuoted << camera.url;
  if (!camera.sub_url.empty()) {
    out << YAML::Key << "sub_url" << YAML::Value << YAML::DoubleQuoted << camera.sub_url;
  }
  if (camera.record_sub_stream) {
    out << YAML::Key << "record_sub_stream" << YAML::Value << true;
    if (camera.sub_max_age_days || camera.sub_quota_bytes) {
      out << YAML::Key << "sub_retention" << YAML::Value << YAML::BeginMap;
      if (camera.sub_max_age_days) {
        out << YAML::Key << "max_age_days" << YAML::Value << *camera.sub_max_age_days;
      }
      if (camera.sub_quota_bytes) {
        out << YAML::Key << "quota_bytes" << YAML::Value << *camera.sub_quota_bytes;
      }
      out << YAML::EndMap;
    }
  }
  const std::pair<const char*, const std::string*> device[] = {
      {"make", &camera.make}, {"model", &camera.model}, {"firmware", &camera.firmware}};
  for (const auto& [key, value] : device) {
    if (!value->empty()) out << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << *value;
  }
  out << YAML::Key << "transport" << YAML::Value << config::TransportName(camera.transport);
  if (!camera.username.empty()) {
    out << YAML::Key << "username" << YAML::Value << YAML::DoubleQuoted << camera.username;
  }
  if (!camera.password_file.empty()) {
    out << YAML::Key << "password_file" << YAML::Value << YAML::DoubleQuoted
        << RelativeTo(camera.password_file, cameras_dir);
    const std::string endpoint = camera.password_for.empty()
                                     ? config::CameraEndpoint(camera.url)
                                     : camera.password_for;
    if (!endpoint.empty()) {
      out << YAML::Key << "password_for" << YAML::Value << YAML::DoubleQuoted << endpoint;
    }
  }
  if (camera.allow_basic_auth) out << YAML::Key << "allow_basic_auth" << YAML::Value << true;
  if (camera.max_age_days || camera.quota_bytes) {
    out << YAML::Key << "retention" << YAML::Value << YAML::BeginMap;
    if (camera.max_age_days) {
      out << YAML::Key << "max_age_days" << YAML::Value << *camera.max_age_days;
    }
    if (camera.quota_bytes) {
      out << YAML::Key << "quota_bytes" << YAML::Value << *camera.quota_bytes;
    }
    out << YAML::EndMap;
  }
  if (camera.segment_seconds) {
    out << YAML::Key << "segment_seconds" << YAML::Value << *camera.segment_seconds;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

Result<config::SiteConfig> CameraFiles::LoadSite() const {
  if (site_path_.empty()) {
    return FailedPrecondition("this server was started without a site file; cameras are read-only");
  }
  auto site = config::LoadSiteConfig(site_path_, fs_);
  if (!site.ok()) {
    return FailedPrecondition("the site configuration does not load; fix it first:\n" +
                              site.status().message());
  }
  return site;
}

bool CameraFiles::IsManaged(const config::SiteConfig& site, const config::CameraConfig& camera) {
  if (site.cameras_dir.empty()) return false;
  // source is "file:line" with the file as the site spelt cameras_dir.
  const std::string file = camera.source.substr(0, camera.source.rfind(':'));
  const std::string want = camera.id + ".yaml";
  const bool named =
      file == want || (file.size() > want.size() &&
                       file.compare(file.size() - want.size() - 1, file.npos, "/" + want) == 0);
  // A hand-written list of cameras in <id>.yaml is not rewritten as a single camera.
  const auto same_file =
      std::count_if(site.cameras.begin(), site.cameras.end(), [&](const auto& c) {
        return c.source.substr(0, c.source.rfind(':')) == file;
      });
  struct stat st;
  return named && same_file == 1 && ::stat(Join(site.cameras_dir, want).c_str(), &st) == 0 &&
         S_ISREG(st.st_mode);
}

namespace {

// The camera before the change: a new one named by its id (create), or the managed camera
// it changes; or why the change cannot be made.
Result<config::CameraConfig> CameraBefore(const config::SiteConfig& site,
                                          const config::CameraConfig* existing,
                                          const std::string& id, bool create) {
  config::CameraConfig camera;
  if (create) {
    if (existing) {
      return AlreadyExists("camera id " + id + " is already used (defined at " + existing->source +
                           ")");
    }
    camera.id = id;
    camera.name = id;
    return camera;
  }
  if (!existing) return NotFound("no camera " + id + " in the configuration");
  if (!CameraFiles::IsManaged(site, *existing)) {
    return FailedPrecondition("camera " + id + " is defined at " + existing->source +
                              ", outside the API's files in cameras_dir; change it there");
  }
  return *existing;
}

// A stored password goes only to the endpoint it was entered for: whether this change
// (already applied to *camera) drops it, clearing camera->password_file when the URL moved
// to another endpoint without a new password.
bool DropsStoredPassword(const CameraChange& change, bool create,
                         const config::CameraConfig* existing, config::CameraConfig* camera) {
  const bool new_password = change.password && !change.password->empty();
  if (create || new_password) return false;
  if (!camera->password_file.empty() && change.url &&
      config::CameraEndpoint(camera->url) != (camera->password_for.empty()
                                                  ? config::CameraEndpoint(existing->url)
                                                  : camera->password_for)) {
    camera->password_file.clear();
    return true;
  }
  return !existing->password_withheld.empty();
}

// Step 5's undo: the previous <id>.yaml put back, or the new one removed.
void PutBackCameraFile(Filesystem& fs, const std::string& dir, const std::string& file_name,
                       const std::optional<std::string>& previous, const std::string& id) {
  Status undo;
  if (previous) {
    undo = ReplaceFile(fs, dir, file_name, *previous, 0640);
  } else {
    undo = fs.Unlink(Join(dir, file_name));
    if (undo.ok()) undo = fs.SyncDir(dir);
  }
  if (!undo.ok()) LogError("api") << "camera " << id << ": undo failed: " << undo.ToString();
}

// Steps 2 to 5: the camera's file written as a temporary, read back with the strict
// reader, renamed into place and checked with the whole site. On failure <id>.yaml is as it
// was and the temporary is removed. Returns the camera as loaded.
Result<config::CameraConfig> CommitCameraFile(Filesystem& fs, const config::SiteConfig& site,
                                              const config::CameraConfig& camera) {
  const std::string& dir = site.cameras_dir;
  const std::string file_name = camera.id + ".yaml";
  // Steps 2 and 3: the candidate, read back with the strict reader.
  const std::string tmp = Join(dir, "." + file_name + ".tmp-" + RandomHex(4));
  CUSTODIAN_RETURN_IF_ERROR(WriteNewFile(fs, tmp, CameraFileYaml(camera, dir), 0640));
  auto checked = config::LoadCameraFile(tmp, file_name, fs);
  if (!checked.ok()) {
    (void)fs.Unlink(tmp);
    return checked.status();
  }
  auto previous = ReadWhole(fs, Join(dir, file_name));
  if (!previous.ok()) {
    (void)fs.Unlink(tmp);
    return previous.status();
  }
  // Step 4 (Rename syncs the directory).
  Status st = fs.Rename(tmp, Join(dir, file_name));
  if (!st.ok()) {
    (void)fs.Unlink(tmp);
    return st;
  }
  // Step 5.
  auto whole = config::LoadSiteConfig(site.path, fs);
  if (!whole.ok()) {
    PutBackCameraFile(fs, dir, file_name, *previous, camera.id);
    return InvalidArgument(whole.status().message());
  }
  return checked;
}

// Step 6: the password file the change replaced, cleared or dropped is removed; only files
// this code made (under secrets/) are.
void RemoveReplacedPassword(Filesystem& fs, const std::string& dir, const CameraChange& change,
                            bool new_password, bool dropped, const std::string& old_file,
                            const std::string& current_file) {
  const bool replaced = new_password || (change.password && change.password->empty()) ||
                        (change.username && change.username->empty()) || dropped;
  if (replaced && !old_file.empty() && old_file != current_file &&
      old_file.rfind(Join(dir, kSecretsDir) + "/", 0) == 0) {
    (void)fs.Unlink(old_file);
  }
}

}  // namespace

Result<config::CameraConfig> CameraFiles::Write(const CameraChange& change, bool create,
                                                bool* password_dropped) {
  if (password_dropped) *password_dropped = false;
  static std::mutex write_mu;
  std::lock_guard<std::mutex> lock(write_mu);
  auto site = LoadSite();
  if (!site.ok()) return site.status();
  if (site->cameras_dir.empty()) {
    return FailedPrecondition(
        "cameras made through the API are stored as files in the site's cameras_dir, and "
        "none is configured: set cameras_dir in " + site->path);
  }
  const config::CameraConfig* existing = FindCamera(*site, change.id);
  auto before = CameraBefore(*site, existing, change.id, create);
  if (!before.ok()) return before.status();
  config::CameraConfig camera = std::move(before).value();
  // The password file in use before this change (the loader clears password_file when it
  // withholds a password, but the file is still there).
  const std::string old_password_file =
      existing && !existing->password_withheld.empty() ? existing->withheld_password_file
                                                       : camera.password_file;
  ApplyChange(change, &camera);
  const bool dropped = DropsStoredPassword(change, create, existing, &camera);
  camera.password_for.clear();  // written afresh from the URL beside any password file

  // Step 1.
  std::string new_password_file;
  if (change.password && !change.password->empty()) {
    auto written = WritePasswordFile(fs_, site->cameras_dir, camera.id, *change.password);
    if (!written.ok()) return written.status();
    new_password_file = *written;
    camera.password_file = new_password_file;
  } else if (change.password) {
    camera.password_file.clear();
  }
  auto committed = CommitCameraFile(fs_, *site, camera);
  if (!committed.ok()) {
    if (!new_password_file.empty()) (void)fs_.Unlink(new_password_file);
    return committed.status();
  }
  RemoveReplacedPassword(fs_, site->cameras_dir, change, !new_password_file.empty(), dropped,
                         old_password_file, camera.password_file);
  if (password_dropped) *password_dropped = dropped;
  return committed;
}

}  // namespace custodian::api
