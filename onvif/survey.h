// SurveyCameras: what discovery found, with each device's make, model and firmware, for the
// camera list of `custodian camera discover` and the admin page.
//
// Each device found by Probe is asked GetDeviceInformation at its first device service
// address (with the credentials, if any). Many cameras answer that call only with
// credentials; then make and model come from the discovery scopes (name and hardware), the
// firmware stays empty and `note` says why (kRefusedCredentials, or the error). A device
// that answers badly is listed with its note, never dropped, and never stops the others.
// For an https:// device the certificate it presented is listed, to be shown and pinned
// for the stream calls that follow (OnvifCamera's pinned_sha256).
// Errors are Probe's. Thread-safe: no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "onvif/device.h"
#include "onvif/discovery.h"

namespace custodian::onvif {

struct SurveyedCamera {
  std::string address;  // the device service (http(s)://...), which names it for GetStreams
  std::string certificate_sha256;  // https://: the certificate it presented ("" for http://)
  std::string endpoint;
  std::string from;  // the IP address its reply came from
  DeviceInformation info;
  bool info_from_device = false;  // false: make and model from the discovery scopes
  std::string note;
};

struct Survey {
  std::vector<SurveyedCamera> cameras;
  int skipped_replies = 0;
  std::vector<std::string> interfaces;  // Probe's: the interfaces a multicast probe left by
};

Result<Survey> SurveyCameras(const ProbeOptions& probe, const Credentials& credentials,
                             int64_t call_timeout_ms);

}  // namespace custodian::onvif
