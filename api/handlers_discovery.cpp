// Camera discovery for administrators (docs/design/cameras.md): which ONVIF cameras answer
// a WS-Discovery probe, and the stream URLs one of them gives for its credentials, so that
// the camera form can be filled in without typing a URL. Nothing is written to the
// configuration here; the admin then adds the camera as usual (POST /api/v1/cameras).
//
// A camera that cannot be reached, refuses the credentials or answers badly is an answer
// (200, ok false, with an error code and a message), not a failure of the request. The
// password is used for the calls and forgotten; it is never logged or returned.
#include "api/handlers.h"
#include "base/log.h"
#include "onvif/survey.h"

namespace custodian::api {

namespace {

constexpr int kDefaultProbeMs = 3000;
constexpr int kMaxProbeMs = 10000;
constexpr int64_t kCallTimeoutMs = 5000;
constexpr size_t kMaxAddressBytes = 300;
constexpr size_t kMaxCredentialBytes = 256;

Status RefuseUnknownKeys(const nlohmann::json& body, std::initializer_list<const char*> keys) {
  for (auto it = body.begin(); it != body.end(); ++it) {
    bool known = false;
    for (const char* k : keys) known |= it.key() == k;
    if (!known) return InvalidArgument("unknown key \"" + it.key() + "\"");
  }
  return Status::Ok();
}

Result<onvif::Credentials> CredentialsOf(const nlohmann::json& body) {
  auto username = StringMember(body, "username", kMaxCredentialBytes, false);
  if (!username.ok()) return username.status();
  auto password = StringMember(body, "password", kMaxCredentialBytes, false);
  if (!password.ok()) return password.status();
  return onvif::Credentials{username->value_or(""), password->value_or("")};
}

const char* ErrorCode(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUnauthenticated:
      return "unauthorized";
    case ErrorKind::kUnavailable:
      return "unreachable";
    case ErrorKind::kFailedPrecondition:
      return "camera_fault";
    default:
      return "bad_reply";
  }
}

nlohmann::json ProfileJson(const onvif::MediaProfile& p) {
  return {{"name", p.name}, {"encoding", p.encoding}, {"width", p.width}, {"height", p.height}};
}

}  // namespace

Result<HttpResponse> HandleDiscoverCameras(ApiContext& ctx, const Call& call) {
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  CUSTODIAN_RETURN_IF_ERROR(
      RefuseUnknownKeys(*body, {"address", "username", "password", "timeout_ms"}));
  auto address = StringMember(*body, "address", kMaxAddressBytes, false);
  if (!address.ok()) return address.status();
  auto credentials = CredentialsOf(*body);
  if (!credentials.ok()) return credentials.status();
  onvif::ProbeOptions probe{address->value_or(""), kDefaultProbeMs, ""};
  if (auto t = body->find("timeout_ms"); t != body->end()) {
    if (!t->is_number_integer() || t->get<int64_t>() < 100 || t->get<int64_t>() > kMaxProbeMs) {
      return InvalidArgument("timeout_ms: expected 100 to " + std::to_string(kMaxProbeMs));
    }
    probe.timeout_ms = t->get<int>();
  }
  auto survey = onvif::SurveyCameras(probe, *credentials, kCallTimeoutMs);
  if (!survey.ok()) return survey.status();
  nlohmann::json cameras = nlohmann::json::array();
  for (const auto& c : survey->cameras) {
    cameras.push_back(
        {{"address", c.address},
         {"endpoint", c.endpoint},
         {"from", c.from},
         {"make", c.info.make},
         {"model", c.info.model},
         {"firmware", c.info_from_device ? nlohmann::json(c.info.firmware) : nlohmann::json()},
         {"note", c.note.empty() ? nlohmann::json() : nlohmann::json(c.note)},
         {"certificate_sha256",
          c.certificate_sha256.empty() ? nlohmann::json() : nlohmann::json(c.certificate_sha256)}});
  }
  const std::string where = probe.address.empty() ? "the local network" : probe.address;
  const std::string detail =
      std::to_string(survey->cameras.size()) + " ONVIF camera(s) found on " + where;
  CUSTODIAN_RETURN_IF_ERROR(RecordAccess(ctx, EntryFor(call, records::AccessResult::kOk, detail)));
  LogInfo("api") << detail << " by user " << call.user().user_id;
  return Json({{"probed", where},
               {"interfaces", survey->interfaces},
               {"cameras", cameras},
               {"skipped_replies", survey->skipped_replies}});
}

Result<HttpResponse> HandleCameraStreams(ApiContext& ctx, const Call& call) {
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  CUSTODIAN_RETURN_IF_ERROR(
      RefuseUnknownKeys(*body, {"address", "username", "password", "certificate_sha256"}));
  auto address = StringMember(*body, "address", kMaxAddressBytes, true);
  if (!address.ok()) return address.status();
  if (auto url = onvif::ParseHttpUrl(**address); !url.ok()) {
    return InvalidArgument("address: " + url.status().message());
  }
  auto credentials = CredentialsOf(*body);
  if (!credentials.ok()) return credentials.status();
  auto pin = StringMember(*body, "certificate_sha256", 64, false);
  if (!pin.ok()) return pin.status();
  if (pin->has_value() && ((*pin)->size() != 64 ||
                           (*pin)->find_first_not_of("0123456789abcdef") != std::string::npos)) {
    return InvalidArgument("certificate_sha256: expected 64 lower-case hex digits");
  }
  onvif::OnvifCamera camera(**address, *credentials, kCallTimeoutMs, pin->value_or(""));
  nlohmann::json out = {{"address", **address}};
  auto info = camera.GetDeviceInformation();
  Result<onvif::CameraStreams> streams =
      info.ok() ? camera.GetStreams() : Result<onvif::CameraStreams>(info.status());
  out["certificate_sha256"] = camera.certificate_sha256().empty()
                                  ? nlohmann::json()
                                  : nlohmann::json(camera.certificate_sha256());
  std::string detail = "stream URLs of the ONVIF camera at " + **address;
  if (streams.ok()) {
    out["ok"] = true;
    out["make"] = info->make;
    out["model"] = info->model;
    out["firmware"] = info->firmware;
    out["main_url"] = streams->main_url;
    out["main_profile"] = ProfileJson(streams->main_profile);
    out["sub_url"] = streams->sub_url.empty() ? nlohmann::json() : nlohmann::json(streams->sub_url);
    out["sub_profile"] =
        streams->sub_url.empty() ? nlohmann::json() : ProfileJson(streams->sub_profile);
    detail += ": found";
  } else {
    out["ok"] = false;
    out["error"] = ErrorCode(streams.status().kind());
    out["message"] = streams.status().message();
    detail += std::string(": ") + ErrorCode(streams.status().kind());
  }
  CUSTODIAN_RETURN_IF_ERROR(RecordAccess(ctx, EntryFor(call, records::AccessResult::kOk, detail)));
  return Json(out);
}

}  // namespace custodian::api
