#include "config/camera_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "config/camera_reader.h"
#include "config/checks.h"
#include "config/limits.h"

namespace custodian::config {
namespace {

using internal::MapReader;
using internal::Presence;
using internal::Quote;
using internal::SourceFile;

// A password file larger than this is certainly the wrong file.
constexpr size_t kMaxPasswordFileBytes = 4096;

// Checks the file can be read now, so a typo fails at load rather than at 3 a.m. on the
// first reconnect. The message leaves the path out: people put the password itself in
// password_file by mistake.
std::optional<std::string> CheckPasswordFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::string("cannot read the password file: ") + std::strerror(errno);
  struct stat st;
  bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  ::close(fd);
  if (!regular) return std::string("the password file is not a regular file");
  return std::nullopt;
}

// Reads `key` (retention or sub_retention) into max_age_days and quota_bytes.
void ReadCameraRetention(MapReader& camera, const char* key, std::optional<int>* max_age_days,
                         std::optional<uint64_t>* quota_bytes) {
  std::optional<YAML::Node> node = camera.Value(key);
  if (!node) return;
  MapReader r(camera.file(), *node, camera.PathOf(key), camera.Mark(key));
  if (!r.ok()) return;
  if (auto v = r.Int("max_age_days", limits::kMaxAgeDaysMin, limits::kMaxAgeDaysMax)) {
    *max_age_days = static_cast<int>(*v);
  }
  auto bytes = r.Int("quota_bytes", limits::kQuotaBytesMin, limits::kQuotaBytesMax);
  auto gb = r.Int("quota_gb", limits::kQuotaGbMin, limits::kQuotaGbMax);
  if (r.Has("quota_bytes") && r.Has("quota_gb")) {
    r.Error("quota_gb", "give quota_bytes or quota_gb, not both");
  } else if (bytes) {
    *quota_bytes = static_cast<uint64_t>(*bytes);
  } else if (gb) {
    *quota_bytes = static_cast<uint64_t>(*gb * limits::kBytesPerGb);
  }
  r.Finish();
}

// sub_url, record_sub_stream and sub_retention; the last two only with a sub_url.
void ReadSubStream(MapReader& r, CameraConfig* out) {
  if (auto url = r.String("sub_url")) {
    if (auto problem = CheckCameraUrl(*url)) r.Error("sub_url", *problem);
    out->sub_url = *url;
    if (out->id.size() + std::strlen(kSubStreamSuffix) > kMaxCameraIdLength) {
      r.Error("sub_url", "a camera with a sub stream needs an id of at most " +
                             std::to_string(kMaxCameraIdLength - std::strlen(kSubStreamSuffix)) +
                             " characters (its sub stream is recorded as " +
                             Quote(SubStreamId(out->id)) + ")");
    }
  }
  if (auto v = r.Choice("record_sub_stream", {"true", "false"})) {
    out->record_sub_stream = *v == "true";
    if (!r.Has("sub_url")) r.Error("record_sub_stream", "needs sub_url as well");
  }
  ReadCameraRetention(r, "sub_retention", &out->sub_max_age_days, &out->sub_quota_bytes);
  if (r.Has("sub_retention") && !out->record_sub_stream) {
    r.Error("sub_retention", "applies only with record_sub_stream: true");
  }
}

void ReadDeviceText(MapReader& r, const char* key, std::string* out) {
  auto v = r.String(key);
  if (!v) return;
  if (auto problem = CheckDeviceText(*v)) {
    r.Error(key, *problem);
  } else {
    *out = *v;
  }
}

void ReadCredentials(MapReader& r, CameraConfig* out) {
  if (auto v = r.String("username")) out->username = *v;
  if (auto v = r.String("password_file")) {
    std::string path = r.file().Resolve(*v);
    if (auto problem = CheckPasswordFile(path)) {
      r.Error("password_file", *problem);
    } else {
      out->password_file = path;
    }
    if (!r.Has("username")) r.Error("password_file", "needs username as well");
  }
  r.Reject("password",
           "passwords are not written in the configuration; put it in a file readable only by "
           "custodian and name that file in password_file");
}

}  // namespace

const char* TransportName(Transport transport) {
  switch (transport) {
    case Transport::kTcp:
      return "tcp";
    case Transport::kUdp:
      return "udp";
    case Transport::kAuto:
      return "auto";
  }
  return "auto";
}

std::string SubStreamId(const std::string& camera_id) { return camera_id + kSubStreamSuffix; }

bool IsSubStreamId(const std::string& records_id) {
  const size_t n = std::strlen(kSubStreamSuffix);
  return records_id.size() > n &&
         records_id.compare(records_id.size() - n, n, kSubStreamSuffix) == 0;
}

std::string StreamOwnerId(const std::string& records_id) {
  if (!IsSubStreamId(records_id)) return records_id;
  return records_id.substr(0, records_id.size() - std::strlen(kSubStreamSuffix));
}

Result<std::string> ReadCameraPassword(const CameraConfig& camera, Filesystem& fs) {
  if (camera.password_file.empty()) return std::string();
  const std::string what = "camera " + camera.id + ": read password_file";
  auto password = ReadFileToString(fs, camera.password_file, kMaxPasswordFileBytes);
  if (password.status().kind() == ErrorKind::kResourceExhausted) {
    return InvalidArgument(what + ": the file is larger than " +
                           std::to_string(kMaxPasswordFileBytes) + " bytes");
  }
  if (!password.ok()) {
    // The seam's message is "<call> <path>: <reason>"; only the reason is kept.
    const std::string& message = password.status().message();
    const size_t colon = message.rfind(": ");
    return Status(password.status().kind(),
                  what + ": " + (colon == std::string::npos ? message : message.substr(colon + 2)));
  }
  std::string& text = *password;
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  return password;
}

namespace internal {

std::optional<CameraConfig> ReadCamera(SourceFile& file, const YAML::Node& node,
                                       const std::string& key_path, CameraIds& ids) {
  MapReader r(file, node, key_path, node.Mark());
  if (!r.ok()) return std::nullopt;
  CameraConfig camera;
  camera.source = file.Where(node.Mark());
  if (auto id = r.String("id", Presence::kRequired)) {
    if (auto problem = CheckCameraId(*id)) {
      r.Error("id", *problem);
    } else if (IsSubStreamId(*id)) {
      r.Error("id", "ids ending in " + Quote(kSubStreamSuffix) +
                        " are kept for cameras' sub streams, got " + Quote(*id));
    } else if (auto [it, added] = ids.emplace(*id, file.Where(r.Mark("id"))); !added) {
      r.Error("id", "camera id " + Quote(*id) + " is already used by the camera at " + it->second);
    }
    camera.id = *id;
  }
  camera.name = r.String("name").value_or(camera.id);
  if (auto url = r.String("url", Presence::kRequired)) {
    if (auto problem = CheckCameraUrl(*url)) r.Error("url", *problem);
    camera.url = *url;
  }
  ReadSubStream(r, &camera);
  ReadCredentials(r, &camera);
  if (auto v = r.String("password_for")) {
    if (camera.password_file.empty()) {
      r.Error("password_for", "names the endpoint of a password, and there is no password_file");
    } else if (CameraEndpoint(*v).empty()) {
      r.Error("password_for", "expected an rtsp:// or rtsps:// endpoint, got " + Quote(*v));
    } else {
      camera.password_for = CameraEndpoint(*v);
      const std::string now = CameraEndpoint(camera.url);
      if (!now.empty() && now != camera.password_for) {
        camera.password_withheld =
            "the stored password was entered for " + camera.password_for + " and the URL now "
            "points at " + now + "; it is not sent there: enter the password again";
        camera.withheld_password_file = camera.password_file;
        camera.password_file.clear();
      }
    }
  }
  if (auto v = r.Choice("allow_basic_auth", {"true", "false"})) {
    camera.allow_basic_auth = *v == "true";
  }
  if (auto t = r.Choice("transport", {"tcp", "udp", "auto"})) {
    camera.transport = *t == "tcp"   ? Transport::kTcp
                       : *t == "udp" ? Transport::kUdp
                                     : Transport::kAuto;
  }
  ReadCameraRetention(r, "retention", &camera.max_age_days, &camera.quota_bytes);
  if (auto v = r.Int("segment_seconds", limits::kSegmentSecondsMin, limits::kSegmentSecondsMax)) {
    camera.segment_seconds = static_cast<int>(*v);
  }
  ReadDeviceText(r, "make", &camera.make);
  ReadDeviceText(r, "model", &camera.model);
  ReadDeviceText(r, "firmware", &camera.firmware);
  r.Finish();
  return camera;
}

void ReadCameraList(SourceFile& file, const YAML::Node& list, const std::string& key_path,
                    const YAML::Mark& mark, CameraIds& ids, std::vector<CameraConfig>* out) {
  if (!list.IsSequence()) {
    file.Error(mark, key_path, "expected a list of cameras, got " + Describe(list));
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    std::string item_path = key_path + "[" + std::to_string(i) + "]";
    if (auto camera = ReadCamera(file, list[i], item_path, ids)) out->push_back(*camera);
  }
}

}  // namespace internal
}  // namespace custodian::config
