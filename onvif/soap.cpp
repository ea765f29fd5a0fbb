#include "onvif/soap.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <ctime>

namespace custodian::onvif {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string Sha1(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha1(), nullptr);
  return std::string(reinterpret_cast<const char*>(md.data()), len);
}

// The SOAP fault's reason, made printable, and whether its subcodes name NotAuthorized.
Status FaultStatus(const xmlNode* fault) {
  const xmlNode* code = Child(fault, "Code");
  bool not_authorized = false;
  for (const xmlNode* sub = Child(code, "Subcode"); sub; sub = Child(sub, "Subcode")) {
    if (Text(Child(sub, "Value")).find("NotAuthorized") != std::string::npos) {
      not_authorized = true;
    }
  }
  // SOAP 1.1 devices put it in faultcode.
  if (Text(Child(fault, "faultcode")).find("NotAuthorized") != std::string::npos) {
    not_authorized = true;
  }
  if (not_authorized) return Unauthenticated(kRefusedCredentials);
  std::string reason = Text(Child(Child(fault, "Reason"), "Text"));
  if (reason.empty()) reason = Text(Child(fault, "faultstring"));
  if (reason.empty()) reason = "no reason given";
  return FailedPrecondition("the camera answered with a fault: " + Printable(reason));
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i + 1 == bytes.size()) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return InvalidArgument("base64 text of a length not a multiple of 4");
  std::string out;
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int pad = 0;
    uint32_t v = 0;
    for (size_t j = 0; j < 4; ++j) {
      char c = text[i + j];
      int d = Base64Value(c);
      if (c == '=' && last && j >= 2 && (j == 3 || text[i + 3] == '=')) {
        ++pad;
        d = 0;
      } else if (d < 0 || pad > 0) {
        return InvalidArgument("not base64");
      }
      v = (v << 6) | uint32_t(d);
    }
    out += char((v >> 16) & 0xff);
    if (pad < 2) out += char((v >> 8) & 0xff);
    if (pad < 1) out += char(v & 0xff);
  }
  return out;
}

std::string PasswordDigest(std::string_view nonce, std::string_view created,
                           std::string_view password) {
  std::string joined;
  joined.append(nonce).append(created).append(password);
  return Base64Encode(Sha1(joined));
}

std::string NowXsdDateTime() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Envelope(std::string_view body_xml, const Credentials& credentials,
                     const std::string& created) {
  std::string header;
  if (!credentials.username.empty()) {
    std::array<unsigned char, 16> nonce{};
    RAND_bytes(nonce.data(), static_cast<int>(nonce.size()));
    const std::string nonce_bytes(reinterpret_cast<const char*>(nonce.data()), nonce.size());
    header =
        "<s:Header><wsse:Security s:mustUnderstand=\"1\" "
        "xmlns:wsse=\"http://docs.oasis-open.org/wss/2004/01/"
        "oasis-200401-wss-wssecurity-secext-1.0.xsd\" "
        "xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/"
        "oasis-200401-wss-wssecurity-utility-1.0.xsd\"><wsse:UsernameToken><wsse:Username>" +
        Escape(credentials.username) +
        "</wsse:Username><wsse:Password Type=\"http://docs.oasis-open.org/wss/2004/01/"
        "oasis-200401-wss-username-token-profile-1.0#PasswordDigest\">" +
        PasswordDigest(nonce_bytes, created, credentials.password) +
        "</wsse:Password><wsse:Nonce EncodingType=\"http://docs.oasis-open.org/wss/2004/01/"
        "oasis-200401-wss-soap-message-security-1.0#Base64Binary\">" +
        Base64Encode(nonce_bytes) + "</wsse:Nonce><wsu:Created>" + Escape(created) +
        "</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header>";
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
         "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:tds=\"http://www.onvif.org/ver10/device/wsdl\" "
         "xmlns:trt=\"http://www.onvif.org/ver10/media/wsdl\" "
         "xmlns:tt=\"http://www.onvif.org/ver10/schema\">" +
         header + "<s:Body>" + std::string(body_xml) + "</s:Body></s:Envelope>";
}

Result<const xmlNode*> ReplyBody(std::string_view reply, int http_status, Xml* doc) {
  if (http_status == 401 || http_status == 403) return Unauthenticated(kRefusedCredentials);
  auto parsed = Xml::Parse(reply, "the camera's reply");
  if (!parsed.ok()) {
    if (http_status != 200) {
      return FailedPrecondition("the camera answered HTTP " + std::to_string(http_status) +
                                " without a SOAP reply");
    }
    return parsed.status();
  }
  *doc = std::move(parsed).value();
  const xmlNode* envelope = doc->root();
  if (!IsNamed(envelope, "Envelope")) {
    return InvalidArgument("the camera's reply is not a SOAP envelope");
  }
  const xmlNode* body = Child(envelope, "Body");
  if (!body) return InvalidArgument("the camera's reply has no SOAP body");
  const xmlNode* first = Child(body, "Fault");
  if (first) return FaultStatus(first);
  for (const xmlNode* n = body->children; n; n = n->next) {
    if (n->type == XML_ELEMENT_NODE) return n;
  }
  return InvalidArgument("the camera's reply has an empty SOAP body");
}

}  // namespace custodian::onvif
