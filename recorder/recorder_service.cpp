#include "recorder/recorder_service.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <set>

#include "base/log.h"
#include "config/checks.h"

namespace custodian::recorder {

RecorderService::RecorderService(records::Database& db, Filesystem& fs, const Clock& clock,
                                 std::string data_dir)
    : db_(db), fs_(fs), clock_(clock), data_dir_(std::move(data_dir)) {}

RecorderService::~RecorderService() { Stop(); }

void RecorderService::Apply(const std::vector<CameraSettings>& cameras) {
  std::set<std::string> wanted;
  for (const CameraSettings& c : cameras) wanted.insert(c.id);
  for (auto it = cameras_.begin(); it != cameras_.end();) {
    if (!wanted.count(it->first)) {
      LogInfo("recorder") << "camera " << it->first << " removed from the config; stopping it";
      it->second->Stop();
      it = cameras_.erase(it);
    } else {
      ++it;
    }
  }
  for (const CameraSettings& c : cameras) {
    auto it = cameras_.find(c.id);
    if (it != cameras_.end()) {
      if (it->second->settings() == c) continue;
      LogInfo("recorder") << "camera " << c.id << " changed in the config; restarting it";
      it->second->Stop();
      cameras_.erase(it);
    } else {
      LogInfo("recorder") << "camera " << c.id << " starting: " << RedactUrl(c.url);
    }
    auto rec = std::make_unique<CameraRecorder>(c, db_, fs_, clock_, data_dir_, HandOffFor(c));
    rec->Start();
    cameras_[c.id] = std::move(rec);
  }
  for (auto it = pictures_.begin(); it != pictures_.end();) {
    const bool configured =
        cameras_.count(it->first) || cameras_.count(config::SubStreamId(it->first));
    it = configured ? std::next(it) : pictures_.erase(it);
  }
}

// Every main stream is given its camera's pictures, whether or not the camera has a sub
// stream now: a sub stream added by a reload then starts handing pictures over without
// restarting the main stream, which until then finds none and decodes its own.
ActivityHandOff RecorderService::HandOffFor(const CameraSettings& c) {
  if (!c.activity_index || !c.activity_from_sub_stream) return {};
  std::shared_ptr<activity::KeyframePictures>& pictures = pictures_[config::StreamOwnerId(c.id)];
  if (!pictures) pictures = std::make_shared<activity::KeyframePictures>();
  return {pictures, config::IsSubStreamId(c.id)};
}

void RecorderService::Stop() {
  // Stop all at once: each Stop() cancels its camera's blocking read, then joins.
  for (auto& [id, rec] : cameras_) rec->RequestStop();
  for (auto& [id, rec] : cameras_) rec->Stop();
  cameras_.clear();
}

std::map<std::string, CameraCounters> RecorderService::Counters() const {
  std::map<std::string, CameraCounters> out;
  for (const auto& [id, rec] : cameras_) out[id] = rec->Counters();
  return out;
}

CamerasDirWatch::CamerasDirWatch(std::string dir) : dir_(std::move(dir)), last_(Fingerprint()) {}

bool CamerasDirWatch::Changed() {
  std::string now = Fingerprint();
  if (now == last_) return false;
  last_ = std::move(now);
  return true;
}

void CamerasDirWatch::Reset(std::string dir) {
  dir_ = std::move(dir);
  last_ = Fingerprint();
}

std::string CamerasDirWatch::Fingerprint() const {
  if (dir_.empty()) return "";
  std::vector<std::string> lines;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const std::string ext = it->path().extension().string();
    if (name.empty() || name[0] == '.' || (ext != ".yaml" && ext != ".yml")) continue;
    struct stat st;
    if (::stat(it->path().c_str(), &st) != 0) continue;
    lines.push_back(name + " " + std::to_string(st.st_size) + " " +
                    std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) +
                    " " + std::to_string(st.st_ino));
  }
  // A directory that cannot be listed is a state of its own: a change when it comes back.
  if (ec) return "unreadable: " + ec.message();
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

namespace {

// The camera's sub stream, recorded as a camera of its own (config::SubStreamId). The
// password goes only to the endpoint it was entered for: a sub_url on another host, scheme
// or port gets none, with the reason as its status.
CameraSettings SubStreamSettings(const config::CameraConfig& c, const CameraSettings& main) {
  CameraSettings s = main;
  s.id = config::SubStreamId(c.id);
  s.url = c.sub_url;
  const std::string endpoint = config::CameraEndpoint(c.sub_url);
  const std::string password_for =
      c.password_for.empty() ? config::CameraEndpoint(c.url) : c.password_for;
  if (!s.password.empty() && endpoint != password_for) {
    s.password.clear();
    s.password_withheld = "the password was entered for " + password_for +
                          " and the sub stream is at " + endpoint +
                          "; it is not sent there: give the sub stream the main stream's host";
  }
  return s;
}

}  // namespace

Result<std::vector<CameraSettings>> CameraSettingsFromConfig(const config::SiteConfig& site) {
  std::vector<CameraSettings> out;
  for (const config::CameraConfig& c : site.cameras) {
    CameraSettings s;
    s.id = c.id;
    s.url = c.url;
    s.username = c.username;
    auto password = config::ReadCameraPassword(c);
    if (!password.ok()) return password.status();
    s.password = *password;
    s.allow_basic_auth = c.allow_basic_auth;
    s.password_withheld = c.password_withheld;
    if (!c.password_withheld.empty()) {
      LogWarn("recorder") << "camera " << c.id << ": " << c.password_withheld;
    }
    switch (c.transport) {
      case config::Transport::kTcp: s.transport = Transport::kTcp; break;
      case config::Transport::kUdp: s.transport = Transport::kUdp; break;
      case config::Transport::kAuto: s.transport = Transport::kAuto; break;
    }
    s.segment_us = int64_t{config::EffectiveSegmentSeconds(site, c)} * kMicrosPerSecond;
    s.activity_index = site.recorder.activity_index;
    s.activity_from_sub_stream = site.recorder.activity_from_sub_stream;
    s.stall_timeout_us = int64_t{site.recorder.stall_timeout_seconds} * kMicrosPerSecond;
    s.connect_timeout_us = int64_t{site.recorder.connect_timeout_seconds} * kMicrosPerSecond;
    if (!c.sub_url.empty()) out.push_back(SubStreamSettings(c, s));
    out.push_back(std::move(s));
  }
  return out;
}

Status RegisterCameras(records::Database& db, const config::SiteConfig& site) {
  // A password the loader withheld (the camera's URL was changed by hand to another
  // endpoint) goes into the access log once per process and camera.
  static std::mutex logged_mu;
  static std::set<std::string> logged;
  for (const config::CameraConfig& c : site.cameras) {
    records::CameraRow row;
    row.id = c.id;
    row.name = c.name;
    row.make = c.make;
    row.model = c.model;
    row.firmware = c.firmware;
    CUSTODIAN_RETURN_IF_ERROR(db.UpsertCamera(row));
    if (!c.sub_url.empty()) {
      CUSTODIAN_RETURN_IF_ERROR(
          db.UpsertCamera({config::SubStreamId(c.id), c.name + " (sub stream)", {}}));
    }
    if (c.password_withheld.empty()) continue;
    std::lock_guard lock(logged_mu);
    if (!logged.insert(c.id + "\n" + c.password_withheld).second) continue;
    records::AccessEntry e;
    e.user_name = "(recorder)";
    e.action = "camera_password_withheld";
    e.camera_id = c.id;
    e.client = "config";
    e.detail = "camera " + c.id + " (" + c.source + "): " + c.password_withheld;
    auto appended = db.AppendAccess(e);
    if (!appended.ok()) {
      LogWarn("recorder") << "camera " << c.id
                          << ": could not log the withheld password: " << appended.status().ToString();
    }
  }
  return Status::Ok();
}

}  // namespace custodian::recorder
