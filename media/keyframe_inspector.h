// KeyframeInspector: reads the parameter sets (SPS/PPS, VPS for H.265) carried in a keyframe
// without decoding, so that the recorder notices a resolution change inside one RTSP
// session and starts a new segment with the new parameters.
//
// Uses libavcodec's parser (for the picture size) and the extract_extradata bitstream
// filter (for the parameter sets). Not thread-safe; one per camera session.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "media/av_util.h"

extern "C" {
#include <libavcodec/bsf.h>
}

namespace custodian::media {

struct KeyframeInfo {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> extradata;  // Annex B parameter sets found in the packet, if any
};

class KeyframeInspector {
 public:
  // codec_id: AV_CODEC_ID_H264 or AV_CODEC_ID_HEVC.
  static std::unique_ptr<KeyframeInspector> Create(const AVCodecParameters* par);
  ~KeyframeInspector();
  // False when the packet carries no parameter sets (the size is then unknown).
  bool Inspect(const AVPacket& keyframe, KeyframeInfo* out);

 private:
  KeyframeInspector() = default;
  AVCodecParserContext* parser_ = nullptr;
  AVCodecContext* ctx_ = nullptr;
  AVBSFContext* bsf_ = nullptr;
};

}  // namespace custodian::media
