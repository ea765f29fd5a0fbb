// `custodian camera discover`: lists the ONVIF cameras that answer a WS-Discovery probe,
// with make, model and firmware; with credentials, also the main and sub stream URLs a
// camera file needs (onvif/survey.h, onvif/device.h). Needs no site file.
//
// The password comes from a file (--password-file), never the command line, where `ps`
// would show it. Exits 0 when at least one camera was found and every camera asked for its
// streams answered, 1 otherwise (no camera found; refused credentials; a bad reply).
#include <cstdio>
#include <string>

#include "app/verbs.h"
#include "config/camera_config.h"
#include "onvif/survey.h"

namespace custodian {

namespace {

constexpr char kUsage[] =
    "usage: custodian camera discover [--address HOST[:PORT]] [--interface IPV4]\n"
    "                                 [--timeout-ms N] [--username NAME --password-file FILE]\n"
    "  --address    probe this address only (default: the local network, by multicast)\n"
    "  --interface  send the multicast probe by the interface with this address only\n"
    "               (default: every interface that is up and multicast-capable)\n"
    "  --timeout-ms how long to wait for replies (default 3000)\n"
    "  with credentials, each camera's main and sub stream URLs are asked for too\n";

constexpr int64_t kCallTimeoutMs = 5000;

int Usage() {
  std::fputs(kUsage, stderr);
  return kExitUsage;
}

struct DiscoverArgs {
  onvif::ProbeOptions probe;
  onvif::Credentials credentials;
  std::string password_file;
};

bool ParseArgs(const std::vector<std::string>& args, DiscoverArgs* out) {
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (i + 1 >= args.size()) return false;
    const std::string& v = args[++i];
    if (a == "--address") {
      out->probe.address = v;
    } else if (a == "--interface") {
      out->probe.interface_address = v;
    } else if (a == "--timeout-ms") {
      if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != v.npos) return false;
      out->probe.timeout_ms = std::stoi(v);
    } else if (a == "--username") {
      out->credentials.username = v;
    } else if (a == "--password-file") {
      out->password_file = v;
    } else {
      return false;
    }
  }
  return out->password_file.empty() || !out->credentials.username.empty();
}

// Prints the camera's stream URLs; false when it did not give them.
bool PrintStreams(const onvif::SurveyedCamera& c, const onvif::Credentials& credentials) {
  // The certificate the survey saw is required of the stream calls (trust on first use).
  auto streams =
      onvif::OnvifCamera(c.address, credentials, kCallTimeoutMs, c.certificate_sha256).GetStreams();
  if (!streams.ok()) {
    std::printf("  streams: %s\n", streams.status().message().c_str());
    return false;
  }
  auto describe = [](const onvif::MediaProfile& p) {
    return p.name + ", " + std::to_string(p.width) + "x" + std::to_string(p.height) +
           (p.encoding.empty() ? "" : " " + p.encoding);
  };
  std::printf("  main_url: %s  (%s)\n", streams->main_url.c_str(),
              describe(streams->main_profile).c_str());
  if (streams->sub_url.empty()) {
    std::printf("  sub_url:  (none: the camera has one video profile)\n");
  } else {
    std::printf("  sub_url:  %s  (%s)\n", streams->sub_url.c_str(),
                describe(streams->sub_profile).c_str());
  }
  return true;
}

int Discover(const std::vector<std::string>& args) {
  DiscoverArgs parsed;
  if (!ParseArgs(args, &parsed)) return Usage();
  if (!parsed.password_file.empty()) {
    config::CameraConfig holder;
    holder.id = "discover";
    holder.password_file = parsed.password_file;
    auto password = config::ReadCameraPassword(holder);
    if (!password.ok()) {
      std::fprintf(stderr, "custodian: camera discover: cannot read the password file\n");
      return kExitFailure;
    }
    parsed.credentials.password = *password;
  }
  auto survey = onvif::SurveyCameras(parsed.probe, parsed.credentials, kCallTimeoutMs);
  if (!survey.ok()) {
    std::fprintf(stderr, "custodian: camera discover: %s\n", survey.status().message().c_str());
    return kExitFailure;
  }
  std::string where = " at " + parsed.probe.address;
  if (parsed.probe.address.empty()) {
    where = " on the local network";
    if (!parsed.probe.interface_address.empty()) {
      where += " of the interface " + parsed.probe.interface_address;
    } else if (!survey->interfaces.empty()) {
      where += " (probed by ";
      for (size_t i = 0; i < survey->interfaces.size(); ++i) {
        where += (i ? ", " : "") + survey->interfaces[i];
      }
      where += ")";
    }
  }
  std::printf("%zu ONVIF camera(s) found%s\n", survey->cameras.size(), where.c_str());
  bool all_ok = !survey->cameras.empty();
  for (const auto& c : survey->cameras) {
    std::printf("\naddress:  %s\n", c.address.c_str());
    std::printf("make:     %s\nmodel:    %s\nfirmware: %s\n", c.info.make.c_str(),
                c.info.model.c_str(), c.info_from_device ? c.info.firmware.c_str() : "(unknown)");
    if (!c.certificate_sha256.empty()) {
      std::printf("certificate: SHA-256 %s (not checked by any authority)\n",
                  c.certificate_sha256.c_str());
    }
    if (!c.note.empty()) std::printf("  note: %s\n", c.note.c_str());
    if (!parsed.credentials.username.empty() && !PrintStreams(c, parsed.credentials)) {
      all_ok = false;
    }
  }
  if (survey->skipped_replies > 0) {
    std::printf("\n%d reply(ies) skipped: not a valid answer to this probe\n",
                survey->skipped_replies);
  }
  return all_ok ? kExitOk : kExitFailure;
}

}  // namespace

int RunCamera(const GlobalOptions&, const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "discover") return Usage();
  return Discover(args);
}

}  // namespace custodian
