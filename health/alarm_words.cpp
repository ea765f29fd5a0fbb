#include "health/alarm_words.h"

#include <string_view>

namespace custodian::health {

namespace {

std::string_view Base(const std::string& kind) {
  size_t colon = kind.find(':');
  return std::string_view(kind).substr(0, colon);
}

std::string Suffix(const std::string& kind) {
  size_t colon = kind.find(':');
  return colon == std::string::npos ? "" : kind.substr(colon + 1);
}

}  // namespace

std::string AlarmCamera(const std::string& kind) {
  std::string_view base = Base(kind);
  return base == "camera_offline" || base == "camera_timing" || base == "camera_clock" ||
                 base == "camera_certificate" || base == "camera_certificate_expiry"
             ? Suffix(kind)
             : "";
}

AlarmWords DescribeAlarm(const std::string& kind, const std::string& camera_name) {
  std::string_view base = Base(kind);
  std::string camera = camera_name.empty() ? Suffix(kind) : camera_name;
  if (base == "camera_offline") {
    return {"Camera " + camera + " is offline",
            "Nothing is being recorded from it. Check that the camera has power and network, "
            "that its address and password are right and that RTSP is enabled; the Cameras "
            "page shows the last error."};
  }
  if (base == "camera_timing") {
    return {"Camera " + camera + "'s clock or timestamps are wrong",
            "Recording goes on with corrected times. Set the camera to take its time from "
            "NTP, and check its clock in its own web page."};
  }
  if (base == "camera_clock") {
    return {"Camera " + camera + "'s clock is wrong",
            "Recording goes on, timed by the appliance's clock; the camera's own time (and "
            "the time it burns into its pictures) does not match it. Set the camera to take "
            "its time from NTP (the same server as the appliance), then check its clock on its "
            "own web page."};
  }
  if (base == "camera_certificate") {
    return {"Camera " + camera + "'s TLS certificate has changed",
            "It is not being recorded: the camera, or something in its place, presents a "
            "certificate other than the one trusted. If the camera was reset or its "
            "certificate renewed, compare the new fingerprint with the camera's own page and "
            "accept it on the Cameras page; otherwise look for what answers at its address."};
  }
  if (base == "camera_certificate_expiry") {
    return {"Camera " + camera + "'s TLS certificate expires soon or has expired",
            "Recording goes on: the certificate pinned when the camera was added is what is "
            "trusted, whatever its dates. Renew the certificate on the camera's own page; it "
            "then presents a new one, which stops recording until you compare its "
            "fingerprint and accept it on the Cameras page."};
  }
  if (base == "recorder_down") {
    return {"The recorder is not running",
            "No camera is being recorded. Restart the appliance or run "
            "'systemctl restart custodian-record'; if it stops again, call support."};
  }
  if (base == "low_space") {
    return {"The disk is nearly full",
            "Retention is deleting the oldest footage early to make room. If this stays, "
            "shorten retention or fit a larger disk."};
  }
  if (base == "disk_full") {
    return {"The disk is full of held footage",
            "Only held footage is left, so new recording may stop. Review the holds and "
            "release those no longer needed, or fit a larger disk."};
  }
  if (base == "deletion_failed") {
    return {"Retention could not delete footage",
            "Footage is being kept longer than the policy allows. Check the disk for errors; "
            "the retention log says which files failed."};
  }
  if (base == "hold_review_due") {
    return {"Holds are past their review date",
            "A manager should review the holds on the Holds page and release those no "
            "longer needed, or set a new review date."};
  }
  if (base == "clock_unsynchronised") {
    return {"The appliance's clock is not synchronised",
            "Recording times may drift. Check that the appliance can reach an NTP server "
            "(timedatectl shows the state)."};
  }
  if (base == "backup_overdue") {
    return {"A backup is overdue",
            "Run 'custodian backup' and keep the file off the appliance; without a backup, "
            "a failed disk loses the access log and the requests."};
  }
  if (base == "dsar_deadline") {
    return {"Subject access request " + Suffix(kind) + " is close to its deadline",
            "Open the request and finish it, or record an extension if the law allows one."};
  }
  if (base == "access_log_chain") {
    return {"The access log does not verify",
            "An entry has been changed or removed. Tell the DPO at once, do not restore a "
            "backup over it, and run 'custodian audit verify' to find the entry."};
  }
  return {"Alarm: " + kind, "See the detail, and call support if it is not clear."};
}

}  // namespace custodian::health
