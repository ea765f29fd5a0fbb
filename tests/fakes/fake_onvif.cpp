// fake-onvif: a FAKE ONVIF Profile S camera for tests, since no real camera runs here.
//
//   fake-onvif --main-uri rtsp://127.0.0.1:8554/lobby [--sub-uri URI] [--username U]
//              [--password P] [--make M] [--model M] [--firmware F]
//              [--main-size 1280x720] [--sub-size 640x360]
//              [--http-port N] [--discovery-port N]        (0, the default: any free port)
//              [--multicast-interface 127.0.0.1]
//              [--http-auth digest|digest-md5|digest-sha256|digest-auth-int-userhash|basic]
//              [--tls-cert FILE --tls-key FILE]
//
// It answers, on 127.0.0.1, what a real camera answers to a client adding it:
//   - a WS-Discovery Probe (UDP, sent to --discovery-port) with a ProbeMatch naming its
//     device service, its make (name scope) and model (hardware scope); with
//     --multicast-interface it also joins the group 239.255.255.250 on the interface with
//     that address (127.0.0.1: loopback) and answers probes sent there to port 3702, as a
//     camera on the local network does;
//   - SOAP 1.2 over HTTP at /onvif/device_service (GetSystemDateAndTime, GetCapabilities,
//     GetDeviceInformation) and /onvif/Media (GetProfiles, GetStreamUri), with the stream
//     URIs given on the command line (a custodian-sim stream, so the camera really records).
// As the ONVIF core specification's access classes say, GetSystemDateAndTime and
// GetCapabilities need no credentials and every other call needs a WS-Security
// UsernameToken with a correct PasswordDigest; anything else gets HTTP 400 with a SOAP fault
// whose subcode is ter:NotAuthorized. With no --username every call is open.
// With --http-auth, as many cameras do, every call but GetSystemDateAndTime must also carry
// an HTTP Authorization answering its challenge: Digest (qop auth, SHA-256 and MD5 offered,
// or the one named; with "digest-auth-int-userhash", SHA-256 with only qop auth-int, the body
// hashed in, and userhash=true, as RFC 7616 allows a device to demand) for the same user
// and password, or, with "basic", nothing is accepted (a client must not send a password in
// clear). Anything else gets 401 with the challenges.
// With --tls-cert and --tls-key it serves HTTPS instead of HTTP on its port, and its
// discovery reply names an https:// device service. It reads the two files again for each
// connection, so a test that replaces them (one PEM file may hold both) plays a camera
// whose certificate changed, as after a factory reset or when another device takes its
// address.
//
// Once listening it prints "ready http=PORT discovery=PORT" (with --multicast-interface,
// followed by " multicast=joined" or " multicast=unavailable:REASON") and serves until it
// gets SIGTERM or, when its stdin is a pipe, until that closes. It logs each call on stderr
// ("GetProfiles: ok"), never the password.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/http_digest.h"
#include "onvif/discovery.h"
#include "onvif/soap.h"
#include "onvif/xml.h"

namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace onvif = custodian::onvif;
namespace http_auth = custodian::http_auth;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

std::atomic<bool> g_stop{false};

struct Device {
  std::map<std::string, std::string> opt;
  int http_port = 0;
  std::string endpoint = onvif::RandomUrnUuid();
  std::string digest_nonce = onvif::RandomUrnUuid().substr(9);

  std::string Get(const std::string& key) const {
    auto it = opt.find(key);
    return it == opt.end() ? "" : it->second;
  }
  std::string Base() const {
    return (Get("tls-cert").empty() ? "http://127.0.0.1:" : "https://127.0.0.1:") +
           std::to_string(http_port);
  }
};

const char kNamespaces[] =
    "xmlns:SOAP-ENV=\"http://www.w3.org/2003/05/soap-envelope\" "
    "xmlns:tds=\"http://www.onvif.org/ver10/device/wsdl\" "
    "xmlns:trt=\"http://www.onvif.org/ver10/media/wsdl\" "
    "xmlns:tt=\"http://www.onvif.org/ver10/schema\" "
    "xmlns:ter=\"http://www.onvif.org/ver10/error\"";

std::string Wrap(const std::string& body) {
  return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?><SOAP-ENV:Envelope ") +
         kNamespaces + "><SOAP-ENV:Body>" + body + "</SOAP-ENV:Body></SOAP-ENV:Envelope>";
}

std::string Fault(const std::string& subcode, const std::string& reason) {
  return Wrap(
      "<SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Sender</SOAP-ENV:Value>"
      "<SOAP-ENV:Subcode><SOAP-ENV:Value>" +
      subcode +
      "</SOAP-ENV:Value></SOAP-ENV:Subcode></SOAP-ENV:Code><SOAP-ENV:Reason>"
      "<SOAP-ENV:Text xml:lang=\"en\">" +
      reason + "</SOAP-ENV:Text></SOAP-ENV:Reason></SOAP-ENV:Fault>");
}

// Whether the request's UsernameToken matches the configured user and password.
bool Authorized(const Device& d, const xmlNode* envelope) {
  if (d.Get("username").empty()) return true;
  const xmlNode* token = onvif::Descendant(onvif::Child(envelope, "Header"), "UsernameToken");
  if (!token || onvif::Text(onvif::Child(token, "Username")) != d.Get("username")) return false;
  const xmlNode* password = onvif::Child(token, "Password");
  if (onvif::Attribute(password, "Type").find("#PasswordDigest") == std::string::npos) {
    return false;
  }
  auto nonce = onvif::Base64Decode(onvif::Text(onvif::Child(token, "Nonce")));
  if (!nonce.ok() || nonce->empty()) return false;
  const std::string created = onvif::Text(onvif::Child(token, "Created"));
  return onvif::Text(password) == onvif::PasswordDigest(*nonce, created, d.Get("password"));
}

std::string Profile(const std::string& token, const std::string& size) {
  const size_t x = size.find('x');
  return "<trt:Profiles token=\"" + token + "\" fixed=\"true\"><tt:Name>" + token +
         "</tt:Name><tt:VideoEncoderConfiguration token=\"enc_" + token +
         "\"><tt:Name>enc</tt:Name><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>" +
         size.substr(0, x) + "</tt:Width><tt:Height>" + size.substr(x + 1) +
         "</tt:Height></tt:Resolution><tt:Quality>5</tt:Quality></tt:VideoEncoderConfiguration>"
         "</trt:Profiles>";
}

struct Reply {
  Reply(int s, std::string b, std::vector<std::string> challenges = {})
      : status(s), body(std::move(b)), www_authenticate(std::move(challenges)) {}
  int status;
  std::string body;
  std::vector<std::string> www_authenticate;
};

constexpr char kDigestRealm[] = "FakeVision camera (fake)";

// With --http-auth digest*, whether the request's Authorization answers one of the
// challenges this fake sends, for its user and password. The answer is recomputed here
// from RFC 7616's formulas (only the hash function is shared with the client), so that a
// client computing them wrongly is refused.
bool DigestAuthorized(const Device& d, const std::string& authorization, const std::string& target,
                      const std::string& body) {
  const std::string mode = d.Get("http-auth");
  const bool strict = mode == "digest-auth-int-userhash";
  for (const http_auth::AuthScheme& s : http_auth::ParseAuthHeader(authorization)) {
    if (s.scheme != "digest") continue;
    auto param = [&](const char* name) {
      auto it = s.params.find(name);
      return it == s.params.end() ? std::string() : it->second;
    };
    const std::string algorithm = param("algorithm").empty() ? "MD5" : param("algorithm");
    auto h = [&](const std::string& data) { return http_auth::DigestHash(algorithm, data); };
    const bool offered = (algorithm == "SHA-256" && mode != "digest-md5") ||
                         (algorithm == "MD5" && mode != "digest-sha256" && !strict);
    const std::string user = d.Get("username");
    const std::string sent_user = strict ? h(user + ":" + kDigestRealm) : user;
    const std::string qop = strict ? "auth-int" : "auth";
    if (!offered || param("qop") != qop || param("realm") != kDigestRealm ||
        param("nonce") != d.digest_nonce || param("uri") != target ||
        param("username") != sent_user || (strict && param("userhash") != "true")) {
      return false;
    }
    const std::string ha1 = h(user + ":" + kDigestRealm + ":" + d.Get("password"));
    const std::string ha2 = h("POST:" + target + (strict ? ":" + h(body) : ""));
    return param("response") == h(ha1 + ":" + d.digest_nonce + ":" + param("nc") + ":" +
                                  param("cnonce") + ":" + qop + ":" + ha2);
  }
  return false;
}

// The 401 of --http-auth: the challenges, the preferred (SHA-256) first.
Reply HttpAuthRequired(const Device& d) {
  Reply r(401, "");
  const std::string mode = d.Get("http-auth");
  const std::string common = " realm=\"" + std::string(kDigestRealm) +
                             "\", qop=\"auth\", nonce=\"" + d.digest_nonce +
                             "\", opaque=\"fake-opaque\"";
  if (mode == "basic") r.www_authenticate.push_back("Basic realm=\"FakeVision (fake)\"");
  if (mode == "digest" || mode == "digest-sha256") {
    r.www_authenticate.push_back("Digest algorithm=SHA-256," + common);
  }
  if (mode == "digest" || mode == "digest-md5") {
    r.www_authenticate.push_back("Digest algorithm=MD5," + common);
  }
  if (mode == "digest-auth-int-userhash") {
    r.www_authenticate.push_back("Digest algorithm=SHA-256, realm=\"" + std::string(kDigestRealm) +
                                 "\", qop=\"auth-int\", nonce=\"" + d.digest_nonce +
                                 "\", opaque=\"fake-opaque\", userhash=true");
  }
  return r;
}

// The reply to one call.
Reply Answer(const Device& d, const http::request<http::string_body>& req) {
  const std::string target(req.target());
  auto doc = onvif::Xml::Parse(req.body(), "the request");
  if (!doc.ok()) return {400, Fault("ter:WellFormed", "not well-formed")};
  const xmlNode* envelope = doc->root();
  const xmlNode* body = onvif::Child(envelope, "Body");
  const xmlNode* call = nullptr;
  for (const xmlNode* n = body ? body->children : nullptr; n; n = n->next) {
    if (n->type == XML_ELEMENT_NODE) call = n;
  }
  if (!call) return {400, Fault("ter:InvalidArgVal", "no call")};
  const std::string name = reinterpret_cast<const char*>(call->name);
  if (!d.Get("http-auth").empty() && name != "GetSystemDateAndTime" &&
      !DigestAuthorized(d, std::string(req[http::field::authorization]), target, req.body())) {
    std::cerr << name << ": refused (HTTP " << d.Get("http-auth") << ")" << std::endl;
    return HttpAuthRequired(d);
  }
  const bool open = name == "GetSystemDateAndTime" || name == "GetCapabilities";
  if (!open && !Authorized(d, envelope)) {
    std::cerr << name << ": refused (credentials)" << std::endl;
    return {400, Fault("ter:NotAuthorized", "Sender not Authorized")};
  }
  std::cerr << name << ": ok" << std::endl;
  if (target == "/onvif/device_service" && name == "GetDeviceInformation") {
    return {200, Wrap("<tds:GetDeviceInformationResponse><tds:Manufacturer>" +
                      onvif::Escape(d.Get("make")) + "</tds:Manufacturer><tds:Model>" +
                      onvif::Escape(d.Get("model")) + "</tds:Model><tds:FirmwareVersion>" +
                      onvif::Escape(d.Get("firmware")) +
                      "</tds:FirmwareVersion><tds:SerialNumber>FAKE0001</tds:SerialNumber>"
                      "<tds:HardwareId>fake</tds:HardwareId></tds:GetDeviceInformationResponse>")};
  }
  if (target == "/onvif/device_service" && name == "GetCapabilities") {
    return {200,
            Wrap("<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Device><tt:XAddr>" + d.Base() +
                 "/onvif/device_service</tt:XAddr></tt:Device><tt:Media>"
                 "<tt:XAddr>" +
                 d.Base() +
                 "/onvif/Media</tt:XAddr><tt:StreamingCapabilities>"
                 "<tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities>"
                 "</tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>")};
  }
  if (target == "/onvif/device_service" && name == "GetSystemDateAndTime") {
    return {200, Wrap("<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
                      "<tt:DateTimeType>NTP</tt:DateTimeType></tds:SystemDateAndTime>"
                      "</tds:GetSystemDateAndTimeResponse>")};
  }
  if (target == "/onvif/Media" && name == "GetProfiles") {
    std::string profiles = Profile("mainStream", d.Get("main-size"));
    if (!d.Get("sub-uri").empty()) profiles += Profile("subStream", d.Get("sub-size"));
    return {200, Wrap("<trt:GetProfilesResponse>" + profiles + "</trt:GetProfilesResponse>")};
  }
  if (target == "/onvif/Media" && name == "GetStreamUri") {
    const std::string token = onvif::Text(onvif::Child(call, "ProfileToken"));
    std::string uri = token == "mainStream"                               ? d.Get("main-uri")
                      : token == "subStream" && !d.Get("sub-uri").empty() ? d.Get("sub-uri")
                                                                          : "";
    if (uri.empty()) return {400, Fault("ter:InvalidArgVal", "No such profile")};
    return {200, Wrap("<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>" + onvif::Escape(uri) +
                      "</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
                      "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S"
                      "</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>")};
  }
  return {400, Fault("ter:ActionNotSupported", "Optional Action Not Implemented")};
}

template <typename Stream>
void ServeRequest(const Device& d, Stream& stream) {
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  beast::error_code ec;
  http::read(stream, buffer, req, ec);
  if (ec) return;
  const Reply reply = req.method() == http::verb::post ? Answer(d, req) : Reply(405, "");
  http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
  res.set(http::field::content_type, "application/soap+xml; charset=utf-8");
  res.set(http::field::connection, "close");
  for (const std::string& challenge : reply.www_authenticate) {
    res.insert(http::field::www_authenticate, challenge);
  }
  res.body() = reply.body;
  res.prepare_payload();
  http::write(stream, res, ec);
}

// The TLS context of --tls-cert and --tls-key as the files are now, or nothing with the
// reason in *why.
std::optional<ssl::context> LoadTls(const Device& d, std::string* why) {
  std::optional<ssl::context> tls(std::in_place, ssl::context::tls_server);
  beast::error_code ec;
  tls->use_certificate_chain_file(d.Get("tls-cert"), ec);
  if (!ec) tls->use_private_key_file(d.Get("tls-key"), ssl::context::pem, ec);
  if (!ec) return tls;
  *why = ec.message();
  return std::nullopt;
}

void ServeConnection(const Device& d, tcp::socket socket) {
  // Synchronous reads and writes ignore Beast's expiry; the socket's own timeouts bound them.
  timeval five{5, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &five, sizeof five);
  beast::error_code ec;
  if (d.Get("tls-cert").empty()) {
    beast::tcp_stream stream(std::move(socket));
    ServeRequest(d, stream);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return;
  }
  std::string why;
  std::optional<ssl::context> tls = LoadTls(d, &why);
  if (!tls) {
    std::cerr << "TLS: cannot load --tls-cert and --tls-key (" << why << ")" << std::endl;
    return;
  }
  beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls);
  stream.handshake(ssl::stream_base::server, ec);
  if (ec) {
    std::cerr << "TLS handshake: failed (" << ec.message() << ")" << std::endl;
    return;
  }
  ServeRequest(d, stream);
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
}

// A scope's last segment: spaces percent-encoded, since scopes are separated by spaces.
std::string ScopeText(const std::string& text) {
  std::string out;
  for (char c : text) out += c == ' ' ? std::string("%20") : std::string(1, c);
  return onvif::Escape(out);
}

std::string ProbeMatch(const Device& d, const std::string& relates_to) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><SOAP-ENV:Envelope "
         "xmlns:SOAP-ENV=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:wsa=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "
         "xmlns:wsd=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\" "
         "xmlns:dn=\"http://www.onvif.org/ver10/network/wsdl\"><SOAP-ENV:Header><wsa:MessageID>" +
         onvif::RandomUrnUuid() + "</wsa:MessageID><wsa:RelatesTo>" + onvif::Escape(relates_to) +
         "</wsa:RelatesTo><wsa:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/"
         "anonymous</wsa:To><wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/"
         "ProbeMatches</wsa:Action></SOAP-ENV:Header><SOAP-ENV:Body><wsd:ProbeMatches>"
         "<wsd:ProbeMatch><wsa:EndpointReference><wsa:Address>" +
         d.endpoint +
         "</wsa:Address></wsa:EndpointReference><wsd:Types>dn:NetworkVideoTransmitter</wsd:Types>"
         "<wsd:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/Profile/"
         "Streaming onvif://www.onvif.org/name/" +
         ScopeText(d.Get("make")) + " onvif://www.onvif.org/hardware/" + ScopeText(d.Get("model")) +
         "</wsd:Scopes><wsd:XAddrs>" + d.Base() +
         "/onvif/device_service</wsd:XAddrs>"
         "<wsd:MetadataVersion>1</wsd:MetadataVersion></wsd:ProbeMatch></wsd:ProbeMatches>"
         "</SOAP-ENV:Body></SOAP-ENV:Envelope>";
}

void ServeDiscovery(const Device& d, int fd) {
  std::string buf(onvif::kMaxDatagramBytes, '\0');
  while (!g_stop) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n <= 0) continue;
    auto doc = onvif::Xml::Parse(std::string_view(buf.data(), size_t(n)), "the probe");
    if (!doc.ok()) continue;
    const xmlNode* body = onvif::Child(doc->root(), "Body");
    if (!onvif::Child(body, "Probe")) continue;
    const std::string id =
        onvif::Text(onvif::Child(onvif::Child(doc->root(), "Header"), "MessageID"));
    const std::string reply = ProbeMatch(d, id);
    ::sendto(fd, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    std::cerr << "Probe: answered" << std::endl;
  }
}

int BindUdp(int port, int* bound) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *bound = ntohs(a.sin_port);
  return fd;
}

// A socket on the WS-Discovery port that has joined the group on the interface with the
// address `interface`, or -1 with the reason in *why. SO_REUSEADDR lets several devices on
// one host (fakes in tests that run at once) share the port; each gets every probe.
int JoinDiscoveryGroup(const std::string& interface, std::string* why) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *why = "socket: " + std::string(std::strerror(errno));
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(onvif::kDiscoveryPort);
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  ip_mreq join{};
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    *why = "bind port 3702: " + std::string(std::strerror(errno));
  } else if (::inet_pton(AF_INET, onvif::kDiscoveryGroup, &join.imr_multiaddr) != 1 ||
             ::inet_pton(AF_INET, interface.c_str(), &join.imr_interface) != 1) {
    *why = "bad interface address " + interface;
  } else if (::setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &join, sizeof join) != 0) {
    *why = "join 239.255.255.250 on " + interface + ": " + std::strerror(errno);
  } else if (int all = 0; ::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &all, sizeof all) != 0) {
    // Linux delivers a group's datagrams from every interface any socket joined it on
    // unless told not to; a camera hears the probes of its own network only.
    *why = "IP_MULTICAST_ALL: " + std::string(std::strerror(errno));
  } else {
    return fd;
  }
  ::close(fd);
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  Device d;
  d.opt = {{"make", "FakeVision"},    {"model", "FV-100 (fake)"}, {"firmware", "1.0.0-fake"},
           {"main-size", "1280x720"}, {"sub-size", "640x360"},    {"http-port", "0"},
           {"discovery-port", "0"}};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0) {
      std::cerr << "fake-onvif: expected --option value pairs" << std::endl;
      return 2;
    }
    d.opt[key.substr(2)] = argv[i + 1];
  }
  if (argc % 2 == 0 || d.Get("main-uri").empty()) {
    std::cerr << "usage: fake-onvif --main-uri URI [--sub-uri URI] [--username U --password P]"
              << std::endl;
    return 2;
  }
  if (std::string why; !d.Get("tls-cert").empty() && !LoadTls(d, &why)) {
    std::cerr << "fake-onvif: cannot load --tls-cert and --tls-key: " << why << std::endl;
    return 1;
  }
  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGPIPE, SIG_IGN);
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"),
                              static_cast<uint16_t>(std::stoi(d.Get("http-port")))});
  d.http_port = acceptor.local_endpoint().port();
  int discovery_port = 0;
  int udp = BindUdp(std::stoi(d.Get("discovery-port")), &discovery_port);
  if (udp < 0) {
    std::cerr << "fake-onvif: cannot bind the discovery port" << std::endl;
    return 1;
  }
  std::thread discovery([&] { ServeDiscovery(d, udp); });
  std::string multicast;
  int group = -1;
  const bool group_asked = !d.Get("multicast-interface").empty();
  if (group_asked) {
    std::string why;
    group = JoinDiscoveryGroup(d.Get("multicast-interface"), &why);
    multicast = group >= 0 ? "joined" : "unavailable:" + why;
  }
  std::thread group_discovery([&] {
    if (group >= 0) ServeDiscovery(d, group);
  });
  struct stat in {};
  const bool stdin_is_pipe = ::fstat(0, &in) == 0 && S_ISFIFO(in.st_mode);
  std::thread stdin_watch([stdin_is_pipe] {
    if (!stdin_is_pipe) return;
    // Ends the fake when the test that started it goes away.
    char c;
    while (::read(0, &c, 1) > 0) {
    }
    g_stop = true;
  });
  stdin_watch.detach();
  std::printf("ready http=%d discovery=%d%s\n", d.http_port, discovery_port,
              group_asked ? (" multicast=" + multicast).c_str() : "");
  std::fflush(stdout);
  const int listen_fd = acceptor.native_handle();
  while (!g_stop) {
    pollfd p{listen_fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    beast::error_code ec;
    tcp::socket socket(io);
    acceptor.accept(socket, ec);
    if (!ec) ServeConnection(d, std::move(socket));
  }
  discovery.join();
  group_discovery.join();
  ::close(udp);
  if (group >= 0) ::close(group);
  return 0;
}
