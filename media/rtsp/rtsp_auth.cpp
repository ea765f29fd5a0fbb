#include "media/rtsp/rtsp_auth.h"

#include <openssl/evp.h>

#include <cstdio>
#include <random>

#include "base/sha256.h"
#include "media/rtsp/rtsp_message.h"

extern "C" {
#include <libavutil/base64.h>
}

namespace custodian::media::rtsp {

namespace {

std::string DigestWith(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return ToHex(out, len);
}

std::string Base64(std::string_view data) {
  std::string out(AV_BASE64_SIZE(data.size()), '\0');
  av_base64_encode(out.data(), static_cast<int>(out.size()),
                   reinterpret_cast<const uint8_t*>(data.data()), static_cast<int>(data.size()));
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

std::string RandomHex(int bytes) {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < bytes; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", static_cast<unsigned>(rd() & 0xff));
    out += b;
  }
  return out;
}

// Splits "Digest realm=..." into the scheme and its parameters.
std::pair<std::string_view, std::string_view> SplitScheme(std::string_view challenge) {
  challenge = Trim(challenge);
  size_t sp = challenge.find(' ');
  if (sp == std::string_view::npos) return {challenge, {}};
  return {challenge.substr(0, sp), Trim(challenge.substr(sp + 1))};
}

}  // namespace

std::string Md5Hex(std::string_view data) { return DigestWith(EVP_md5(), data); }
std::string Sha256HexOf(std::string_view data) { return DigestWith(EVP_sha256(), data); }

std::vector<std::pair<std::string, std::string>> ParseAuthParams(std::string_view s) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == ',' || s[i] == '\t')) ++i;
    size_t eq = s.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string key(Trim(s.substr(i, eq - i)));
    i = eq + 1;
    while (i < s.size() && s[i] == ' ') ++i;
    std::string value;
    if (i < s.size() && s[i] == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        value += s[i];
      }
      ++i;  // closing quote
    } else {
      size_t end = s.find(',', i);
      if (end == std::string_view::npos) end = s.size();
      value = std::string(Trim(s.substr(i, end - i)));
      i = end;
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

bool RtspAuthenticator::OnChallenge(const std::vector<std::string>& www_authenticate) {
  if (!has_credentials()) return false;
  bool basic = false;
  for (const std::string& challenge : www_authenticate) {
    auto [scheme, params] = SplitScheme(challenge);
    if (EqualsIgnoreCase(scheme, "Digest") && AdoptDigest(params)) return true;
    if (EqualsIgnoreCase(scheme, "Basic")) basic = true;
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

bool RtspAuthenticator::AdoptDigest(std::string_view params) {
  std::string realm, nonce, opaque, algorithm = "MD5", qop;
  bool stale = false;
  for (const auto& [k, v] : ParseAuthParams(params)) {
    if (EqualsIgnoreCase(k, "realm"))
      realm = v;
    else if (EqualsIgnoreCase(k, "nonce"))
      nonce = v;
    else if (EqualsIgnoreCase(k, "opaque"))
      opaque = v;
    else if (EqualsIgnoreCase(k, "algorithm"))
      algorithm = v;
    else if (EqualsIgnoreCase(k, "qop"))
      qop = v;
    else if (EqualsIgnoreCase(k, "stale"))
      stale = EqualsIgnoreCase(v, "true");
  }
  bool sha256 = false, sess = false;
  if (EqualsIgnoreCase(algorithm, "MD5-sess")) {
    sess = true;
  } else if (EqualsIgnoreCase(algorithm, "SHA-256")) {
    sha256 = true;
  } else if (EqualsIgnoreCase(algorithm, "SHA-256-sess")) {
    sha256 = sess = true;
  } else if (!EqualsIgnoreCase(algorithm, "MD5")) {
    return false;
  }
  // qop is a list ("auth,auth-int"); only auth is answered, and without qop the RFC 2069
  // form is used.
  bool qop_auth = false;
  std::string_view q = qop;
  while (!q.empty()) {
    size_t comma = q.find(',');
    if (EqualsIgnoreCase(Trim(q.substr(0, comma)), "auth")) qop_auth = true;
    q = comma == std::string_view::npos ? std::string_view() : q.substr(comma + 1);
  }
  if (!qop.empty() && !qop_auth) return false;
  if (nonce.empty()) return false;
  scheme_ = Scheme::kDigest;
  realm_ = realm;
  if (nonce != nonce_) nonce_count_ = 0;
  nonce_ = nonce;
  opaque_ = opaque;
  algorithm_ = algorithm;
  sha256_ = sha256;
  sess_ = sess;
  qop_auth_ = qop_auth;
  stale_ = stale;
  return true;
}

std::string RtspAuthenticator::DigestHex(std::string_view data) const {
  return sha256_ ? Sha256HexOf(data) : Md5Hex(data);
}

std::string RtspAuthenticator::Authorization(std::string_view method, std::string_view uri) {
  switch (scheme_) {
    case Scheme::kNone:
      return {};
    case Scheme::kBasic:
      return "Basic " + Base64(user_ + ":" + password_);
    case Scheme::kDigest:
      break;
  }
  const std::string cnonce = fixed_cnonce_.empty() ? RandomHex(8) : fixed_cnonce_;
  std::string ha1 = DigestHex(user_ + ":" + realm_ + ":" + password_);
  if (sess_) ha1 = DigestHex(ha1 + ":" + nonce_ + ":" + cnonce);
  const std::string ha2 = DigestHex(std::string(method) + ":" + std::string(uri));
  std::string header = "Digest username=\"" + user_ + "\", realm=\"" + realm_ + "\", nonce=\"" +
                       nonce_ + "\", uri=\"" + std::string(uri) + "\"";
  if (qop_auth_) {
    char nc[9];
    std::snprintf(nc, sizeof nc, "%08x", ++nonce_count_);
    std::string response = DigestHex(ha1 + ":" + nonce_ + ":" + nc + ":" + cnonce + ":auth:" + ha2);
    header += ", response=\"" + response + "\", qop=auth, nc=" + nc + ", cnonce=\"" + cnonce + "\"";
  } else {
    header += ", response=\"" + DigestHex(ha1 + ":" + nonce_ + ":" + ha2) + "\"";
  }
  header += ", algorithm=" + algorithm_;
  if (!opaque_.empty()) header += ", opaque=\"" + opaque_ + "\"";
  return header;
}

}  // namespace custodian::media::rtsp
