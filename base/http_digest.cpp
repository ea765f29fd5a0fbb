#include "base/http_digest.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <optional>

#include "base/sha256.h"

namespace custodian::http_auth {

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

const EVP_MD* HashOf(std::string_view algorithm) {
  if (algorithm.rfind("SHA-512-256", 0) == 0) return EVP_sha512_256();
  if (algorithm.rfind("SHA-256", 0) == 0) return EVP_sha256();
  return EVP_md5();
}

// The spelling of a supported algorithm, "" for one that is not.
std::string KnownAlgorithm(const std::string& given) {
  const std::string lower = Lower(given);
  if (lower.empty() || lower == "md5") return "MD5";
  if (lower == "md5-sess") return "MD5-sess";
  if (lower == "sha-256") return "SHA-256";
  if (lower == "sha-256-sess") return "SHA-256-sess";
  if (lower == "sha-512-256") return "SHA-512-256";
  if (lower == "sha-512-256-sess") return "SHA-512-256-sess";
  return "";
}

// Higher is stronger: SHA-512-256, SHA-256, MD5.
int Strength(const std::string& algorithm) {
  if (algorithm.rfind("SHA-512-256", 0) == 0) return 3;
  if (algorithm.rfind("SHA-256", 0) == 0) return 2;
  return 1;
}

// The qop to answer from a challenge's list ("auth,auth-int"); false when it names none
// this code does.
bool ChooseQop(const std::string& list, Qop* qop) {
  if (list.empty()) {
    *qop = Qop::kNone;
    return true;
  }
  bool auth = false, auth_int = false;
  for (size_t at = 0; at < list.size();) {
    size_t comma = list.find(',', at);
    std::string one = Lower(list.substr(at, comma == list.npos ? list.npos : comma - at));
    while (!one.empty() && IsSpace(one.front())) one.erase(0, 1);
    while (!one.empty() && IsSpace(one.back())) one.pop_back();
    auth = auth || one == "auth";
    auth_int = auth_int || one == "auth-int";
    at = comma == list.npos ? list.size() : comma + 1;
  }
  if (!auth && !auth_int) return false;
  *qop = auth ? Qop::kAuth : Qop::kAuthInt;
  return true;
}

// A challenge's parameters read into *c; false when it cannot be answered.
bool ReadChallenge(const AuthScheme& s, DigestChallenge* c) {
  auto param = [&](const char* name) {
    auto it = s.params.find(name);
    return it == s.params.end() ? std::string() : it->second;
  };
  c->realm = param("realm");
  c->nonce = param("nonce");
  c->opaque = param("opaque");
  c->algorithm = KnownAlgorithm(param("algorithm"));
  c->userhash = Lower(param("userhash")) == "true";
  c->stale = Lower(param("stale")) == "true";
  return ChooseQop(param("qop"), &c->qop) && !c->algorithm.empty() && !c->nonce.empty() &&
         IsPrintable(c->realm) && IsPrintable(c->nonce) && IsPrintable(c->opaque);
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
      DigestChallenge c;
      if (s.scheme != "digest" || !ReadChallenge(s, &c)) continue;
      if (!best || Strength(c.algorithm) > Strength(best->algorithm)) best = c;
    }
  }
  if (best) return *best;
  return FailedPrecondition(
      "the camera asks for an HTTP authentication Custodian does not do (offered: " +
      (offered.empty() ? std::string("none") : offered) +
      "; supported: Digest with MD5, SHA-256 or SHA-512-256, qop auth or auth-int)");
}

std::string DigestHash(std::string_view algorithm, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, HashOf(algorithm), nullptr);
  return ToHex(out.data(), len);
}

std::string DigestResponse(const DigestChallenge& c, const DigestRequest& request,
                           std::string_view username, std::string_view password,
                           std::string_view cnonce, std::string_view nc) {
  auto h = [&c](const std::string& data) { return DigestHash(c.algorithm, data); };
  const std::string& a = c.algorithm;
  std::string ha1 = h(std::string(username) + ":" + c.realm + ":" + std::string(password));
  if (a.size() > 5 && a.compare(a.size() - 5, 5, "-sess") == 0) {
    ha1 = h(ha1 + ":" + c.nonce + ":" + std::string(cnonce));
  }
  std::string a2 = std::string(request.method) + ":" + std::string(request.uri);
  if (c.qop == Qop::kAuthInt) a2 += ":" + DigestHash(a, request.body);
  const std::string ha2 = h(a2);
  if (c.qop == Qop::kNone) return h(ha1 + ":" + c.nonce + ":" + ha2);
  const char* qop = c.qop == Qop::kAuthInt ? ":auth-int:" : ":auth:";
  return h(ha1 + ":" + c.nonce + ":" + std::string(nc) + ":" + std::string(cnonce) + qop + ha2);
}

std::string DigestUsername(const DigestChallenge& c, std::string_view username) {
  if (!c.userhash) return std::string(username);
  return DigestHash(c.algorithm, std::string(username) + ":" + c.realm);
}

std::string DigestAuthorization(const DigestChallenge& c, const DigestRequest& request,
                                std::string_view username, std::string_view password,
                                uint32_t nonce_count, std::string cnonce) {
  if (cnonce.empty()) {
    std::array<unsigned char, 16> random{};
    RAND_bytes(random.data(), static_cast<int>(random.size()));
    cnonce = ToHex(random.data(), random.size());
  }
  char nc[9];
  std::snprintf(nc, sizeof nc, "%08x", nonce_count);
  std::string out = "Digest username=" + Quote(DigestUsername(c, username)) +
                    ", realm=" + Quote(c.realm) + ", nonce=" + Quote(c.nonce) +
                    ", uri=" + Quote(request.uri) + ", algorithm=" + c.algorithm;
  if (c.qop != Qop::kNone) {
    out += std::string(", qop=") + (c.qop == Qop::kAuthInt ? "auth-int" : "auth") + ", nc=" + nc +
           ", cnonce=" + Quote(cnonce);
  }
  out += ", response=" + Quote(DigestResponse(c, request, username, password, cnonce, nc));
  if (!c.opaque.empty()) out += ", opaque=" + Quote(c.opaque);
  if (c.userhash) out += ", userhash=true";
  return out;
}

}  // namespace custodian::http_auth
