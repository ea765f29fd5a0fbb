// OnvifCamera: the ONVIF Profile S calls that add a camera: who made it
// (GetDeviceInformation), where its media service is (GetCapabilities), which profiles it
// streams (GetProfiles) and their RTSP URLs (GetStreamUri).
//
// Requests carry a WS-Security UsernameToken with PasswordDigest when a username is given
// (soap.h), and answer an HTTP Digest challenge with the same credentials (http_post.h);
// the password is held only for the life of the object and never appears in a message.
// An https:// device's certificate is trusted on first use for the life of the object: the
// certificate of its first call is pinned (unless one is given), and every later call, to
// the media service too, must meet the same one (kFailedPrecondition otherwise, with
// nothing sent). Errors follow soap.h and http_post.h; in addition kInvalidArgument when a
// camera offers no video profile or a stream URI that is not rtsp:// or rtsps://.
// User info in a stream URI (some cameras put their credentials there) is removed: the
// recorder sends credentials from the camera's password file instead.
// Not thread-safe; make one per use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "onvif/http_post.h"
#include "onvif/soap.h"

namespace custodian::onvif {

struct DeviceInformation {
  std::string make;  // Manufacturer
  std::string model;
  std::string firmware;  // FirmwareVersion
  std::string serial;    // SerialNumber
};

struct MediaProfile {
  std::string token;
  std::string name;
  std::string encoding;  // "H264", "H265", "JPEG", ... ("" when not given)
  int width = 0;
  int height = 0;
};

// The main stream is the profile with the most pixels; the sub stream is the profile with
// the fewest, when that is a different, smaller one. Indices into the profiles; sub is -1
// when there is no sub stream. kInvalidArgument when no profile has video.
struct StreamChoice {
  int main = -1;
  int sub = -1;
};
Result<StreamChoice> ChooseStreams(const std::vector<MediaProfile>& profiles);

// Parsers of the replies, for tests and the fuzz target. http_status is the reply's.
Result<DeviceInformation> ParseDeviceInformation(std::string_view reply, int http_status);
Result<std::string> ParseMediaXAddr(std::string_view reply, int http_status);
Result<std::vector<MediaProfile>> ParseProfiles(std::string_view reply, int http_status);
Result<std::string> ParseStreamUri(std::string_view reply, int http_status);

struct CameraStreams {
  std::string main_url;
  std::string sub_url;  // "" when the camera has one profile only
  MediaProfile main_profile;
  MediaProfile sub_profile;
};

class OnvifCamera {
 public:
  // device_url: the device service, as discovery's XAddrs give it (http(s)://...).
  // pinned_sha256: for https://, the certificate to require (as certificate_sha256()
  // reported it earlier); "" to pin the first one presented.
  OnvifCamera(std::string device_url, Credentials credentials, int64_t timeout_ms,
              std::string pinned_sha256 = "");

  // https://: the SHA-256 of the certificate pinned so far; "" before the first call and
  // for http://.
  const std::string& certificate_sha256() const { return pinned_sha256_; }

  Result<DeviceInformation> GetDeviceInformation();
  // GetCapabilities, GetProfiles, ChooseStreams and GetStreamUri for the chosen profiles.
  Result<CameraStreams> GetStreams();

 private:
  Result<HttpReply> Call(const std::string& url, std::string_view body);

  std::string device_url_;
  Credentials credentials_;
  int64_t timeout_ms_;
  std::string pinned_sha256_;
};

}  // namespace custodian::onvif
