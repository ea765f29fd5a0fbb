#include "onvif/device.h"

#include "config/checks.h"
#include "onvif/http_post.h"
#include "onvif/xml.h"

namespace custodian::onvif {

namespace {

int Dimension(const xmlNode* resolution, std::string_view name) {
  const std::string text = Text(Child(resolution, name));
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != text.npos) {
    return 0;
  }
  return std::stoi(text);
}

MediaProfile ReadProfile(const xmlNode* p) {
  MediaProfile out;
  out.token = Printable(Attribute(p, "token"), 64);
  out.name = Printable(Text(Child(p, "Name")), 64);
  const xmlNode* video = Child(p, "VideoEncoderConfiguration");
  out.encoding = Printable(Text(Child(video, "Encoding")), 16);
  const xmlNode* resolution = Child(video, "Resolution");
  out.width = Dimension(resolution, "Width");
  out.height = Dimension(resolution, "Height");
  return out;
}

// Drops user info from an rtsp(s) URL and checks it as the configuration would.
Result<std::string> CleanStreamUri(std::string uri) {
  const size_t scheme_end = uri.find("://");
  if (scheme_end != std::string::npos) {
    const size_t host_start = scheme_end + 3;
    const size_t path_start = uri.find('/', host_start);
    const size_t at = uri.rfind('@', path_start == std::string::npos ? uri.npos : path_start);
    if (at != std::string::npos && at >= host_start) uri.erase(host_start, at + 1 - host_start);
  }
  if (auto problem = config::CheckCameraUrl(uri)) {
    return InvalidArgument("the camera's stream URI is not usable: " + *problem);
  }
  return uri;
}

std::string Missing(const char* what) { return std::string("the camera's reply has no ") + what; }

}  // namespace

Result<DeviceInformation> ParseDeviceInformation(std::string_view reply, int http_status) {
  Xml doc;
  auto body = ReplyBody(reply, http_status, &doc);
  if (!body.ok()) return body.status();
  if (!IsNamed(*body, "GetDeviceInformationResponse")) {
    return InvalidArgument(Missing("GetDeviceInformationResponse"));
  }
  DeviceInformation info;
  info.make = Printable(Text(Child(*body, "Manufacturer")), 64);
  info.model = Printable(Text(Child(*body, "Model")), 64);
  info.firmware = Printable(Text(Child(*body, "FirmwareVersion")), 64);
  info.serial = Printable(Text(Child(*body, "SerialNumber")), 64);
  return info;
}

Result<std::string> ParseMediaXAddr(std::string_view reply, int http_status) {
  Xml doc;
  auto body = ReplyBody(reply, http_status, &doc);
  if (!body.ok()) return body.status();
  const std::string xaddr = Text(Child(Child(Child(*body, "Capabilities"), "Media"), "XAddr"));
  if (xaddr.empty()) return InvalidArgument(Missing("media service address"));
  auto url = ParseHttpUrl(xaddr);
  if (!url.ok()) {
    return InvalidArgument("the camera's media service address is not usable: " +
                           url.status().message());
  }
  return xaddr;
}

Result<std::vector<MediaProfile>> ParseProfiles(std::string_view reply, int http_status) {
  Xml doc;
  auto body = ReplyBody(reply, http_status, &doc);
  if (!body.ok()) return body.status();
  if (!IsNamed(*body, "GetProfilesResponse"))
    return InvalidArgument(Missing("GetProfilesResponse"));
  std::vector<MediaProfile> out;
  for (const xmlNode* p : Children(*body, "Profiles")) {
    MediaProfile profile = ReadProfile(p);
    if (!profile.token.empty()) out.push_back(std::move(profile));
  }
  return out;
}

Result<std::string> ParseStreamUri(std::string_view reply, int http_status) {
  Xml doc;
  auto body = ReplyBody(reply, http_status, &doc);
  if (!body.ok()) return body.status();
  const std::string uri = Text(Child(Child(*body, "MediaUri"), "Uri"));
  if (uri.empty()) return InvalidArgument(Missing("stream URI"));
  return CleanStreamUri(uri);
}

Result<StreamChoice> ChooseStreams(const std::vector<MediaProfile>& profiles) {
  StreamChoice choice;
  auto pixels = [&](int i) {
    return int64_t{profiles[size_t(i)].width} * profiles[size_t(i)].height;
  };
  for (int i = 0; i < int(profiles.size()); ++i) {
    if (pixels(i) <= 0) continue;
    if (choice.main < 0 || pixels(i) > pixels(choice.main)) choice.main = i;
    if (choice.sub < 0 || pixels(i) < pixels(choice.sub)) choice.sub = i;
  }
  if (choice.main < 0) return InvalidArgument("the camera offers no video profile");
  if (pixels(choice.sub) >= pixels(choice.main)) choice.sub = -1;
  return choice;
}

OnvifCamera::OnvifCamera(std::string device_url, Credentials credentials, int64_t timeout_ms,
                         std::string pinned_sha256)
    : device_url_(std::move(device_url)),
      credentials_(std::move(credentials)),
      timeout_ms_(timeout_ms),
      pinned_sha256_(std::move(pinned_sha256)) {}

Result<HttpReply> OnvifCamera::Call(const std::string& url, std::string_view body) {
  PostOptions options{credentials_.username, credentials_.password, pinned_sha256_};
  auto reply = PostSoap(url, Envelope(body, credentials_, NowXsdDateTime()), timeout_ms_, options);
  if (reply.ok() && pinned_sha256_.empty()) pinned_sha256_ = reply->certificate_sha256;
  return reply;
}

Result<DeviceInformation> OnvifCamera::GetDeviceInformation() {
  auto reply = Call(device_url_, "<tds:GetDeviceInformation/>");
  if (!reply.ok()) return reply.status();
  return ParseDeviceInformation(reply->body, reply->status);
}

Result<CameraStreams> OnvifCamera::GetStreams() {
  auto capabilities = Call(device_url_,
                           "<tds:GetCapabilities><tds:Category>Media</tds:Category>"
                           "</tds:GetCapabilities>");
  if (!capabilities.ok()) return capabilities.status();
  auto media_url = ParseMediaXAddr(capabilities->body, capabilities->status);
  if (!media_url.ok()) return media_url.status();
  auto profiles_reply = Call(*media_url, "<trt:GetProfiles/>");
  if (!profiles_reply.ok()) return profiles_reply.status();
  auto profiles = ParseProfiles(profiles_reply->body, profiles_reply->status);
  if (!profiles.ok()) return profiles.status();
  auto choice = ChooseStreams(*profiles);
  if (!choice.ok()) return choice.status();
  auto stream_uri = [&](const MediaProfile& p) -> Result<std::string> {
    auto reply = Call(*media_url,
                      "<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream>"
                      "<tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport>"
                      "</trt:StreamSetup><trt:ProfileToken>" +
                          Escape(p.token) + "</trt:ProfileToken></trt:GetStreamUri>");
    if (!reply.ok()) return reply.status();
    return ParseStreamUri(reply->body, reply->status);
  };
  CameraStreams out;
  out.main_profile = (*profiles)[size_t(choice->main)];
  auto main = stream_uri(out.main_profile);
  if (!main.ok()) return main.status();
  out.main_url = *main;
  if (choice->sub >= 0) {
    out.sub_profile = (*profiles)[size_t(choice->sub)];
    auto sub = stream_uri(out.sub_profile);
    if (!sub.ok()) return sub.status();
    out.sub_url = *sub;
  }
  return out;
}

}  // namespace custodian::onvif
