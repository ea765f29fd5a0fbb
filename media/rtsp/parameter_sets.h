// Codec parameters from an SDP media section, without decoding anything: the Annex B
// extradata from sprop-parameter-sets (H.264, RFC 6184) or sprop-vps/sps/pps (H.265,
// RFC 7798), the picture size from the SPS, and the AudioSpecificConfig of an
// mpeg4-generic AAC track (RFC 3640) from config=.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "media/av_util.h"
#include "media/rtsp/sdp.h"

namespace custodian::media::rtsp {

struct SpsInfo {
  int width = 0;
  int height = 0;
  int profile = 0;
  int level = 0;
  // How many frames may precede a frame in decode order and follow it in presentation
  // order: H.264's max_num_reorder_frames (VUI bitstream_restriction; 0 for Baseline,
  // which has no B slices), H.265's sps_max_num_reorder_pics. -1: the SPS does not say.
  int reorder_depth = -1;
};

// `nal` starts at the NAL unit header. False on a truncated or malformed SPS.
bool ParseH264Sps(const uint8_t* nal, size_t size, SpsInfo* out);
bool ParseH265Sps(const uint8_t* nal, size_t size, SpsInfo* out);

// AAC-in-RTP layout from the fmtp of an mpeg4-generic track.
struct AacPayloadFormat {
  int size_length = 13;
  int index_length = 3;
  int index_delta_length = 3;
  int constant_duration = 1024;  // samples per access unit
};

// Codec parameters and packet time base for a track. NotFound (with the encoding name)
// for payload formats this client does not depacketize.
struct TrackParameters {
  CodecParameters par;
  AVRational time_base{1, 90000};
  AacPayloadFormat aac;
};
Result<TrackParameters> TrackParametersFromSdp(const SdpMedia& media);

// The reorder depth of the first SPS in Annex B extradata (SpsInfo::reorder_depth); -1
// when there is none or it does not say.
int ReorderDepthFromExtradata(const AVCodecParameters* par);

// For a video track whose SDP carried no parameter sets: takes the SPS/PPS (and VPS) found
// in an Annex B access unit as extradata, and the picture size from the SPS. True when the
// parameters are now complete.
bool FillParametersFromAccessUnit(AVCodecParameters* par, const uint8_t* data, size_t size);

// Calls fn(nal, size) for each NAL unit of an Annex B buffer (3- or 4-byte start codes).
template <typename Fn>
void ForEachAnnexBNal(const uint8_t* data, size_t size, Fn fn);

// Implementation detail of ForEachAnnexBNal: offset of the next start code at or after
// `from`, or size.
size_t FindStartCode(const uint8_t* data, size_t size, size_t from);

template <typename Fn>
void ForEachAnnexBNal(const uint8_t* data, size_t size, Fn fn) {
  size_t i = FindStartCode(data, size, 0);
  while (i < size) {
    size_t begin = i + 3;
    size_t next = FindStartCode(data, size, begin);
    size_t end = next;
    while (end > begin && data[end - 1] == 0) --end;  // trailing zeros: next start code's
    if (end > begin) fn(data + begin, end - begin);
    i = next;
  }
}

}  // namespace custodian::media::rtsp
