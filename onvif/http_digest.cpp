#include "onvif/http_digest.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cctype>
#include <optional>

#include "base/sha256.h"

namespace custodian::onvif {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

bool IsPrintable(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return s.size() <= kMaxParamBytes;
}

// A quoted-string's content (RFC 7230 section 3.2.6) from s[*pos] == '"'; *pos ends past
// the closing quote (or at the end when it is missing).
std::string Unquote(std::string_view s, size_t* pos) {
  std::string out;
  size_t i = *pos + 1;
  for (; i < s.size() && s[i] != '"'; ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out += s[i];
  }
  *pos = i < s.size() ? i + 1 : i;
  return out;
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) continue;
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string Hash(const std::string& algorithm, std::string_view data) {
  const EVP_MD* md = algorithm.rfind("SHA-256", 0) == 0 ? EVP_sha256() : EVP_md5();
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr);
  return ToHex(out.data(), len);
}

// The spelling of a supported algorithm, "" for one that is not.
std::string KnownAlgorithm(const std::string& given) {
  const std::string lower = Lower(given);
  if (lower.empty() || lower == "md5") return "MD5";
  if (lower == "md5-sess") return "MD5-sess";
  if (lower == "sha-256") return "SHA-256";
  if (lower == "sha-256-sess") return "SHA-256-sess";
  return "";
}

}  // namespace

std::vector<AuthScheme> ParseAuthHeader(std::string_view value) {
  std::vector<AuthScheme> out;
  size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && (IsSpace(value[i]) || value[i] == ',')) ++i;
    const size_t start = i;
    while (i < value.size() && !IsSpace(value[i]) && value[i] != ',' && value[i] != '=') ++i;
    const std::string token(value.substr(start, i - start));
    size_t after = i;
    while (after < value.size() && IsSpace(value[after])) ++after;
    if (after < value.size() && value[after] == '=' && !token.empty()) {
      // name=value: a parameter of the scheme before it.
      i = after + 1;
      while (i < value.size() && IsSpace(value[i])) ++i;
      std::string v;
      if (i < value.size() && value[i] == '"') {
        v = Unquote(value, &i);
      } else {
        const size_t v_start = i;
        while (i < value.size() && !IsSpace(value[i]) && value[i] != ',') ++i;
        v = std::string(value.substr(v_start, i - v_start));
      }
      if (!out.empty()) out.back().params[Lower(token)] = std::move(v);
    } else if (!token.empty()) {
      out.push_back({Lower(token), {}});
      i = after;
    } else {
      ++i;  // a stray '=' (the end of a token68, as Basic's credentials have)
    }
  }
  return out;
}

Result<DigestChallenge> ChooseDigestChallenge(const std::vector<std::string>& www_authenticate) {
  std::string offered;
  std::optional<DigestChallenge> best;
  for (const std::string& value : www_authenticate) {
    for (const AuthScheme& s : ParseAuthHeader(value)) {
      std::string name = s.scheme.substr(0, 16);
      if (s.scheme == "digest" && s.params.count("algorithm")) {
        name += " " + s.params.at("algorithm").substr(0, 16);
      }
      if (offered.size() < 200 && IsPrintable(name)) {
        offered += (offered.empty() ? "" : ", ") + name;
      }
      if (s.scheme != "digest") continue;
      auto param = [&](const char* name) {
        auto it = s.params.find(name);
        return it == s.params.end() ? std::string() : it->second;
      };
      DigestChallenge c;
      c.realm = param("realm");
      c.nonce = param("nonce");
      c.opaque = param("opaque");
      c.algorithm = KnownAlgorithm(param("algorithm"));
      const std::string qop = Lower(param("qop"));
      bool qop_ok = qop.empty();
      for (size_t at = 0; at < qop.size();) {
        size_t comma = qop.find(',', at);
        std::string one = qop.substr(at, comma == qop.npos ? qop.npos : comma - at);
        while (!one.empty() && IsSpace(one.front())) one.erase(0, 1);
        while (!one.empty() && IsSpace(one.back())) one.pop_back();
        if (one == "auth") qop_ok = true;
        at = comma == qop.npos ? qop.size() : comma + 1;
      }
      c.qop_auth = !qop.empty();
      if (c.algorithm.empty() || !qop_ok || c.nonce.empty() || !IsPrintable(c.realm) ||
          !IsPrintable(c.nonce) || !IsPrintable(c.opaque)) {
        continue;
      }
      const bool sha = c.algorithm.rfind("SHA-256", 0) == 0;
      if (!best || (sha && best->algorithm.rfind("SHA-256", 0) != 0)) best = c;
    }
  }
  if (best) return *best;
  return FailedPrecondition(
      "the camera asks for an HTTP authentication Custodian does not do (offered: " +
      (offered.empty() ? std::string("none") : offered) +
      "; supported: Digest with MD5 or SHA-256 and qop auth)");
}

std::string DigestResponse(const DigestChallenge& c, std::string_view method, std::string_view uri,
                           std::string_view username, std::string_view password,
                           std::string_view cnonce, std::string_view nc) {
  const std::string& a = c.algorithm;
  std::string ha1 = Hash(a, std::string(username) + ":" + c.realm + ":" + std::string(password));
  if (a.size() > 5 && a.compare(a.size() - 5, 5, "-sess") == 0) {
    ha1 = Hash(a, ha1 + ":" + c.nonce + ":" + std::string(cnonce));
  }
  const std::string ha2 = Hash(a, std::string(method) + ":" + std::string(uri));
  if (!c.qop_auth) return Hash(a, ha1 + ":" + c.nonce + ":" + ha2);
  return Hash(
      a, ha1 + ":" + c.nonce + ":" + std::string(nc) + ":" + std::string(cnonce) + ":auth:" + ha2);
}

std::string DigestAuthorization(const DigestChallenge& c, std::string_view method,
                                std::string_view uri, std::string_view username,
                                std::string_view password) {
  std::array<unsigned char, 16> random{};
  RAND_bytes(random.data(), static_cast<int>(random.size()));
  const std::string cnonce = ToHex(random.data(), random.size());
  const std::string nc = "00000001";
  std::string out = "Digest username=" + Quote(username) + ", realm=" + Quote(c.realm) +
                    ", nonce=" + Quote(c.nonce) + ", uri=" + Quote(uri) +
                    ", algorithm=" + c.algorithm;
  if (c.qop_auth) out += ", qop=auth, nc=" + nc + ", cnonce=" + Quote(cnonce);
  out += ", response=" + Quote(DigestResponse(c, method, uri, username, password, cnonce, nc));
  if (!c.opaque.empty()) out += ", opaque=" + Quote(c.opaque);
  return out;
}

}  // namespace custodian::onvif
