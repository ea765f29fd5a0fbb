// The parts of an SDP session description (RFC 4566) that an RTSP client needs: each
// m= section's media type, payload format (a=rtpmap), format parameters (a=fmtp) and
// control URL (a=control), and the session-level control URL.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace custodian::media::rtsp {

struct SdpMedia {
  std::string media;      // "video", "audio", "application"
  int payload_type = -1;  // the first format of the m= line
  std::string encoding;   // from a=rtpmap (or the static payload type): "H264", "mpeg4-generic"
  int clock_rate = 0;
  int channels = 0;                         // rtpmap's encoding parameters for audio; 0 when absent
  std::string control;                      // a=control, unresolved
  std::map<std::string, std::string> fmtp;  // keys lowercased
};

struct SessionDescription {
  std::string control;  // session-level a=control, unresolved; empty when absent
  std::vector<SdpMedia> media;
};

// InvalidArgument when there is no m= line at all; unknown lines are ignored.
Result<SessionDescription> ParseSdp(std::string_view text);

}  // namespace custodian::media::rtsp
