// The health page's figures and its alarms (docs/design/health.md): cameras, disk, clock,
// backup, holds past review, DSAR deadlines, and every alarm in words with what to do.
// Reading them is not logged (no personal data, no footage); acknowledging an alarm is a
// change, committed with its access-log entry.
#include <sys/statvfs.h>

#include <algorithm>
#include <iomanip>
#include <map>
#include <sstream>

#include "api/camera_files.h"
#include "api/handlers.h"
#include "health/alarm_check.h"
#include "health/alarm_words.h"
#include "health/footage_days.h"

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

// A camera's clock as last measured in the past day (docs/design/health.md, "Camera
// clocks"); unknown for a camera that sends no RTCP sender reports.
constexpr int64_t kCameraClockLookbackUs = kMicrosPerDay;

std::optional<health::DiskSpace> DiskOf(const std::string& dir, int high_watermark_percent) {
  struct statvfs s {};
  if (dir.empty() || ::statvfs(dir.c_str(), &s) != 0) return std::nullopt;
  return health::DiskSpace{static_cast<uint64_t>(s.f_blocks) * s.f_frsize,
                           static_cast<uint64_t>(s.f_bavail) * s.f_frsize, high_watermark_percent};
}

// What the figures are measured against: the site file as it is now (the camera list
// reads it the same way), or the documented defaults when there is none.
struct HealthLimits {
  int64_t camera_clock_limit_us = 2 * kMicrosPerSecond;
  bool clock_sync_watched = true;
  int high_watermark_percent = 90;
  std::map<std::string, uint64_t> quota_bytes;
};

HealthLimits LoadLimits(ApiContext& ctx) {
  HealthLimits limits;
  if (ctx.options.site_config_path.empty()) return limits;
  auto site = CameraFiles(ctx.options.site_config_path).LoadSite();
  if (!site.ok()) return limits;
  limits.camera_clock_limit_us =
      int64_t{site->alarms.camera_clock_limit_seconds} * kMicrosPerSecond;
  limits.clock_sync_watched = site->alarms.clock_sync_watched;
  limits.high_watermark_percent = site->retention.high_watermark_percent;
  for (const auto& c : site->cameras) {
    if (c.quota_bytes) limits.quota_bytes[c.id] = *c.quota_bytes;
  }
  return limits;
}

// One camera's figures, gathered before the outlook over all cameras is worked out.
struct CameraFigures {
  std::string id;
  std::string name;
  const records::CameraStatusRow* status = nullptr;
  health::CameraFootage footage;
  nlohmann::json clock;
  bool may_view = false;
};

Result<std::vector<CameraFigures>> GatherCameras(
    ApiContext& ctx, const CameraNames& names, const HealthLimits& limits,
    const std::vector<std::string>& viewable, const std::vector<records::CameraStatusRow>& statuses,
    const std::map<std::string, int64_t>& stored) {
  const UtcMicros now = ctx.clock.Now();
  std::vector<CameraFigures> out;
  for (const auto& [id, name] : names) {
    CameraFigures c;
    c.id = id;
    c.name = name;
    for (const auto& s : statuses) {
      if (s.camera_id == id) c.status = &s;
    }
    auto segments = ctx.db.ListSegments(id, {now.us - kMicrosPerDay}, now);
    if (!segments.ok()) return FromRecords(segments.status(), "list segments");
    c.footage.camera = id;
    UtcMicros first = now;
    for (const auto& s : *segments) {
      c.footage.bytes_last_day += static_cast<uint64_t>(s.bytes);
      first = std::min(first, s.start);
    }
    // The rate is measured over the time the bytes took, not assumed to be a day's.
    c.footage.recorded_span_us = std::min(now.us - first.us, kMicrosPerDay);
    auto it = stored.find(id);
    if (it != stored.end()) c.footage.stored_bytes = static_cast<uint64_t>(it->second);
    auto quota = limits.quota_bytes.find(id);
    if (quota != limits.quota_bytes.end()) c.footage.quota_bytes = quota->second;
    auto max_age = ctx.db.GetSetting("retention.max_age_days." + id);
    if (!max_age.ok()) return FromRecords(max_age.status(), "read the retention settings");
    c.footage.retention_days = health::IntegerSetting(*max_age);
    auto clock = CameraClockJson(ctx, id, limits.camera_clock_limit_us);
    if (!clock.ok()) return clock.status();
    c.clock = std::move(clock).value();
    c.may_view = std::find(viewable.begin(), viewable.end(), id) != viewable.end();
    out.push_back(std::move(c));
  }
  return out;
}

nlohmann::json OptionalJson(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

// When a days figure held back for want of a measured rate can be given (null: given now,
// or nothing recorded to measure).
nlohmann::json EstimateFromJson(UtcMicros now, const std::optional<int64_t>& in_us) {
  return in_us && *in_us > 0 ? TimeJson(now + *in_us) : nlohmann::json();
}

nlohmann::json CameraJson(const CameraFigures& c, const health::FootageOutlook& outlook,
                          UtcMicros now) {
  const records::CameraStatusRow* s = c.status;
  const auto& f = c.footage;
  const std::optional<int64_t>& days = f.retention_days;
  return {{"id", c.id},
          {"name", c.name},
          {"online", s != nullptr && s->online},
          {"last_picture", s ? TimeJson(s->last_packet) : nlohmann::json()},
          {"last_error", s && s->last_error ? nlohmann::json(*s->last_error) : nlohmann::json()},
          {"bitrate_bps", s ? s->bitrate_bps : 0},
          {"bytes_last_day", f.bytes_last_day},
          {"stored_bytes", f.stored_bytes},
          {"quota_bytes", f.quota_bytes ? nlohmann::json(*f.quota_bytes) : nlohmann::json()},
          {"retention_days", days ? nlohmann::json(*days) : nlohmann::json()},
          {"retention_needs_bytes", days && outlook.bytes_per_day
                                        ? nlohmann::json(static_cast<uint64_t>(
                                              *outlook.bytes_per_day * static_cast<double>(*days)))
                                        : nlohmann::json()},
          {"bytes_per_day", OptionalJson(outlook.bytes_per_day)},
          {"footage_days", OptionalJson(outlook.days)},
          {"footage_days_from", EstimateFromJson(now, outlook.estimate_in_us)},
          {"short_of_retention", outlook.short_of_retention},
          {"clock", c.clock},
          {"may_view", c.may_view}};
}

// The cameras' status, clock, footage rate and days of footage; puts each camera's footage
// figures in *footage, for the disk's days left.
// viewable: the cameras whose live still the reader may fetch (a still is footage: only
// for those permitted the camera, and fetched with a purpose).
Result<nlohmann::json> CamerasJson(ApiContext& ctx, const CameraNames& names,
                                   const std::vector<std::string>& viewable,
                                   const std::optional<health::DiskSpace>& disk,
                                   const HealthLimits& limits,
                                   std::vector<health::CameraFootage>* footage) {
  auto statuses = ctx.db.ListCameraStatus();
  if (!statuses.ok()) return FromRecords(statuses.status(), "read camera status");
  auto stored = ctx.db.FootageBytesByCamera();
  if (!stored.ok()) return FromRecords(stored.status(), "sum footage per camera");
  auto cameras = GatherCameras(ctx, names, limits, viewable, *statuses, *stored);
  if (!cameras.ok()) return cameras.status();
  footage->clear();
  for (const CameraFigures& c : *cameras) footage->push_back(c.footage);
  auto outlook = health::FootageDays(disk.value_or(health::DiskSpace{}), *footage);
  nlohmann::json out = nlohmann::json::array();
  const UtcMicros now = ctx.clock.Now();
  for (const CameraFigures& c : *cameras) out.push_back(CameraJson(c, outlook[c.id], now));
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

Result<nlohmann::json> CameraClockJson(ApiContext& ctx, const std::string& camera,
                                       int64_t limit_us) {
  const UtcMicros now = ctx.clock.Now();
  auto latest = ctx.db.LatestClockOffset(camera, {now.us - kCameraClockLookbackUs});
  if (!latest.ok()) return FromRecords(latest.status(), "read the camera's clock offset");
  if (!*latest) {
    return nlohmann::json{{"state", "unknown"},
                          {"offset_us", nullptr},
                          {"measured", nullptr},
                          {"limit_us", limit_us},
                          {"text", "camera clock unknown"}};
  }
  const int64_t offset = *(*latest)->clock_offset_us;
  const bool adrift = limit_us > 0 && health::CameraClockAdrift(offset, limit_us);
  return nlohmann::json{{"state", adrift ? "adrift" : "ok"},
                        {"offset_us", offset},
                        {"measured", TimeJson((*latest)->start)},
                        {"limit_us", limit_us},
                        {"text", "camera clock " + health::CameraClockText(offset)}};
}

namespace {

std::string Gauge(const std::string& name, const std::string& help) {
  return "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n";
}

std::string Sample(const std::string& name, const std::string& camera, double value) {
  std::ostringstream line;
  line << name << "{camera=\"" << camera << "\"} ";
  // Whole numbers as integers ("31", not "31.0" or "3.1e+01"); others to a millisecond.
  if (value == static_cast<double>(static_cast<int64_t>(value)) && value < 1e15 && value > -1e15) {
    line << static_cast<int64_t>(value);
  } else {
    line << std::fixed << std::setprecision(3) << value;
  }
  line << "\n";
  return line.str();
}

// Per camera: days of footage at the current rate, retention, and the clock's offset
// (absent while unknown). Camera ids are [a-z0-9-], safe in a label.
std::string CameraMetrics(const nlohmann::json& cameras) {
  std::string days = Gauge("custodian_camera_footage_days",
                           "Days of footage the camera can keep at its current rate.");
  std::string retention =
      Gauge("custodian_camera_retention_days", "The camera's effective retention in days.");
  std::string clock = Gauge("custodian_camera_clock_offset_seconds",
                            "The camera's clock minus the appliance's, as last measured.");
  for (const auto& c : cameras) {
    const std::string id = c["id"];
    if (c["footage_days"].is_number()) {
      days += Sample("custodian_camera_footage_days", id, c["footage_days"].get<double>());
    }
    if (c["retention_days"].is_number()) {
      retention += Sample("custodian_camera_retention_days", id, c["retention_days"].get<double>());
    }
    if (c["clock"]["offset_us"].is_number()) {
      clock += Sample("custodian_camera_clock_offset_seconds", id,
                      c["clock"]["offset_us"].get<double>() / kMicrosPerSecond);
    }
  }
  return days + retention + clock;
}

}  // namespace

// The health page's figures for /metrics (handlers_health.cpp): open alarms by kind (camera
// and request alarms counted under their base kind), disk space, days of footage and the
// clocks. A figure that cannot be read is left out rather than failing the scrape.
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
  const HealthLimits limits = LoadLimits(ctx);
  const auto disk = DiskOf(ctx.options.data_dir, limits.high_watermark_percent);
  if (disk) {
    out += Gauge("custodian_disk_free_bytes", "Free space on the data directory's disk.");
    out += "custodian_disk_free_bytes " + std::to_string(disk->free_bytes) + "\n";
    out += Gauge("custodian_disk_total_bytes", "Size of the data directory's disk.");
    out += "custodian_disk_total_bytes " + std::to_string(disk->total_bytes) + "\n";
  }
  auto names = LoadCameraNames(ctx);
  std::vector<health::CameraFootage> footage;
  auto cameras = names.ok() ? CamerasJson(ctx, *names, {}, disk, limits, &footage)
                            : Result<nlohmann::json>(names.status());
  if (cameras.ok()) {
    out += CameraMetrics(*cameras);
    const auto outlook = health::DiskDaysLeft(disk ? disk->free_bytes : 0, footage);
    if (disk && outlook.days_left) {
      std::ostringstream left;
      left << std::fixed << std::setprecision(3) << *outlook.days_left;
      out += Gauge("custodian_disk_days_left",
                   "Days until the disk is full at the cameras' measured footage rate "
                   "(absent until every recording camera has recorded for 3 hours).") +
             "custodian_disk_days_left " + left.str() + "\n";
    }
  }
  out += "# HELP custodian_clock_synchronized 1 when the kernel reports the clock synchronised.\n"
         "# TYPE custodian_clock_synchronized gauge\n"
         "custodian_clock_synchronized " + std::string(ctx.clock.Synchronized() ? "1" : "0") +
         "\n";
  return out;
}

Result<HttpResponse> HandleHealthStatus(ApiContext& ctx, const Call& call) {
  auto names = LoadCameraNames(ctx);
  if (!names.ok()) return names.status();
  auto people = People::Load(ctx);
  if (!people.ok()) return people.status();
  const HealthLimits limits = LoadLimits(ctx);
  const auto d = DiskOf(ctx.options.data_dir, limits.high_watermark_percent);
  auto viewable = PermittedCameras(ctx, call.user());
  if (!viewable.ok()) return viewable.status();
  std::vector<health::CameraFootage> footage;
  auto cameras = CamerasJson(ctx, *names, *viewable, d, limits, &footage);
  if (!cameras.ok()) return cameras.status();
  uint64_t per_day = 0;
  for (const auto& f : footage) per_day += f.bytes_last_day;
  nlohmann::json disk = nullptr;
  if (d) {
    const auto outlook = health::DiskDaysLeft(d->free_bytes, footage);
    disk = {{"total_bytes", d->total_bytes},
            {"free_bytes", d->free_bytes},
            {"used_bytes", d->total_bytes - d->free_bytes},
            {"footage_room_bytes", health::FootageRoom(*d)},
            {"high_watermark_percent", d->high_watermark_percent},
            {"footage_bytes_last_day", per_day},
            {"footage_bytes_per_day", OptionalJson(outlook.bytes_per_day)},
            {"days_left", OptionalJson(outlook.days_left)},
            {"days_left_from", EstimateFromJson(ctx.clock.Now(), outlook.estimate_in_us)},
            {"rate_min_hours", health::kMinRateSpanUs / (3600 * kMicrosPerSecond)}};
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
  // watched: false when the site file says its clock cannot be synchronised (the demo).
  const nlohmann::json clock = {{"synchronized", ctx.clock.Synchronized()},
                                {"watched", limits.clock_sync_watched}};
  return Json({{"now", TimeJson(now)},
               {"cameras", *cameras},
               {"disk", disk},
               {"clock", clock},
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
