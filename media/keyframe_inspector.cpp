#include "media/keyframe_inspector.h"

extern "C" {
#include <libavcodec/bsf.h>
}

namespace custodian::media {

std::unique_ptr<KeyframeInspector> KeyframeInspector::Create(const AVCodecParameters* par) {
  // Length-prefixed (avcC/hvcC) streams come from files, not cameras; RTSP delivers Annex B.
  if (par->extradata_size > 0 && par->extradata[0] == 1) return nullptr;
  std::unique_ptr<KeyframeInspector> k(new KeyframeInspector());
  k->parser_ = av_parser_init(par->codec_id);
  const AVCodec* codec = avcodec_find_decoder(par->codec_id);
  k->ctx_ = avcodec_alloc_context3(codec);
  const AVBitStreamFilter* f = av_bsf_get_by_name("extract_extradata");
  if (!k->parser_ || !k->ctx_ || !f || av_bsf_alloc(f, &k->bsf_) < 0) return nullptr;
  k->parser_->flags |= PARSER_FLAG_COMPLETE_FRAMES;
  avcodec_parameters_copy(k->bsf_->par_in, par);
  if (av_bsf_init(k->bsf_) < 0) return nullptr;
  return k;
}

KeyframeInspector::~KeyframeInspector() {
  if (parser_) av_parser_close(parser_);
  avcodec_free_context(&ctx_);
  av_bsf_free(&bsf_);
}

bool KeyframeInspector::Inspect(const AVPacket& keyframe, KeyframeInfo* out) {
  AVPacket* copy = av_packet_clone(&keyframe);
  if (!copy) return false;
  Packet owned(copy);
  if (av_bsf_send_packet(bsf_, copy) < 0) return false;
  Packet filtered = MakePacket();
  bool found = false;
  while (av_bsf_receive_packet(bsf_, filtered.get()) == 0) {
    size_t size = 0;
    uint8_t* data = av_packet_get_side_data(filtered.get(), AV_PKT_DATA_NEW_EXTRADATA, &size);
    if (data && size > 0) {
      out->extradata.assign(data, data + size);
      found = true;
    }
    av_packet_unref(filtered.get());
  }
  if (!found) return false;

  uint8_t* pout = nullptr;
  int pout_size = 0;
  av_parser_parse2(parser_, ctx_, &pout, &pout_size, keyframe.data, keyframe.size, AV_NOPTS_VALUE,
                   AV_NOPTS_VALUE, 0);
  out->width = parser_->width > 0 ? parser_->width : ctx_->width;
  out->height = parser_->height > 0 ? parser_->height : ctx_->height;
  return out->width > 0 && out->height > 0;
}

}  // namespace custodian::media
