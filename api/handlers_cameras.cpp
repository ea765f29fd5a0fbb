// The camera list with status and retention, a camera's timeline (segments and gaps), and
// camera administration: add, change and test a camera (docs/design/api.md, "Camera
// administration"; the files are written by camera_files.h).
#include <algorithm>
#include <atomic>
#include <map>

extern "C" {
#include <libavcodec/avcodec.h>
}

#include "api/camera_files.h"
#include "api/handlers.h"
#include "base/log.h"
#include "config/camera_config.h"
#include "media/rtsp/certificate_pin.h"
#include "media/rtsp/rtsp_tcp_source.h"

namespace custodian::api {

namespace {

nlohmann::json StatusJson(const records::CameraStatusRow* s) {
  if (!s)
    return {{"online", false},
            {"last_packet", nullptr},
            {"bitrate_bps", 0},
            {"last_error", nullptr},
            {"updated", nullptr}};
  return {{"online", s->online},
          {"last_packet", TimeJson(s->last_packet)},
          {"bitrate_bps", s->bitrate_bps},
          {"last_error", s->last_error ? nlohmann::json(*s->last_error) : nlohmann::json()},
          {"updated", TimeJson(s->updated)}};
}

nlohmann::json SegmentJson(const records::SegmentRow& s) {
  return {{"id", s.id},
          {"start", TimeJson(s.start)},
          {"end", TimeJson(s.end)},
          {"state", records::Name(s.state)},
          {"bytes", s.bytes},
          {"duration_us", s.duration_us},
          {"video_codec", s.video_codec},
          {"width", s.width},
          {"height", s.height},
          {"audio_codec", s.audio_codec ? nlohmann::json(*s.audio_codec) : nlohmann::json()},
          {"clock_synced", s.clock_synced}};
}

nlohmann::json GapJson(const records::GapRow& g) {
  return {{"start", TimeJson(g.start)},
          {"end", TimeJson(g.end)},
          {"reason", records::Name(g.reason)},
          {"detail", g.detail}};
}

// The setting in which the retention scheduler keeps a camera's effective max age
// (retention/max_age.h, MaxAgeSettingKey).
std::string MaxAgeSettingKey(const std::string& camera_id) {
  return "retention.max_age_days." + camera_id;
}

// Configured and effective max age, and a pending shortening (docs/design/retention.md,
// "The shortening delay"): the API writes only the configuration; the scheduler delays.
Result<nlohmann::json> RetentionJson(ApiContext& ctx, const config::SiteConfig& site,
                                     const config::CameraConfig& camera,
                                     const std::vector<records::PolicyChangeRow>& changes) {
  const int configured = config::EffectiveMaxAgeDays(site, camera);
  auto stored = ctx.db.GetSetting(MaxAgeSettingKey(camera.id));
  if (!stored.ok()) return FromRecords(stored.status(), "read the retention settings");
  int effective = configured;
  if (*stored) {
    try {
      effective = std::stoi(**stored);
    } catch (const std::exception&) {
    }
  }
  nlohmann::json pending = nullptr;
  for (const auto& c : changes) {
    if (c.camera_id == camera.id && c.key == "max_age_days") {
      pending = {{"max_age_days", c.new_value}, {"effective", TimeJson(c.effective)}};
      break;
    }
  }
  return nlohmann::json{{"max_age_days", effective},
                        {"configured_max_age_days", configured},
                        {"camera_override", camera.max_age_days
                                                ? nlohmann::json(*camera.max_age_days)
                                                : nlohmann::json()},
                        {"pending", pending}};
}

// What an administrator sees of a camera's configuration (never the password).
nlohmann::json ConfigJson(const config::SiteConfig& site, const config::CameraConfig& c) {
  return {{"url", c.url},
          {"sub_url", c.sub_url},
          {"record_sub_stream", c.record_sub_stream},
          {"make", c.make},
          {"model", c.model},
          {"firmware", c.firmware},
          {"transport", config::TransportName(c.transport)},
          {"username", c.username},
          {"has_password", !c.password_file.empty()},
          {"password_withheld",
           c.password_withheld.empty() ? nlohmann::json() : nlohmann::json(c.password_withheld)},
          {"allow_basic_auth", c.allow_basic_auth},
          {"defined_at", c.source},
          {"editable", CameraFiles::IsManaged(site, c)}};
}

constexpr size_t kMaxCameraNameBytes = 200;
constexpr size_t kMaxUrlBytes = 1000;
constexpr size_t kMaxCredentialBytes = 256;
constexpr size_t kMaxDeviceTextBytes = 64;

// The camera fields of a request body; unknown keys and wrong types are refused before
// anything is written.
Result<CameraChange> ParseCameraChange(const nlohmann::json& body, bool create) {
  static const char* const kKeys[] = {"id",       "name",      "url",
                                      "sub_url",  "transport", "username",
                                      "password", "retention", "allow_basic_auth",
                                      "make",     "model",     "firmware"};
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (std::find_if(std::begin(kKeys), std::end(kKeys),
                     [&](const char* k) { return it.key() == k; }) == std::end(kKeys) ||
        (!create && it.key() == "id")) {
      return InvalidArgument("unknown key \"" + it.key() + "\"" +
                             (it.key() == "id" ? " (a camera's id cannot change)" : ""));
    }
  }
  CameraChange change;
  if (create) {
    auto id = StringMember(body, "id", 64, true);
    if (!id.ok()) return id.status();
    if (!IsValidCameraId(**id)) {
      return InvalidArgument("id: camera ids are 1 to 64 of a-z, 0-9 and -");
    }
    change.id = **id;
  }
  struct Field {
    const char* key;
    size_t max;
    std::optional<std::string>* out;
  };
  const Field fields[] = {{"name", kMaxCameraNameBytes, &change.name},
                          {"url", kMaxUrlBytes, &change.url},
                          {"sub_url", kMaxUrlBytes, &change.sub_url},
                          {"make", kMaxDeviceTextBytes, &change.make},
                          {"model", kMaxDeviceTextBytes, &change.model},
                          {"firmware", kMaxDeviceTextBytes, &change.firmware},
                          {"transport", 8, &change.transport},
                          {"username", kMaxCredentialBytes, &change.username},
                          {"password", kMaxCredentialBytes, &change.password}};
  for (const Field& f : fields) {
    auto v = StringMember(body, f.key, f.max, create && std::string(f.key) == "url");
    if (!v.ok()) return v.status();
    *f.out = *v;
  }
  if (change.transport && *change.transport != "tcp" && *change.transport != "udp" &&
      *change.transport != "auto") {
    return InvalidArgument("transport: expected one of tcp, udp, auto");
  }
  if (change.password && !change.password->empty() && change.username &&
      change.username->empty()) {
    return InvalidArgument("password: needs a username as well");
  }
  if (auto b = body.find("allow_basic_auth"); b != body.end()) {
    if (!b->is_boolean()) return InvalidArgument("allow_basic_auth: expected true or false");
    change.allow_basic_auth = b->get<bool>();
  }
  if (auto r = body.find("retention"); r != body.end()) {
    if (!r->is_object()) return InvalidArgument("retention: expected an object");
    for (auto it = r->begin(); it != r->end(); ++it) {
      if (it.key() != "max_age_days") {
        return InvalidArgument("retention: unknown key \"" + it.key() + "\"");
      }
      if (it->is_null()) {
        change.max_age_days = std::optional<int>();
      } else if (it->is_number_integer() && it->get<int64_t>() > 0 &&
                 it->get<int64_t>() <= 100000) {
        change.max_age_days = std::optional<int>(it->get<int>());
      } else {
        return InvalidArgument("retention.max_age_days: expected a whole number of days, or null");
      }
    }
  }
  return change;
}

// Names the changed keys, never their values, for the access log.
std::string ChangedKeys(const CameraChange& c) {
  std::string out;
  auto add = [&](bool changed, const char* key) {
    if (!changed) return;
    if (!out.empty()) out += ", ";
    out += key;
  };
  add(c.name.has_value(), "name");
  add(c.url.has_value(), "url");
  add(c.sub_url.has_value(), "sub_url");
  add(c.make.has_value() || c.model.has_value() || c.firmware.has_value(), "device");
  add(c.transport.has_value(), "transport");
  add(c.username.has_value(), "username");
  add(c.password.has_value(), "password");
  add(c.max_age_days.has_value(), "retention.max_age_days");
  add(c.allow_basic_auth.has_value(), "allow_basic_auth");
  return out.empty() ? "nothing" : out;
}

Result<HttpResponse> WriteCamera(ApiContext& ctx, const Call& call, bool create) {
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  auto change = ParseCameraChange(*body, create);
  if (!change.ok()) return change.status();
  if (!create) change->id = call.params.camera;
  CameraFiles files(ctx.options.site_config_path);
  bool password_dropped = false;
  auto camera = files.Write(*change, create, &password_dropped);
  if (!camera.ok()) return camera.status();
  // The row lets the camera list show it at once; the recorder upserts it again when it
  // picks up the file.
  std::string detail = create ? "camera " + camera->id + " added"
                              : "camera " + camera->id + " changed: " + ChangedKeys(*change);
  if (password_dropped) {
    detail += "; its stored password was dropped because the URL's host, scheme or port "
              "changed (it must be entered again)";
  }
  Status st = ctx.db.WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(ctx.db.UpsertCamera(
        {camera->id, camera->name, {}, camera->make, camera->model, camera->firmware}));
    records::AccessEntry e = EntryFor(call, records::AccessResult::kOk, detail);
    e.camera_id = camera->id;
    return RecordChange(ctx, e);
  });
  if (!st.ok()) return FromRecords(st, "record the camera change");
  LogInfo("api") << detail << " by user " << call.user().user_id;
  return Json({{"id", camera->id}, {"name", camera->name}, {"password_dropped", password_dropped}},
              create ? 201 : 200);
}

const char* ErrorCode(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUnauthenticated: return "unauthorized";
    case ErrorKind::kPermissionDenied: return "forbidden";
    case ErrorKind::kNotFound: return "no_such_stream";
    case ErrorKind::kInvalidArgument: return "unsupported";
    case ErrorKind::kDataLoss: return "protocol_error";
    default: return "unreachable";
  }
}

}  // namespace

// An rtsps:// camera's pinned certificate and any other one it presented since (admins).
nlohmann::json OptionalText(const std::string& s) {
  return s.empty() ? nlohmann::json() : nlohmann::json(s);
}

// The pinned certificate as the camera page shows it: fingerprint, subject, expiry (as the
// certificate states them; the pin, not a CA, is the trust) and whether it has expired or
// expires within the recorder's warning time.
nlohmann::json CertificateJson(const media::rtsp::CertificatePin& pin, UtcMicros now) {
  std::string expiry = "unknown";
  if (pin.expires) {
    expiry = *pin.expires <= now                                              ? "expired"
             : *pin.expires - now <= media::rtsp::kCertificateExpiryWarningUs ? "expires_soon"
                                                                              : "valid";
  }
  return {{"sha256", pin.sha256},
          {"pinned_at", TimeJson(pin.pinned_at)},
          {"pinned_by", pin.pinned_by},
          {"subject", OptionalText(pin.subject)},
          {"expires", TimeJson(pin.expires)},
          {"expiry", expiry},
          {"presented_sha256", OptionalText(pin.presented)},
          {"presented_at", pin.presented.empty() ? nlohmann::json() : TimeJson(pin.presented_at)},
          {"presented_subject", OptionalText(pin.presented_subject)},
          {"presented_expires", TimeJson(pin.presented_expires)}};
}

Result<HttpResponse> HandleListCameras(ApiContext& ctx, const Call& call) {
  auto cameras = ctx.db.ListCameras();
  if (!cameras.ok()) return FromRecords(cameras.status(), "list cameras");
  auto statuses = ctx.db.ListCameraStatus();
  if (!statuses.ok()) return FromRecords(statuses.status(), "read camera status");
  std::map<std::string, const records::CameraStatusRow*> by_camera;
  for (const auto& s : *statuses) by_camera[s.camera_id] = &s;

  // Admins manage every camera; footage roles see the cameras they are permitted.
  const bool all = call.user().role == records::Role::kAdmin;
  auto permitted = PermittedCameras(ctx, call.user());
  if (!permitted.ok()) return permitted.status();
  // The configuration gives each camera's retention (and, for admins, its settings); a
  // server without a site file, or with one that does not load, lists the records alone.
  std::optional<config::SiteConfig> site;
  if (!ctx.options.site_config_path.empty()) {
    auto loaded = CameraFiles(ctx.options.site_config_path).LoadSite();
    if (loaded.ok()) {
      site = std::move(loaded).value();
    } else {
      LogWarn("api") << "camera list without retention: the site configuration does not load";
    }
  }
  auto changes = ctx.db.ListOpenPolicyChanges();
  if (!changes.ok()) return FromRecords(changes.status(), "read pending policy changes");
  const int64_t clock_limit_us =
      site ? int64_t{site->alarms.camera_clock_limit_seconds} * kMicrosPerSecond
           : config::AlarmsConfig{}.camera_clock_limit_seconds * kMicrosPerSecond;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : *cameras) {
    // A sub stream is part of its camera, shown with it.
    if (config::IsSubStreamId(c.id)) continue;
    if (!all && std::find(permitted->begin(), permitted->end(), c.id) == permitted->end()) {
      continue;
    }
    auto s = by_camera.find(c.id);
    nlohmann::json item = {{"id", c.id},
                           {"name", c.name},
                           {"status", StatusJson(s == by_camera.end() ? nullptr : s->second)}};
    auto clock = CameraClockJson(ctx, c.id, clock_limit_us);
    if (!clock.ok()) return clock.status();
    item["clock"] = std::move(clock).value();
    if (auto sub = by_camera.find(config::SubStreamId(c.id)); sub != by_camera.end()) {
      item["sub_stream_status"] = StatusJson(sub->second);
    }
    const config::CameraConfig* configured = nullptr;
    if (site) {
      for (const auto& cc : site->cameras) {
        if (cc.id == c.id) configured = &cc;
      }
    }
    item["configured"] = configured != nullptr;
    if (configured) {
      // Review says when a new camera's first segment will be complete (and reviewable).
      item["segment_seconds"] = config::EffectiveSegmentSeconds(*site, *configured);
      auto retention = RetentionJson(ctx, *site, *configured, *changes);
      if (!retention.ok()) return retention.status();
      item["retention"] = *retention;
      if (all) item["config"] = ConfigJson(*site, *configured);
    }
    if (all) {
      auto pin = media::rtsp::ReadCertificatePin(
          ctx.fs, media::rtsp::CertificatePinPath(ctx.options.data_dir, c.id));
      if (pin.ok() && *pin) item["certificate"] = CertificateJson(**pin, ctx.clock.Now());
    }
    list.push_back(std::move(item));
  }
  nlohmann::json out = {{"cameras", list}};
  if (all) {
    out["administration"] = {
        {"cameras_dir_configured", site && !site->cameras_dir.empty()},
        {"site_loaded", site.has_value()}};
  }
  return Json(out);
}

Result<HttpResponse> HandleTimeline(ApiContext& ctx, const Call& call) {
  const std::string& camera = call.params.camera;
  auto may = MayViewCamera(ctx, call.user(), camera);
  if (!may.ok()) return may.status();
  if (!*may) return PermissionDenied("no permission for camera " + camera);
  auto range = RangeParams(call.request, kMaxTimelineSpanUs);
  if (!range.ok()) return range.status();
  auto segments = ctx.db.ListSegments(camera, range->from, range->to);
  if (!segments.ok()) return FromRecords(segments.status(), "list segments");
  auto gaps = ctx.db.ListGaps(camera, range->from, range->to);
  if (!gaps.ok()) return FromRecords(gaps.status(), "list gaps");
  nlohmann::json segs = nlohmann::json::array(), gap_list = nlohmann::json::array();
  for (const auto& s : *segments) {
    if (s.state != records::SegmentState::kDeleting) segs.push_back(SegmentJson(s));
  }
  for (const auto& g : *gaps) gap_list.push_back(GapJson(g));
  return Json({{"camera", camera},
               {"from", TimeJson(range->from)},
               {"to", TimeJson(range->to)},
               {"segments", segs},
               {"gaps", gap_list}});
}

Result<HttpResponse> HandleCreateCamera(ApiContext& ctx, const Call& call) {
  return WriteCamera(ctx, call, /*create=*/true);
}

Result<HttpResponse> HandleUpdateCamera(ApiContext& ctx, const Call& call) {
  return WriteCamera(ctx, call, /*create=*/false);
}

// Opens the camera's stream as the recorder would (OPTIONS, DESCRIBE with its credentials,
// SETUP, PLAY), reports what it offers and hangs up. A failure to connect is an answer
// (200, reachable false), not an error of this request.
Result<HttpResponse> HandleTestCamera(ApiContext& ctx, const Call& call) {
  auto site = CameraFiles(ctx.options.site_config_path).LoadSite();
  if (!site.ok()) return site.status();
  const config::CameraConfig* camera = nullptr;
  for (const auto& c : site->cameras) {
    if (c.id == call.params.camera) camera = &c;
  }
  if (!camera) return NotFound("no camera " + call.params.camera + " in the configuration");
  auto password = config::ReadCameraPassword(*camera, ctx.fs);
  if (!password.ok()) {
    return FailedPrecondition("camera " + camera->id + ": cannot read its password file");
  }
  std::atomic<bool> cancel{false};
  const int64_t timeout_us = int64_t{site->recorder.connect_timeout_seconds} * kMicrosPerSecond;
  media::rtsp::RtspSourceOptions options;
  options.connect_timeout_us = timeout_us;
  options.allow_basic_auth = camera->allow_basic_auth;
  // rtsps://: the password goes only to the certificate the recorder pinned (read, never
  // pinned here: a test is not a first use).
  std::string presented;
  options.check_certificate = [&](const media::rtsp::PeerCertificate& certificate) -> Status {
    const std::string& sha256 = certificate.sha256;
    presented = sha256;
    auto pin = media::rtsp::ReadCertificatePin(
        ctx.fs, media::rtsp::CertificatePinPath(ctx.options.data_dir, camera->id));
    if (!pin.ok()) return pin.status();
    if (*pin && (*pin)->sha256 != sha256) {
      return PermissionDenied("the camera presents TLS certificate SHA-256 " + sha256 +
                              ", not the pinned " + (*pin)->sha256 + "; nothing was sent to it");
    }
    return Status::Ok();
  };
  auto source = media::rtsp::RtspTcpSource::Open(camera->url, camera->username, *password,
                                                 options, &cancel);
  nlohmann::json out = {{"camera", camera->id}, {"url", camera->url}};
  if (!presented.empty()) out["certificate_sha256"] = presented;
  std::string detail;
  if (source.ok()) {
    out["reachable"] = true;
    nlohmann::json streams = nlohmann::json::array();
    for (int i = 0; i < (*source)->stream_count(); ++i) {
      const AVCodecParameters* p = (*source)->codecpar(i);
      nlohmann::json st = {{"codec", avcodec_get_name(p->codec_id)}};
      if (p->codec_type == AVMEDIA_TYPE_VIDEO) {
        st["width"] = p->width;
        st["height"] = p->height;
        if (!out.contains("codec")) {
          out["codec"] = avcodec_get_name(p->codec_id);
          out["width"] = p->width;
          out["height"] = p->height;
        }
      }
      streams.push_back(std::move(st));
    }
    out["streams"] = streams;
    detail = "camera " + camera->id + " reachable";
  } else {
    std::string message = source.status().message();
    // The RTSP client never puts credentials in a message; this makes sure of it.
    for (size_t at; !password->empty() && (at = message.find(*password)) != std::string::npos;) {
      message.replace(at, password->size(), "***");
    }
    out["reachable"] = false;
    out["error"] = ErrorCode(source.status().kind());
    out["message"] = message;
    detail = "camera " + camera->id + " not reachable: " + ErrorCode(source.status().kind());
  }
  records::AccessEntry e = EntryFor(call, records::AccessResult::kOk, detail);
  e.camera_id = camera->id;
  CUSTODIAN_RETURN_IF_ERROR(RecordAccess(ctx, e));
  return Json(out);
}

// Makes the certificate an rtsps:// camera presents now its pin, so that the recorder
// records it again. The body names the certificate the administrator was shown
// ({"sha256": "..."}): a camera that has since presented yet another one is refused (409).
// The pin file is written first, then the access-log entry with the alarm's clearing in one
// transaction; should that fail, the old pin is put back. No file I/O under the records lock.
Result<HttpResponse> HandleAcceptCameraCertificate(ApiContext& ctx, const Call& call) {
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  auto sha = StringMember(*body, "sha256", 64, true);
  if (!sha.ok()) return sha.status();
  const std::string camera = call.params.camera;
  const std::string path = media::rtsp::CertificatePinPath(ctx.options.data_dir, camera);
  auto before = media::rtsp::ReadCertificatePin(ctx.fs, path);
  if (!before.ok()) return before.status();
  auto accepted = media::rtsp::AcceptPresentedCertificate(ctx.fs, path, **sha, call.user().name,
                                                          ctx.clock.Now());
  if (!accepted.ok()) return accepted.status();
  Status st = ctx.db.WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(ctx.db.ClearAlarm(std::string("camera_certificate:") + camera));
    records::AccessEntry e = EntryFor(call, records::AccessResult::kOk,
                                      "camera " + camera + " TLS certificate accepted: SHA-256 " +
                                          (*before)->sha256 + " -> " + accepted->sha256);
    e.camera_id = camera;
    return RecordChange(ctx, e);
  });
  if (!st.ok()) {
    Status restored =
        WriteFileAtomically(ctx.fs, path,
                            "pinned " + (*before)->sha256 + " " + FormatUtc((*before)->pinned_at) +
                                " " + (*before)->pinned_by + "\n");
    if (!restored.ok()) LogError("api") << "camera " << camera << ": pin not restored";
    return FromRecords(st, "log the certificate's acceptance");
  }
  return Json({{"camera", camera}, {"certificate", CertificateJson(*accepted, ctx.clock.Now())}});
}

}  // namespace custodian::api
