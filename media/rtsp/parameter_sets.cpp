#include "media/rtsp/parameter_sets.h"

#include <cstdlib>
#include <cstring>
#include <iterator>

#include "media/rtsp/rtsp_message.h"

extern "C" {
#include <libavutil/base64.h>
#include <libavutil/channel_layout.h>
}

namespace custodian::media::rtsp {

namespace {

constexpr uint8_t kStartCode[4] = {0, 0, 0, 1};

// Reads an RBSP (emulation-prevention bytes removed) bit by bit; reads past the end yield
// zeros and set overrun, which the callers check once at the end.
class BitReader {
 public:
  BitReader(const uint8_t* nal, size_t size) {
    rbsp_.reserve(size);
    int zeros = 0;
    for (size_t i = 0; i < size; ++i) {
      if (zeros >= 2 && nal[i] == 3) {
        zeros = 0;
        continue;
      }
      zeros = nal[i] == 0 ? zeros + 1 : 0;
      rbsp_.push_back(nal[i]);
    }
  }
  uint32_t Bits(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 1) | Bit();
    return v;
  }
  uint32_t Bit() {
    if (pos_ >= rbsp_.size() * 8) {
      overrun_ = true;
      return 0;
    }
    uint32_t b = (rbsp_[pos_ / 8] >> (7 - pos_ % 8)) & 1;
    ++pos_;
    return b;
  }
  void Skip(size_t n) { pos_ += n; }
  uint32_t Ue() {
    int zeros = 0;
    while (Bit() == 0 && !overrun_) {
      if (++zeros > 31) {
        overrun_ = true;
        return 0;
      }
    }
    return zeros == 0 ? 0 : ((1u << zeros) - 1 + Bits(zeros));
  }
  int32_t Se() {
    uint32_t k = Ue();
    return (k & 1) ? static_cast<int32_t>((k + 1) / 2) : -static_cast<int32_t>(k / 2);
  }
  bool ok() const { return !overrun_ && pos_ <= rbsp_.size() * 8; }

 private:
  std::vector<uint8_t> rbsp_;
  size_t pos_ = 0;
  bool overrun_ = false;
};

void SkipScalingList(BitReader& r, int size) {
  int last = 8, next = 8;
  for (int j = 0; j < size; ++j) {
    // delta_scale is -128..127 in a valid stream; a hostile one may give any 32-bit value,
    // so the sum is taken in 64 bits (found by fuzz_rtsp_media: signed overflow).
    if (next != 0) next = static_cast<int>(((int64_t{last} + r.Se()) % 256 + 256) % 256);
    last = next == 0 ? last : next;
  }
}

// hrd_parameters() of an H.264 VUI (E.1.2), skipped.
void SkipH264Hrd(BitReader& r) {
  const uint32_t cpb_count = r.Ue() + 1;
  r.Bits(8);  // bit_rate_scale, cpb_size_scale
  for (uint32_t i = 0; i < cpb_count && i < 32 && r.ok(); ++i) {
    r.Ue();   // bit_rate_value_minus1
    r.Ue();   // cpb_size_value_minus1
    r.Bit();  // cbr_flag
  }
  r.Bits(20);  // four delay and offset lengths of 5 bits
}

// The VUI (E.1.1) up to max_num_reorder_frames; -1 without bitstream_restriction.
int H264VuiReorderDepth(BitReader& r) {
  if (r.Bit() && r.Bits(8) == 255) r.Bits(32);  // aspect_ratio_idc, Extended_SAR
  if (r.Bit()) r.Bit();                          // overscan
  if (r.Bit()) {                                 // video_signal_type
    r.Bits(4);
    if (r.Bit()) r.Bits(24);  // colour description
  }
  if (r.Bit()) {  // chroma_loc_info
    r.Ue();
    r.Ue();
  }
  if (r.Bit()) {  // timing_info
    r.Bits(32);
    r.Bits(32);
    r.Bit();
  }
  const bool nal_hrd = r.Bit();
  if (nal_hrd) SkipH264Hrd(r);
  const bool vcl_hrd = r.Bit();
  if (vcl_hrd) SkipH264Hrd(r);
  if (nal_hrd || vcl_hrd) r.Bit();  // low_delay_hrd_flag
  r.Bit();                          // pic_struct_present_flag
  if (!r.Bit()) return -1;          // bitstream_restriction_flag
  r.Bit();                          // motion_vectors_over_pic_boundaries_flag
  for (int i = 0; i < 4; ++i) r.Ue();  // max bytes/bits denominators, max mv lengths
  const uint32_t reorder = r.Ue();
  return r.ok() && reorder <= 16 ? static_cast<int>(reorder) : -1;
}

void AppendAnnexB(std::vector<uint8_t>* out, const uint8_t* nal, size_t size) {
  out->insert(out->end(), kStartCode, kStartCode + 4);
  out->insert(out->end(), nal, nal + size);
}

bool SetExtradata(AVCodecParameters* par, const std::vector<uint8_t>& data) {
  av_freep(&par->extradata);
  par->extradata_size = 0;
  if (data.empty()) return true;
  par->extradata = static_cast<uint8_t*>(av_mallocz(data.size() + AV_INPUT_BUFFER_PADDING_SIZE));
  if (!par->extradata) return false;
  std::memcpy(par->extradata, data.data(), data.size());
  par->extradata_size = static_cast<int>(data.size());
  return true;
}

// Appends each base64 NAL unit of a comma-separated list in Annex B form.
void AppendBase64Nals(const std::string& list, std::vector<uint8_t>* out) {
  size_t pos = 0;
  while (pos < list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    std::string item = list.substr(pos, comma - pos);
    pos = comma + 1;
    std::vector<uint8_t> nal(item.size());
    int n = av_base64_decode(nal.data(), item.c_str(), static_cast<int>(nal.size()));
    if (n > 0) AppendAnnexB(out, nal.data(), static_cast<size_t>(n));
  }
}

int H264Type(const uint8_t* nal) { return nal[0] & 0x1f; }
int H265Type(const uint8_t* nal) { return (nal[0] >> 1) & 0x3f; }

void ApplySps(AVCodecParameters* par, const SpsInfo& sps) {
  par->width = sps.width;
  par->height = sps.height;
  par->profile = sps.profile;
  par->level = sps.level;
}

bool ParseSps(AVCodecID codec, const uint8_t* nal, size_t size, SpsInfo* out) {
  return codec == AV_CODEC_ID_H264 ? ParseH264Sps(nal, size, out) : ParseH265Sps(nal, size, out);
}

// Picture size from the first SPS in Annex B extradata.
void ApplyExtradataSps(AVCodecParameters* par) {
  bool done = false;
  ForEachAnnexBNal(
      par->extradata, static_cast<size_t>(par->extradata_size), [&](const uint8_t* nal, size_t n) {
        bool is_sps = par->codec_id == AV_CODEC_ID_H264 ? H264Type(nal) == 7 : H265Type(nal) == 33;
        SpsInfo sps;
        if (!done && is_sps && ParseSps(par->codec_id, nal, n, &sps)) {
          ApplySps(par, sps);
          done = true;
        }
      });
}

std::vector<uint8_t> FromHex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    unsigned v = 0;
    for (char c : {hex[i], hex[i + 1]}) {
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<unsigned>(c - 'A' + 10);
      else
        return {};
    }
    out.push_back(static_cast<uint8_t>(v));
  }
  return out;
}

int FmtpInt(const SdpMedia& m, const char* key, int fallback) {
  auto it = m.fmtp.find(key);
  if (it == m.fmtp.end() || it->second.empty()) return fallback;
  return std::atoi(it->second.c_str());
}

std::string Fmtp(const SdpMedia& m, const char* key) {
  auto it = m.fmtp.find(key);
  return it == m.fmtp.end() ? std::string() : it->second;
}

Result<TrackParameters> VideoParameters(const SdpMedia& m, AVCodecID codec) {
  TrackParameters t;
  t.par.reset(avcodec_parameters_alloc());
  if (!t.par) return ResourceExhausted("out of memory");
  t.par->codec_type = AVMEDIA_TYPE_VIDEO;
  t.par->codec_id = codec;
  t.time_base = {1, m.clock_rate > 0 ? m.clock_rate : 90000};
  std::vector<uint8_t> extradata;
  if (codec == AV_CODEC_ID_H264) {
    if (FmtpInt(m, "packetization-mode", 1) > 1)
      return NotFound("H.264 packetization-mode 2 (interleaved) is not supported");
    AppendBase64Nals(Fmtp(m, "sprop-parameter-sets"), &extradata);
  } else {
    if (FmtpInt(m, "sprop-max-don-diff", 0) > 0)
      return NotFound("H.265 with decoding order numbers (sprop-max-don-diff) is not supported");
    for (const char* key : {"sprop-vps", "sprop-sps", "sprop-pps", "sprop-sei"})
      AppendBase64Nals(Fmtp(m, key), &extradata);
  }
  if (!SetExtradata(t.par.get(), extradata)) return ResourceExhausted("out of memory");
  ApplyExtradataSps(t.par.get());
  return t;
}

// Sampling frequencies of an AudioSpecificConfig's 4-bit index (ISO 14496-3 1.6.3.4).
constexpr int kAacRates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                             22050, 16000, 12000, 11025, 8000,  7350};

Result<TrackParameters> AacParameters(const SdpMedia& m) {
  TrackParameters t;
  t.aac.size_length = FmtpInt(m, "sizelength", 13);
  t.aac.index_length = FmtpInt(m, "indexlength", 3);
  t.aac.index_delta_length = FmtpInt(m, "indexdeltalength", 3);
  t.aac.constant_duration = FmtpInt(m, "constantduration", 1024);
  if (t.aac.size_length <= 0 || t.aac.size_length > 16 || t.aac.index_length < 0 ||
      t.aac.index_length > 16 || t.aac.index_delta_length < 0 || t.aac.index_delta_length > 16)
    return NotFound("mpeg4-generic without AU sizes is not supported");
  t.par.reset(avcodec_parameters_alloc());
  if (!t.par) return ResourceExhausted("out of memory");
  t.par->codec_type = AVMEDIA_TYPE_AUDIO;
  t.par->codec_id = AV_CODEC_ID_AAC;
  std::vector<uint8_t> config = FromHex(Fmtp(m, "config"));
  if (!SetExtradata(t.par.get(), config)) return ResourceExhausted("out of memory");
  int rate = m.clock_rate;
  int channels = m.channels;
  if (config.size() >= 2) {
    // audioObjectType (5 bits), samplingFrequencyIndex (4), channelConfiguration (4).
    int index = ((config[0] & 0x07) << 1) | (config[1] >> 7);
    if (index < static_cast<int>(std::size(kAacRates)) && rate <= 0) rate = kAacRates[index];
    int config_channels = (config[1] >> 3) & 0x0f;
    if (channels <= 0 && config_channels > 0 && config_channels < 7) channels = config_channels;
    if (channels <= 0 && config_channels == 7) channels = 8;
    t.par->profile = (config[0] >> 3) - 1;
  }
  t.par->sample_rate = rate > 0 ? rate : 48000;
  av_channel_layout_default(&t.par->ch_layout, channels > 0 ? channels : 1);
  t.par->frame_size = t.aac.constant_duration;
  t.time_base = {1, m.clock_rate > 0 ? m.clock_rate : t.par->sample_rate};
  return t;
}

}  // namespace

size_t FindStartCode(const uint8_t* data, size_t size, size_t from) {
  for (size_t i = from; i + 3 <= size; ++i) {
    if (data[i + 2] > 1) {
      i += 2;  // none of the next three positions can start a start code
      continue;
    }
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) return i;
  }
  return size;
}

bool ParseH264Sps(const uint8_t* nal, size_t size, SpsInfo* out) {
  if (size < 4 || H264Type(nal) != 7) return false;
  BitReader r(nal + 1, size - 1);
  const int profile = static_cast<int>(r.Bits(8));
  r.Skip(8);  // constraint flags
  const int level = static_cast<int>(r.Bits(8));
  r.Ue();  // seq_parameter_set_id
  uint32_t chroma_format = 1;
  bool separate_planes = false;
  switch (profile) {
    case 100:
    case 110:
    case 122:
    case 244:
    case 44:
    case 83:
    case 86:
    case 118:
    case 128:
    case 138:
    case 139:
    case 134:
    case 135:
      chroma_format = r.Ue();
      if (chroma_format == 3) separate_planes = r.Bit();
      r.Ue();         // bit_depth_luma_minus8
      r.Ue();         // bit_depth_chroma_minus8
      r.Bit();        // qpprime_y_zero_transform_bypass_flag
      if (r.Bit()) {  // seq_scaling_matrix_present_flag
        for (int i = 0; i < (chroma_format == 3 ? 12 : 8); ++i) {
          if (r.Bit()) SkipScalingList(r, i < 6 ? 16 : 64);
        }
      }
      break;
    default:
      break;
  }
  r.Ue();  // log2_max_frame_num_minus4
  uint32_t poc_type = r.Ue();
  if (poc_type == 0) {
    r.Ue();  // log2_max_pic_order_cnt_lsb_minus4
  } else if (poc_type == 1) {
    r.Bit();
    r.Se();
    r.Se();
    uint32_t cycle = r.Ue();
    if (cycle > 255) return false;
    for (uint32_t i = 0; i < cycle; ++i) r.Se();
  }
  r.Ue();   // max_num_ref_frames
  r.Bit();  // gaps_in_frame_num_value_allowed_flag
  const uint32_t width_mbs = r.Ue() + 1;
  const uint32_t height_units = r.Ue() + 1;
  const uint32_t frame_mbs_only = r.Bit();
  if (!frame_mbs_only) r.Bit();     // mb_adaptive_frame_field_flag
  r.Bit();                          // direct_8x8_inference_flag
  uint32_t crop[4] = {0, 0, 0, 0};  // left, right, top, bottom
  if (r.Bit()) {
    for (uint32_t& c : crop) c = r.Ue();
  }
  if (!r.ok() || width_mbs > 1024 || height_units > 1024) return false;
  int reorder_depth = -1;
  if (r.Bit()) reorder_depth = H264VuiReorderDepth(r);  // vui_parameters_present_flag
  if (reorder_depth < 0 && profile == 66) reorder_depth = 0;  // Baseline: no B slices
  const uint32_t chroma_array = separate_planes ? 0 : chroma_format;
  const uint32_t sub_w = chroma_array == 1 || chroma_array == 2 ? 2 : 1;
  const uint32_t sub_h = chroma_array == 1 ? 2 : 1;
  const uint32_t crop_x = chroma_array == 0 ? 1 : sub_w;
  const uint32_t crop_y = (chroma_array == 0 ? 1 : sub_h) * (2 - frame_mbs_only);
  int64_t w = int64_t{width_mbs} * 16 - int64_t{crop_x} * (crop[0] + crop[1]);
  int64_t h =
      int64_t{height_units} * 16 * (2 - frame_mbs_only) - int64_t{crop_y} * (crop[2] + crop[3]);
  if (w <= 0 || h <= 0) return false;
  *out = {static_cast<int>(w), static_cast<int>(h), profile, level, reorder_depth};
  return true;
}

bool ParseH265Sps(const uint8_t* nal, size_t size, SpsInfo* out) {
  if (size < 4 || H265Type(nal) != 33) return false;
  BitReader r(nal + 2, size - 2);
  r.Bits(4);  // sps_video_parameter_set_id
  const uint32_t max_sub_layers_minus1 = r.Bits(3);
  r.Bit();  // sps_temporal_id_nesting_flag
  // profile_tier_level(1, max_sub_layers_minus1)
  r.Bits(2);  // general_profile_space
  r.Bit();    // general_tier_flag
  const int profile = static_cast<int>(r.Bits(5));
  r.Skip(32 + 4 + 43 + 1);  // compatibility flags, source flags, constraint flags, reserved
  const int level = static_cast<int>(r.Bits(8));
  bool sub_profile[8] = {}, sub_level[8] = {};
  for (uint32_t i = 0; i < max_sub_layers_minus1; ++i) {
    sub_profile[i] = r.Bit();
    sub_level[i] = r.Bit();
  }
  if (max_sub_layers_minus1 > 0) {
    for (uint32_t i = max_sub_layers_minus1; i < 8; ++i) r.Bits(2);
  }
  for (uint32_t i = 0; i < max_sub_layers_minus1; ++i) {
    if (sub_profile[i]) r.Skip(88);
    if (sub_level[i]) r.Skip(8);
  }
  r.Ue();  // sps_seq_parameter_set_id
  const uint32_t chroma_format = r.Ue();
  bool separate_planes = false;
  if (chroma_format == 3) separate_planes = r.Bit();
  const uint32_t width = r.Ue();
  const uint32_t height = r.Ue();
  uint32_t win[4] = {0, 0, 0, 0};  // left, right, top, bottom
  if (r.Bit()) {
    for (uint32_t& c : win) c = r.Ue();
  }
  if (!r.ok() || chroma_format > 3 || width == 0 || height == 0 || width > 16384 || height > 16384)
    return false;
  r.Ue();  // bit_depth_luma_minus8
  r.Ue();  // bit_depth_chroma_minus8
  r.Ue();  // log2_max_pic_order_cnt_lsb_minus4
  // The highest sub-layer's values come last whether or not each layer has its own.
  const uint32_t first_layer = r.Bit() ? 0 : max_sub_layers_minus1;
  uint32_t reorder = 0;
  for (uint32_t i = first_layer; i <= max_sub_layers_minus1; ++i) {
    r.Ue();  // sps_max_dec_pic_buffering_minus1
    reorder = r.Ue();
    r.Ue();  // sps_max_latency_increase_plus1
  }
  const int reorder_depth = r.ok() && reorder <= 16 ? static_cast<int>(reorder) : -1;
  const uint32_t chroma_array = separate_planes ? 0 : chroma_format;
  const uint32_t sub_w = chroma_array == 1 || chroma_array == 2 ? 2 : 1;
  const uint32_t sub_h = chroma_array == 1 ? 2 : 1;
  int64_t w = int64_t{width} - int64_t{sub_w} * (win[0] + win[1]);
  int64_t h = int64_t{height} - int64_t{sub_h} * (win[2] + win[3]);
  if (w <= 0 || h <= 0) return false;
  *out = {static_cast<int>(w), static_cast<int>(h), profile, level, reorder_depth};
  return true;
}

int ReorderDepthFromExtradata(const AVCodecParameters* par) {
  int depth = -1;
  bool done = false;
  if (!par->extradata || par->extradata_size < 4) return -1;
  ForEachAnnexBNal(
      par->extradata, static_cast<size_t>(par->extradata_size), [&](const uint8_t* nal, size_t n) {
        const bool h264 = par->codec_id == AV_CODEC_ID_H264;
        const bool is_sps = h264 ? H264Type(nal) == 7 : H265Type(nal) == 33;
        SpsInfo sps;
        if (!done && is_sps && ParseSps(par->codec_id, nal, n, &sps)) {
          depth = sps.reorder_depth;
          done = true;
        }
      });
  return depth;
}

Result<TrackParameters> TrackParametersFromSdp(const SdpMedia& m) {
  if (EqualsIgnoreCase(m.encoding, "H264")) return VideoParameters(m, AV_CODEC_ID_H264);
  if (EqualsIgnoreCase(m.encoding, "H265")) return VideoParameters(m, AV_CODEC_ID_HEVC);
  if (EqualsIgnoreCase(m.encoding, "mpeg4-generic") && m.media == "audio") return AacParameters(m);
  return NotFound(m.media + " " + (m.encoding.empty() ? "(unknown)" : m.encoding) +
                  " is not supported");
}

bool FillParametersFromAccessUnit(AVCodecParameters* par, const uint8_t* data, size_t size) {
  const bool h264 = par->codec_id == AV_CODEC_ID_H264;
  std::vector<uint8_t> extradata;
  bool sps_seen = false, pps_seen = false;
  SpsInfo sps;
  ForEachAnnexBNal(data, size, [&](const uint8_t* nal, size_t n) {
    int type = h264 ? H264Type(nal) : H265Type(nal);
    bool is_sps = h264 ? type == 7 : type == 33;
    bool is_pps = h264 ? type == 8 : type == 34;
    bool is_vps = !h264 && type == 32;
    if (!is_sps && !is_pps && !is_vps) return;
    if (is_sps && !sps_seen) sps_seen = ParseSps(par->codec_id, nal, n, &sps);
    pps_seen = pps_seen || is_pps;
    AppendAnnexB(&extradata, nal, n);
  });
  if (!sps_seen || !pps_seen) return false;
  if (!SetExtradata(par, extradata)) return false;
  ApplySps(par, sps);
  return true;
}

}  // namespace custodian::media::rtsp
