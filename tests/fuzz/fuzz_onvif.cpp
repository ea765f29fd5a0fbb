// Fuzz target: the readers of what ONVIF devices send back (onvif/device.h,
// onvif/discovery.h) and of the HTTP authentication challenges they send
// (onvif/http_digest.h), which come from any box on the camera network. The first byte picks
// the HTTP status the reply claims, the rest is the reply.
#include <cstdint>
#include <string>

#include "onvif/device.h"
#include "onvif/discovery.h"
#include "onvif/http_digest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace onvif = custodian::onvif;
  if (size == 0) return 0;
  const int status = data[0] % 2 ? 200 : 500;
  const std::string reply(reinterpret_cast<const char*>(data + 1), size - 1);
  (void)onvif::ParseDeviceInformation(reply, status);
  (void)onvif::ParseMediaXAddr(reply, status);
  (void)onvif::ParseStreamUri(reply, status);
  auto profiles = onvif::ParseProfiles(reply, status);
  if (profiles.ok()) (void)onvif::ChooseStreams(*profiles);
  (void)onvif::ParseProbeMatches(reply, "urn:uuid:fuzz");
  auto challenge = onvif::ChooseDigestChallenge({reply});
  if (challenge.ok()) (void)onvif::DigestAuthorization(*challenge, "POST", "/onvif", "u", "p");
  return 0;
}
