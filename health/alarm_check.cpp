#include "health/alarm_check.h"

#include "base/clock.h"

namespace custodian::health {

namespace {

bool HasPrefix(const std::string& s, const std::string& prefix) {
  return s.size() > prefix.size() && s.compare(0, prefix.size(), prefix) == 0 &&
         s[prefix.size()] == ':';
}

void CheckCameras(const SiteFacts& f, const AlarmPolicy& p, std::map<std::string, std::string>* out) {
  std::map<std::string, const records::CameraStatusRow*> status;
  for (const auto& s : f.statuses) status[s.camera_id] = &s;
  bool any_recent = false;
  for (const std::string& camera : f.cameras) {
    auto it = status.find(camera);
    const records::CameraStatusRow* s = it == status.end() ? nullptr : it->second;
    if (s && f.now.us - s->updated.us < p.recorder_silent_us) any_recent = true;
    if (s && s->online) continue;
    // Offline since its last packet, or since watching began when never seen (or seen
    // before this watcher started: the alarm then does not fire at once after a restart).
    UtcMicros since = f.watching_since;
    if (s && s->last_packet && s->last_packet->us > since.us) since = *s->last_packet;
    if (f.now.us - since.us < p.camera_offline_us) continue;
    std::string detail = s && s->last_packet ? "no pictures since " + UtcText(*s->last_packet)
                                             : std::string("no pictures received");
    if (s && s->last_error && !s->last_error->empty()) detail += "; last error: " + *s->last_error;
    (*out)[std::string(kCameraOfflineAlarm) + ":" + camera] = detail;
  }
  if (!f.cameras.empty() && !any_recent && f.now.us - f.watching_since.us >= p.recorder_silent_us) {
    (*out)[kRecorderDownAlarm] = "no camera status written by the recorder for " +
                                 std::to_string(p.recorder_silent_us / kMicrosPerSecond / 60) +
                                 " minutes";
  }
}

void CheckCameraClocks(const SiteFacts& f, const AlarmPolicy& p,
                       std::map<std::string, std::string>* out) {
  if (p.camera_clock_limit_us <= 0) return;
  for (const CameraClock& c : f.camera_clocks) {
    if (!CameraClockAdrift(c.offset_us, p.camera_clock_limit_us)) continue;
    (*out)[std::string(kCameraClockAlarm) + ":" + c.camera] =
        "the camera's clock is " + CameraClockText(c.offset_us) + "; the limit is " +
        std::to_string(p.camera_clock_limit_us / kMicrosPerSecond) + " s";
  }
}

}  // namespace

bool CameraClockAdrift(int64_t offset_us, int64_t limit_us) {
  return offset_us > limit_us || offset_us < -limit_us;
}

std::string CameraClockText(int64_t offset_us) {
  // Unsigned, so that even a camera's absurd offset of INT64_MIN has a magnitude.
  const uint64_t magnitude = offset_us < 0 ? uint64_t{0} - static_cast<uint64_t>(offset_us)
                                           : static_cast<uint64_t>(offset_us);
  const uint64_t seconds = (magnitude + kMicrosPerSecond / 2) / kMicrosPerSecond;
  if (seconds == 0) return "within a second of the appliance's clock";
  return std::to_string(seconds) + " s " + (offset_us > 0 ? "ahead of" : "behind") +
         " the appliance's clock";
}

std::optional<int64_t> IntegerSetting(const std::optional<std::string>& value) {
  if (!value || value->empty() || value->size() > 19) return std::nullopt;
  int64_t v = 0;
  for (char c : *value) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string UtcText(UtcMicros t) { return FormatUtcReadable(t); }

std::map<std::string, std::string> WantedAlarms(const SiteFacts& f, const AlarmPolicy& p) {
  std::map<std::string, std::string> out;
  CheckCameras(f, p, &out);
  CheckCameraClocks(f, p, &out);
  if (p.clock_sync_watched && !f.clock_synchronized) {
    out[kClockAlarm] = "the system clock is not synchronised (NTP): recording times may drift";
  }
  if (p.backup_overdue_us > 0) {
    UtcMicros since = f.last_backup.value_or(f.watching_since);
    if (f.now.us - since.us >= p.backup_overdue_us) {
      out[kBackupOverdueAlarm] = f.last_backup ? "last backup " + UtcText(*f.last_backup)
                                               : "no backup recorded";
    }
  }
  for (const SiteFacts::Dsar& d : f.open_dsars) {
    if (d.deadline.us - f.now.us <= p.dsar_warning_us) {
      std::string when = d.deadline.us < f.now.us ? "was due " : "due ";
      out[std::string(kDsarDeadlineAlarm) + ":" + std::to_string(d.id)] =
          "request " + std::to_string(d.id) + " " + when + UtcText(d.deadline);
    }
  }
  if (f.access_log && !f.access_log->ok) {
    std::string at = f.access_log->first_bad_id
                         ? " at entry " + std::to_string(*f.access_log->first_bad_id)
                         : "";
    out[kAccessLogChainAlarm] = "the access log does not verify" + at + ": " + f.access_log->reason;
  }
  return out;
}

bool OwnedByWatcher(const std::string& kind, bool access_log_checked) {
  if (kind == kAccessLogChainAlarm) return access_log_checked;
  return kind == kRecorderDownAlarm || kind == kClockAlarm || kind == kBackupOverdueAlarm ||
         HasPrefix(kind, kCameraOfflineAlarm) || HasPrefix(kind, kDsarDeadlineAlarm) ||
         HasPrefix(kind, kCameraClockAlarm);
}

Status ApplyAlarms(records::Database& db, const std::map<std::string, std::string>& wanted,
                   bool access_log_checked) {
  auto active = db.ListActiveAlarms();
  if (!active.ok()) return active.status();
  std::map<std::string, std::string> current;
  for (const records::AlarmRow& a : *active) current[a.kind] = a.detail;
  for (const auto& [kind, detail] : wanted) {
    auto it = current.find(kind);
    if (it != current.end() && it->second == detail) continue;
    auto raised = db.RaiseAlarm(kind, detail);
    if (!raised.ok()) return raised.status();
  }
  for (const auto& [kind, detail] : current) {
    if (wanted.count(kind) == 0 && OwnedByWatcher(kind, access_log_checked)) {
      CUSTODIAN_RETURN_IF_ERROR(db.ClearAlarm(kind));
    }
  }
  return Status::Ok();
}

}  // namespace custodian::health
