#include "media/rtsp/rtsp_auth.h"

#include <string>

extern "C" {
#include <libavutil/base64.h>
}

namespace custodian::media::rtsp {

namespace {

std::string Base64(std::string_view data) {
  std::string out(AV_BASE64_SIZE(data.size()), '\0');
  av_base64_encode(out.data(), static_cast<int>(out.size()),
                   reinterpret_cast<const uint8_t*>(data.data()), static_cast<int>(data.size()));
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

}  // namespace

bool RtspAuthenticator::OnChallenge(const std::vector<std::string>& www_authenticate) {
  if (!has_credentials()) return false;
  auto digest = http_auth::ChooseDigestChallenge(www_authenticate);
  if (digest.ok()) {
    if (scheme_ != Scheme::kDigest || digest->nonce != digest_.nonce) nonce_count_ = 0;
    scheme_ = Scheme::kDigest;
    digest_ = *digest;
    stale_ = digest->stale;
    return true;
  }
  bool basic = false;
  for (const std::string& value : www_authenticate) {
    for (const http_auth::AuthScheme& s : http_auth::ParseAuthHeader(value)) {
      basic = basic || s.scheme == "basic";
    }
  }
  if (!basic) return false;
  if (!allow_basic_) {
    // Forget any earlier scheme too: nothing is sent until a challenge we may answer.
    scheme_ = Scheme::kNone;
    basic_refused_ = true;
    return false;
  }
  scheme_ = Scheme::kBasic;
  stale_ = false;
  return true;
}

std::string RtspAuthenticator::Authorization(std::string_view method, std::string_view uri,
                                             std::string_view body) {
  switch (scheme_) {
    case Scheme::kNone:
      return {};
    case Scheme::kBasic:
      return "Basic " + Base64(user_ + ":" + password_);
    case Scheme::kDigest:
      break;
  }
  return http_auth::DigestAuthorization(digest_, {method, uri, body}, user_, password_,
                                        ++nonce_count_, fixed_cnonce_);
}

}  // namespace custodian::media::rtsp
