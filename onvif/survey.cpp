#include "onvif/survey.h"

namespace custodian::onvif {

Result<Survey> SurveyCameras(const ProbeOptions& probe, const Credentials& credentials,
                             int64_t call_timeout_ms) {
  auto found = Probe(probe);
  if (!found.ok()) return found.status();
  Survey out;
  out.skipped_replies = found->skipped_replies;
  out.interfaces = found->interfaces;
  for (const DiscoveredDevice& d : found->devices) {
    SurveyedCamera c;
    c.address = d.xaddrs.front();
    c.endpoint = d.endpoint;
    c.from = d.from;
    OnvifCamera camera(c.address, credentials, call_timeout_ms);
    auto info = camera.GetDeviceInformation();
    c.certificate_sha256 = camera.certificate_sha256();
    if (info.ok()) {
      c.info = *info;
      c.info_from_device = true;
    } else {
      c.info.make = d.name;
      c.info.model = d.hardware;
      c.note = info.status().message();
    }
    out.cameras.push_back(std::move(c));
  }
  return out;
}

}  // namespace custodian::onvif
