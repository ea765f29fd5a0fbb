// The health page's figures and its alarms (docs/design/health.md): cameras, disk, clock,
// backup, holds past review, DSAR deadlines, and every alarm in words with what to do.
// Reading them is not logged (no personal data, no footage); acknowledging an alarm is a
// change, committed with its access-log entry.
#include <sys/statvfs.h>

#include <map>

#include "api/handlers.h"
#include "health/alarm_check.h"
#include "health/alarm_words.h"

namespace custodian::api {

namespace {

// Cleared alarms stay on the page this long.
constexpr int64_t kClearedShownUs = 7 * kMicrosPerDay;
constexpr int kMaxAlarmsShown = 200;
constexpr int64_t kDsarSoonUs = 7 * kMicrosPerDay;

using CameraNames = std::map<std::string, std::string>;

Result<CameraNames> LoadCameraNames(ApiContext& ctx) {
  auto cameras = ctx.db.ListCameras();
  if (!cameras.ok()) return FromRecords(cameras.status(), "list cameras");
  CameraNames names;
  for (const auto& c : *cameras) names[c.id] = c.name.empty() ? c.id : c.name;
  return names;
}

nlohmann::json AlarmJson(const records::AlarmRow& a, const CameraNames& cameras,
                         const People& people) {
  std::string camera = health::AlarmCamera(a.kind);
  auto it = cameras.find(camera);
  health::AlarmWords words =
      health::DescribeAlarm(a.kind, it == cameras.end() ? camera : it->second);
  return {{"id", a.id},
          {"kind", a.kind},
          {"camera", camera.empty() ? nlohmann::json() : nlohmann::json(camera)},
          {"title", words.title},
          {"what_to_do", words.what_to_do},
          {"detail", a.detail},
          {"raised", TimeJson(a.raised)},
          {"cleared", TimeJson(a.cleared)},
          {"acknowledged", TimeJson(a.acknowledged)},
          {"acknowledged_by", people.Who(a.acknowledged_by)},
          {"emailed", TimeJson(a.notified && a.notified->us > 0 ? a.notified : std::nullopt)}};
}

struct Disk {
  uint64_t total = 0;
  uint64_t free = 0;
};

std::optional<Disk> DiskOf(const std::string& dir) {
  struct statvfs s {};
  if (dir.empty() || ::statvfs(dir.c_str(), &s) != 0) return std::nullopt;
  return Disk{static_cast<uint64_t>(s.f_blocks) * s.f_frsize,
              static_cast<uint64_t>(s.f_bavail) * s.f_frsize};
}

// The cameras' status and footage rate over the last day; adds the bytes to *per_day.
Result<nlohmann::json> CamerasJson(ApiContext& ctx, const CameraNames& names, uint64_t* per_day) {
  auto statuses = ctx.db.ListCameraStatus();
  if (!statuses.ok()) return FromRecords(statuses.status(), "read camera status");
  std::map<std::string, const records::CameraStatusRow*> status;
  for (const auto& s : *statuses) status[s.camera_id] = &s;
  const UtcMicros now = ctx.clock.Now();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [id, name] : names) {
    auto segments = ctx.db.ListSegments(id, {now.us - kMicrosPerDay}, now);
    if (!segments.ok()) return FromRecords(segments.status(), "list segments");
    uint64_t bytes = 0;
    for (const auto& s : *segments) bytes += static_cast<uint64_t>(s.bytes);
    *per_day += bytes;
    auto max_age = ctx.db.GetSetting("retention.max_age_days." + id);
    if (!max_age.ok()) return FromRecords(max_age.status(), "read the retention settings");
    auto it = status.find(id);
    const records::CameraStatusRow* s = it == status.end() ? nullptr : it->second;
    const std::optional<int64_t> days = health::IntegerSetting(*max_age);
    nlohmann::json retention_days = days ? nlohmann::json(*days) : nlohmann::json();
    out.push_back({{"id", id},
                   {"name", name},
                   {"online", s != nullptr && s->online},
                   {"last_picture", s ? TimeJson(s->last_packet) : nlohmann::json()},
                   {"last_error", s && s->last_error ? nlohmann::json(*s->last_error)
                                                     : nlohmann::json()},
                   {"bitrate_bps", s ? s->bitrate_bps : 0},
                   {"bytes_last_day", bytes},
                   {"retention_days", retention_days},
                   {"retention_needs_bytes",
                    days ? nlohmann::json(bytes * static_cast<uint64_t>(*days)) : nlohmann::json()}});
  }
  return out;
}

Result<nlohmann::json> DsarsDueJson(ApiContext& ctx) {
  records::RequestFilter filter;
  filter.type = records::RequestType::kDsar;
  auto requests = ctx.db.ListFootageRequests(filter);
  if (!requests.ok()) return FromRecords(requests.status(), "list requests");
  const UtcMicros now = ctx.clock.Now();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : *requests) {
    using S = records::RequestState;
    bool open = r.state != S::kClosed && r.state != S::kWithdrawn && r.state != S::kDisclosed &&
                r.state != S::kRefused;
    if (open && r.deadline && r.deadline->us - now.us <= kDsarSoonUs) {
      out.push_back({{"id", r.id}, {"deadline", TimeJson(*r.deadline)}});
    }
  }
  return out;
}

}  // namespace

// The health page's figures for /metrics (handlers_health.cpp): open alarms by kind (camera
// and request alarms counted under their base kind), disk space and the clock.
std::string HealthMetrics(ApiContext& ctx) {
  std::string out;
  auto alarms = ctx.db.ListActiveAlarms();
  if (alarms.ok()) {
    std::map<std::string, int> by_kind;
    for (const auto& a : *alarms) by_kind[a.kind.substr(0, a.kind.find(':'))]++;
    out += "# HELP custodian_alarms_open Alarms raised and not cleared, by kind.\n"
           "# TYPE custodian_alarms_open gauge\n";
    for (const auto& [kind, n] : by_kind) {
      out += "custodian_alarms_open{kind=\"" + kind + "\"} " + std::to_string(n) + "\n";
    }
  }
  if (auto d = DiskOf(ctx.options.data_dir)) {
    out += "# HELP custodian_disk_free_bytes Free space on the data directory's disk.\n"
           "# TYPE custodian_disk_free_bytes gauge\n"
           "custodian_disk_free_bytes " + std::to_string(d->free) + "\n"
           "# HELP custodian_disk_total_bytes Size of the data directory's disk.\n"
           "# TYPE custodian_disk_total_bytes gauge\n"
           "custodian_disk_total_bytes " + std::to_string(d->total) + "\n";
  }
  out += "# HELP custodian_clock_synchronized 1 when the kernel reports the clock synchronised.\n"
         "# TYPE custodian_clock_synchronized gauge\n"
         "custodian_clock_synchronized " + std::string(ctx.clock.Synchronized() ? "1" : "0") +
         "\n";
  return out;
}

Result<HttpResponse> HandleHealthStatus(ApiContext& ctx, const Call&) {
  auto names = LoadCameraNames(ctx);
  if (!names.ok()) return names.status();
  auto people = People::Load(ctx);
  if (!people.ok()) return people.status();
  uint64_t per_day = 0;
  auto cameras = CamerasJson(ctx, *names, &per_day);
  if (!cameras.ok()) return cameras.status();
  nlohmann::json disk = nullptr;
  if (auto d = DiskOf(ctx.options.data_dir)) {
    disk = {{"total_bytes", d->total},
            {"free_bytes", d->free},
            {"used_bytes", d->total - d->free},
            {"footage_bytes_last_day", per_day},
            {"days_left", per_day > 0 ? nlohmann::json(static_cast<double>(d->free) /
                                                       static_cast<double>(per_day))
                                      : nlohmann::json()}};
  }
  auto backup = ctx.db.GetSetting(health::kLastBackupSetting);
  if (!backup.ok()) return FromRecords(backup.status(), "read the last backup");
  auto holds = ctx.db.HoldsDueForReview();
  if (!holds.ok()) return FromRecords(holds.status(), "read holds");
  auto dsars = DsarsDueJson(ctx);
  if (!dsars.ok()) return dsars.status();
  const UtcMicros now = ctx.clock.Now();
  auto alarms = ctx.db.ListRecentAlarms({now.us - kClearedShownUs}, kMaxAlarmsShown);
  if (!alarms.ok()) return FromRecords(alarms.status(), "read alarms");
  nlohmann::json alarm_list = nlohmann::json::array();
  for (const auto& a : *alarms) alarm_list.push_back(AlarmJson(a, *names, *people));
  return Json({{"now", TimeJson(now)},
               {"cameras", *cameras},
               {"disk", disk},
               {"clock", {{"synchronized", ctx.clock.Synchronized()}}},
               {"last_backup", health::IntegerSetting(*backup)
                                   ? TimeJson(UtcMicros{*health::IntegerSetting(*backup)})
                                   : nlohmann::json()},
               {"holds_past_review", holds->size()},
               {"dsars_due_soon", *dsars},
               {"alarm_email", ctx.options.alarm_email},
               {"alarms", alarm_list}});
}

Result<HttpResponse> HandleListAlarms(ApiContext& ctx, const Call&) {
  auto names = LoadCameraNames(ctx);
  if (!names.ok()) return names.status();
  auto people = People::Load(ctx);
  if (!people.ok()) return people.status();
  auto alarms = ctx.db.ListActiveAlarms();
  if (!alarms.ok()) return FromRecords(alarms.status(), "read alarms");
  nlohmann::json list = nlohmann::json::array();
  for (const auto& a : *alarms) {
    auto full = ctx.db.GetAlarm(a.id);  // with its acknowledgement
    if (!full.ok()) return FromRecords(full.status(), "read alarms");
    if (*full) list.push_back(AlarmJson(**full, *names, *people));
  }
  return Json({{"alarms", list}});
}

Result<HttpResponse> HandleAcknowledgeAlarm(ApiContext& ctx, const Call& call) {
  const int64_t id = *call.params.id;
  auto alarm = ctx.db.GetAlarm(id);
  if (!alarm.ok()) return FromRecords(alarm.status(), "read the alarm");
  if (!*alarm) return NotFound("no alarm " + std::to_string(id));
  Status st = ctx.db.WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(ctx.db.AcknowledgeAlarm(id, call.user().user_id));
    records::AccessEntry e = EntryFor(call, records::AccessResult::kOk,
                                      "alarm " + std::to_string(id) + " " + (*alarm)->kind);
    return RecordChange(ctx, e);
  });
  if (st.kind() == ErrorKind::kFailedPrecondition) return st;
  if (!st.ok()) return FromRecords(st, "acknowledge the alarm");
  auto names = LoadCameraNames(ctx);
  if (!names.ok()) return names.status();
  auto people = People::Load(ctx);
  if (!people.ok()) return people.status();
  auto updated = ctx.db.GetAlarm(id);
  if (!updated.ok()) return FromRecords(updated.status(), "read the alarm");
  if (!*updated) return NotFound("no alarm " + std::to_string(id));
  return Json(AlarmJson(**updated, *names, *people));
}

}  // namespace custodian::api
