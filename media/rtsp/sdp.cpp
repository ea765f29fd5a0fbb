#include "media/rtsp/sdp.h"

#include <cctype>
#include <charconv>

#include "media/rtsp/rtsp_message.h"

namespace custodian::media::rtsp {

namespace {

int ToInt(std::string_view s, int fallback) {
  s = Trim(s);
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() ? v : fallback;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Payload types with a fixed meaning (RFC 3551) that need no a=rtpmap.
void ApplyStaticPayloadType(SdpMedia* m) {
  struct Static {
    int pt;
    const char* encoding;
    int rate;
  };
  static const Static kTypes[] = {{0, "PCMU", 8000},   {8, "PCMA", 8000},  {14, "MPA", 90000},
                                  {26, "JPEG", 90000}, {32, "MPV", 90000}, {33, "MP2T", 90000}};
  for (const Static& s : kTypes) {
    if (s.pt == m->payload_type) {
      m->encoding = s.encoding;
      m->clock_rate = s.rate;
    }
  }
}

// "96 H264/90000" or "97 mpeg4-generic/48000/2" for the media's payload type.
void ApplyRtpmap(std::string_view value, SdpMedia* m) {
  size_t sp = value.find(' ');
  if (sp == std::string_view::npos || ToInt(value.substr(0, sp), -2) != m->payload_type) return;
  std::string_view rest = Trim(value.substr(sp + 1));
  size_t slash = rest.find('/');
  m->encoding = std::string(rest.substr(0, slash));
  if (slash == std::string_view::npos) return;
  rest = rest.substr(slash + 1);
  slash = rest.find('/');
  m->clock_rate = ToInt(rest.substr(0, slash), 0);
  if (slash != std::string_view::npos) m->channels = ToInt(rest.substr(slash + 1), 0);
}

// "96 packetization-mode=1;sprop-parameter-sets=Z0IA...,aM4..."
void ApplyFmtp(std::string_view value, SdpMedia* m) {
  size_t sp = value.find(' ');
  if (sp == std::string_view::npos || ToInt(value.substr(0, sp), -2) != m->payload_type) return;
  std::string_view rest = value.substr(sp + 1);
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    std::string_view item = Trim(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    size_t eq = item.find('=');
    if (item.empty()) continue;
    // Values may contain '=' (base64 padding), so only the first one splits.
    std::string key = Lower(Trim(item.substr(0, eq)));
    m->fmtp[key] = eq == std::string_view::npos ? "" : std::string(Trim(item.substr(eq + 1)));
  }
}

}  // namespace

Result<SessionDescription> ParseSdp(std::string_view text) {
  SessionDescription sd;
  SdpMedia* current = nullptr;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = Trim(text.substr(0, eol));
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (line.size() < 2 || line[1] != '=') continue;
    std::string_view value = line.substr(2);
    if (line[0] == 'm') {
      // m=video 0 RTP/AVP 96
      SdpMedia m;
      size_t sp = value.find(' ');
      m.media = std::string(value.substr(0, sp));
      size_t fmt = value.find(' ', value.find(' ', sp + 1) + 1);
      if (sp != std::string_view::npos && fmt != std::string_view::npos) {
        std::string_view formats = value.substr(fmt + 1);
        m.payload_type = ToInt(formats.substr(0, formats.find(' ')), -1);
      }
      ApplyStaticPayloadType(&m);
      sd.media.push_back(std::move(m));
      current = &sd.media.back();
    } else if (line[0] == 'a') {
      size_t colon = value.find(':');
      std::string_view attr = value.substr(0, colon);
      std::string_view arg = colon == std::string_view::npos ? "" : Trim(value.substr(colon + 1));
      if (attr == "control") {
        (current ? current->control : sd.control) = std::string(arg);
      } else if (current && attr == "rtpmap") {
        ApplyRtpmap(arg, current);
      } else if (current && attr == "fmtp") {
        ApplyFmtp(arg, current);
      }
    }
  }
  if (sd.media.empty()) return InvalidArgument("the SDP has no media section");
  return sd;
}

}  // namespace custodian::media::rtsp
