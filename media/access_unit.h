// AccessUnitAssembler: joins the packets that carry one video frame into one packet.
//
// libavformat's RTP depacketiser hands over one packet per NAL unit (or group), so the
// parameter sets a camera sends before each keyframe arrive as packets of their own with
// the keyframe's timestamp. An MP4 sample must be a whole access unit, so packets with the
// same timestamp are concatenated (Annex B data stays valid when joined) and flagged as a
// keyframe when any part was. Costs one frame of latency; never drops data.
#pragma once

#include "media/av_util.h"

namespace custodian::media {

class AccessUnitAssembler {
 public:
  // Takes the packet's data (it is unreferenced). Returns true and fills *out when the
  // previous access unit is complete.
  bool Push(AVPacket* pkt, AVPacket* out);
  // Hands over the access unit in progress, if any.
  bool Flush(AVPacket* out);

 private:
  Packet pending_ = MakePacket();
  bool has_pending_ = false;
};

}  // namespace custodian::media
