// Fuzz target: the readers of what ONVIF devices send back (onvif/device.h,
// onvif/discovery.h) and of the HTTP authentication challenges they send
// (base/http_digest.h), which come from any box on the camera network. The first byte picks
// the HTTP status the reply claims, the rest is the reply.
#include <cstdint>
#include <string>

#include "base/http_digest.h"
#include "onvif/device.h"
#include "onvif/discovery.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace onvif = custodian::onvif;
  namespace http_auth = custodian::http_auth;
  if (size == 0) return 0;
  const int status = data[0] % 2 ? 200 : 500;
  const std::string reply(reinterpret_cast<const char*>(data + 1), size - 1);
  (void)onvif::ParseDeviceInformation(reply, status);
  (void)onvif::ParseMediaXAddr(reply, status);
  (void)onvif::ParseStreamUri(reply, status);
  auto profiles = onvif::ParseProfiles(reply, status);
  if (profiles.ok()) (void)onvif::ChooseStreams(*profiles);
  (void)onvif::ParseProbeMatches(reply, "urn:uuid:fuzz");
  auto challenge = http_auth::ChooseDigestChallenge({reply});
  if (challenge.ok()) {
    (void)http_auth::DigestAuthorization(*challenge, {"POST", "/onvif", reply}, "u", "p");
  }
  return 0;
}
