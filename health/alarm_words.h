// An alarm in words a site manager understands: what is wrong and what to do about it.
// Used by the health page (through the API) and the e-mails, so both say the same.
#pragma once

#include <string>

namespace custodian::health {

struct AlarmWords {
  std::string title;       // "Camera Lobby is offline"
  std::string what_to_do;  // one or two sentences
};

// kind as in the alarms table ("camera_offline:lobby"); camera_name names the camera of a
// camera alarm (its id when empty). Unknown kinds get a generic text naming the kind.
AlarmWords DescribeAlarm(const std::string& kind, const std::string& camera_name);

// The camera id of a camera alarm ("camera_offline:lobby" -> "lobby"), else "".
std::string AlarmCamera(const std::string& kind);

}  // namespace custodian::health
