// fake-onvif: a FAKE ONVIF Profile S camera for tests, since no real camera runs here.
//
//   fake-onvif --main-uri rtsp://127.0.0.1:8554/lobby [--sub-uri URI] [--username U]
//              [--password P] [--make M] [--model M] [--firmware F]
//              [--main-size 1280x720] [--sub-size 640x360]
//              [--http-port N] [--discovery-port N]        (0, the default: any free port)
//
// It answers, on 127.0.0.1, what a real camera answers to a client adding it:
//   - a WS-Discovery Probe (UDP, sent to --discovery-port) with a ProbeMatch naming its
//     device service, its make (name scope) and model (hardware scope);
//   - SOAP 1.2 over HTTP at /onvif/device_service (GetSystemDateAndTime, GetCapabilities,
//     GetDeviceInformation) and /onvif/Media (GetProfiles, GetStreamUri), with the stream
//     URIs given on the command line (a custodian-sim stream, so the camera really records).
// As the ONVIF core specification's access classes say, GetSystemDateAndTime and
// GetCapabilities need no credentials and every other call needs a WS-Security
// UsernameToken with a correct PasswordDigest; anything else gets HTTP 400 with a SOAP fault
// whose subcode is ter:NotAuthorized. With no --username every call is open.
//
// Once listening it prints "ready http=PORT discovery=PORT" and serves until it gets
// SIGTERM or, when its stdin is a pipe, until that closes. It logs each call on stderr
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
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include "onvif/discovery.h"
#include "onvif/soap.h"
#include "onvif/xml.h"

namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace onvif = custodian::onvif;
using tcp = boost::asio::ip::tcp;

std::atomic<bool> g_stop{false};

struct Device {
  std::map<std::string, std::string> opt;
  int http_port = 0;
  std::string endpoint = onvif::RandomUrnUuid();

  std::string Get(const std::string& key) const {
    auto it = opt.find(key);
    return it == opt.end() ? "" : it->second;
  }
  std::string Base() const { return "http://127.0.0.1:" + std::to_string(http_port); }
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

// The reply to one call: HTTP status and body.
std::pair<int, std::string> Answer(const Device& d, const std::string& target,
                                   const std::string& request) {
  auto doc = onvif::Xml::Parse(request, "the request");
  if (!doc.ok()) return {400, Fault("ter:WellFormed", "not well-formed")};
  const xmlNode* envelope = doc->root();
  const xmlNode* body = onvif::Child(envelope, "Body");
  const xmlNode* call = nullptr;
  for (const xmlNode* n = body ? body->children : nullptr; n; n = n->next) {
    if (n->type == XML_ELEMENT_NODE) call = n;
  }
  if (!call) return {400, Fault("ter:InvalidArgVal", "no call")};
  const std::string name = reinterpret_cast<const char*>(call->name);
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

void ServeConnection(const Device& d, tcp::socket socket) {
  // Synchronous reads and writes ignore Beast's expiry; the socket's own timeouts bound them.
  timeval five{5, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &five, sizeof five);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  beast::error_code ec;
  http::read(stream, buffer, req, ec);
  if (ec) return;
  auto [status, body] = req.method() == http::verb::post
                            ? Answer(d, std::string(req.target()), req.body())
                            : std::pair<int, std::string>{405, ""};
  http::response<http::string_body> res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, "application/soap+xml; charset=utf-8");
  res.set(http::field::connection, "close");
  res.body() = body;
  res.prepare_payload();
  http::write(stream, res, ec);
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
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
  std::printf("ready http=%d discovery=%d\n", d.http_port, discovery_port);
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
  ::close(udp);
  return 0;
}
