#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "onvif/device.h"
#include "onvif/discovery.h"
#include "onvif/http_post.h"
#include "onvif/soap.h"

namespace custodian::onvif {
namespace {

std::string Reply(const std::string& body) {
  return "<?xml version=\"1.0\"?><SOAP-ENV:Envelope "
         "xmlns:SOAP-ENV=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:tds=\"http://www.onvif.org/ver10/device/wsdl\" "
         "xmlns:trt=\"http://www.onvif.org/ver10/media/wsdl\" "
         "xmlns:tt=\"http://www.onvif.org/ver10/schema\"><SOAP-ENV:Body>" +
         body + "</SOAP-ENV:Body></SOAP-ENV:Envelope>";
}

std::string Profile(const std::string& token, int w, int h) {
  return "<trt:Profiles token=\"" + token + "\" fixed=\"true\"><tt:Name>" + token +
         "</tt:Name><tt:VideoEncoderConfiguration token=\"v\"><tt:Encoding>H264</tt:Encoding>"
         "<tt:Resolution><tt:Width>" +
         std::to_string(w) + "</tt:Width><tt:Height>" + std::to_string(h) +
         "</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration>"
         "</trt:Profiles>";
}

const char kNotAuthorized[] =
    "<SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Sender</SOAP-ENV:Value>"
    "<SOAP-ENV:Subcode><SOAP-ENV:Value xmlns:ter=\"http://www.onvif.org/ver10/error\">"
    "ter:NotAuthorized</SOAP-ENV:Value></SOAP-ENV:Subcode></SOAP-ENV:Code><SOAP-ENV:Reason>"
    "<SOAP-ENV:Text xml:lang=\"en\">Sender not Authorized</SOAP-ENV:Text></SOAP-ENV:Reason>"
    "</SOAP-ENV:Fault>";

TEST_CASE("the password digest is base64 of SHA-1 over nonce, created and password") {
  // Computed independently: base64(sha1(b"0123456789abcdef2026-12-07T09:15:00Zsecret")).
  CHECK(PasswordDigest("0123456789abcdef", "2026-12-07T09:15:00Z", "secret") ==
        "4hebC06qI1rrL9lgPVekLTg+y4M=");
}

TEST_CASE("base64 round-trips every length and refuses what is not base64") {
  std::string bytes;
  for (int i = 0; i < 20; ++i) {
    auto back = Base64Decode(Base64Encode(bytes));
    REQUIRE(back.ok());
    CHECK(*back == bytes);
    bytes += char(i * 37);
  }
  CHECK(Base64Encode("ab") == "YWI=");
  CHECK_FALSE(Base64Decode("YW=I").ok());
  CHECK_FALSE(Base64Decode("YWI").ok());
  CHECK_FALSE(Base64Decode("Y*I=").ok());
}

TEST_CASE("an envelope with credentials carries a digest, a nonce and never the password") {
  const std::string e =
      Envelope("<tds:GetDeviceInformation/>", {"admin", "hunter2"}, "2026-12-07T09:15:00Z");
  CHECK(e.find("hunter2") == std::string::npos);
  CHECK(e.find("#PasswordDigest") != std::string::npos);
  auto doc = Xml::Parse(e, "the envelope");
  REQUIRE(doc.ok());
  const xmlNode* token = Descendant(doc->root(), "UsernameToken");
  REQUIRE(token);
  CHECK(Text(Child(token, "Username")) == "admin");
  auto nonce = Base64Decode(Text(Child(token, "Nonce")));
  REQUIRE(nonce.ok());
  CHECK(nonce->size() == 16);
  CHECK(Text(Child(token, "Password")) ==
        PasswordDigest(*nonce, Text(Child(token, "Created")), "hunter2"));
  CHECK(Envelope("<x/>", {}, "t").find("Security") == std::string::npos);
}

TEST_CASE("device information gives make, model and firmware") {
  auto info = ParseDeviceInformation(
      Reply("<tds:GetDeviceInformationResponse><tds:Manufacturer>Acme</tds:Manufacturer>"
            "<tds:Model>Dome 9</tds:Model><tds:FirmwareVersion>V5.7.3 build 2021"
            "</tds:FirmwareVersion><tds:SerialNumber>S1</tds:SerialNumber><tds:HardwareId>h"
            "</tds:HardwareId></tds:GetDeviceInformationResponse>"),
      200);
  REQUIRE(info.ok());
  CHECK(info->make == "Acme");
  CHECK(info->model == "Dome 9");
  CHECK(info->firmware == "V5.7.3 build 2021");
  CHECK(info->serial == "S1");
}

TEST_CASE("a NotAuthorized fault or HTTP 401 is the refused-credentials error") {
  auto fault = ParseProfiles(Reply(kNotAuthorized), 400);
  REQUIRE_FALSE(fault.ok());
  CHECK(fault.status().kind() == ErrorKind::kUnauthenticated);
  CHECK(fault.status().message() == "the camera refused the user name or password");
  auto http = ParseDeviceInformation("Unauthorized", 401);
  REQUIRE_FALSE(http.ok());
  CHECK(http.status().message() == kRefusedCredentials);
}

TEST_CASE("another fault quotes its reason, printable and cut short") {
  auto r = ParseStreamUri(
      Reply("<s:Fault xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Code><s:Value>"
            "s:Receiver</s:Value></s:Code><s:Reason><s:Text>No such\xc3\xa9 profile " +
            std::string(500, 'x') + "</s:Text></s:Reason></s:Fault>"),
      500);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().kind() == ErrorKind::kFailedPrecondition);
  CHECK(r.status().message().find("No such?? profile") != std::string::npos);
  CHECK(r.status().message().size() < 300);
}

TEST_CASE("profiles are read and the biggest is the main stream, the smallest the sub") {
  auto profiles = ParseProfiles(
      Reply("<trt:GetProfilesResponse>" + Profile("sub", 640, 360) + Profile("main", 1920, 1080) +
            Profile("mid", 1280, 720) + "</trt:GetProfilesResponse>"),
      200);
  REQUIRE(profiles.ok());
  REQUIRE(profiles->size() == 3);
  CHECK((*profiles)[0].encoding == "H264");
  auto choice = ChooseStreams(*profiles);
  REQUIRE(choice.ok());
  CHECK((*profiles)[size_t(choice->main)].token == "main");
  CHECK((*profiles)[size_t(choice->sub)].token == "sub");

  auto one = ChooseStreams({{"only", "only", "H264", 1280, 720}});
  REQUIRE(one.ok());
  CHECK(one->sub == -1);
  CHECK_FALSE(ChooseStreams({{"audio", "audio", "", 0, 0}}).ok());
  CHECK_FALSE(ChooseStreams({}).ok());
}

TEST_CASE("a stream URI loses its user info and must be rtsp") {
  auto uri = [](const std::string& u) {
    return ParseStreamUri(Reply("<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>" + u +
                                "</tt:Uri></trt:MediaUri></trt:GetStreamUriResponse>"),
                          200);
  };
  auto plain = uri("rtsp://192.0.2.7:554/Streaming/Channels/101");
  REQUIRE(plain.ok());
  CHECK(*plain == "rtsp://192.0.2.7:554/Streaming/Channels/101");
  auto with_user = uri("rtsp://admin:pw@192.0.2.7/s?a=1&amp;b=2");
  REQUIRE(with_user.ok());
  CHECK(*with_user == "rtsp://192.0.2.7/s?a=1&b=2");
  CHECK_FALSE(uri("http://192.0.2.7/stream").ok());
  CHECK_FALSE(uri("").ok());
}

TEST_CASE("the media service address comes from the capabilities") {
  auto x = ParseMediaXAddr(Reply("<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media>"
                                 "<tt:XAddr>http://192.0.2.7/onvif/Media</tt:XAddr></tt:Media>"
                                 "</tds:Capabilities></tds:GetCapabilitiesResponse>"),
                           200);
  REQUIRE(x.ok());
  CHECK(*x == "http://192.0.2.7/onvif/Media");
  CHECK_FALSE(ParseMediaXAddr(Reply("<tds:GetCapabilitiesResponse/>"), 200).ok());
}

TEST_CASE("malformed and hostile replies are clear errors") {
  const std::string dtd =
      "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 "
      "\"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
      "<Envelope><Body><GetDeviceInformationResponse><Manufacturer>&lol2;</Manufacturer>"
      "</GetDeviceInformationResponse></Body></Envelope>";
  const std::string external =
      "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
      "<Envelope><Body><x>&e;</x></Body></Envelope>";
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<a>";
  const std::pair<std::string, std::string> cases[] = {
      {"", "not well-formed"},
      {"<Envelope><Body>", "not well-formed"},
      {"\xff\xfe<\x00", "not well-formed"},
      {dtd, "document type"},
      {external, "document type"},
      {deep, "not well-formed"},
      {std::string(kMaxXmlBytes + 1, ' '), "larger than"},
      {"<html><body>hello</body></html>", "not a SOAP envelope"},
      {"<s:Envelope xmlns:s=\"x\"/>", "no SOAP body"},
      {Reply(""), "empty SOAP body"},
      {Reply("<tds:SomethingElse/>"), "GetDeviceInformationResponse"},
  };
  for (const auto& [text, expect] : cases) {
    auto r = ParseDeviceInformation(text, 200);
    REQUIRE_FALSE(r.ok());
    INFO(r.status().message());
    CHECK(r.status().message().find(expect) != std::string::npos);
  }
  auto html = ParseDeviceInformation("<html>oops", 500);
  REQUIRE_FALSE(html.ok());
  CHECK(html.status().message().find("HTTP 500") != std::string::npos);
}

TEST_CASE("probe matches are read when they answer this probe") {
  const std::string id = RandomUrnUuid();
  CHECK(id.rfind("urn:uuid:", 0) == 0);
  CHECK(ProbeMessage(id).find(id) != std::string::npos);
  auto reply = [&](const std::string& relates, const std::string& matches) {
    return "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\""
           " xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\""
           " xmlns:d=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\"><s:Header><a:RelatesTo>" +
           relates + "</a:RelatesTo></s:Header><s:Body><d:ProbeMatches>" + matches +
           "</d:ProbeMatches></s:Body></s:Envelope>";
  };
  const std::string match =
      "<d:ProbeMatch><a:EndpointReference><a:Address>urn:uuid:cam-1</a:Address>"
      "</a:EndpointReference><d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>"
      "onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/name/Acme%20Corp "
      "onvif://www.onvif.org/hardware/Dome9</d:Scopes><d:XAddrs>http://192.0.2.7/onvif/"
      "device_service https://192.0.2.7/onvif/device_service</d:XAddrs></d:ProbeMatch>";
  auto devices = ParseProbeMatches(reply(id, match + match), id);
  REQUIRE(devices.ok());
  REQUIRE(devices->size() == 1);
  CHECK((*devices)[0].endpoint == "urn:uuid:cam-1");
  CHECK((*devices)[0].name == "Acme Corp");
  CHECK((*devices)[0].hardware == "Dome9");
  REQUIRE((*devices)[0].xaddrs.size() == 2);
  CHECK((*devices)[0].xaddrs[0] == "http://192.0.2.7/onvif/device_service");
  CHECK((*devices)[0].xaddrs[1] == "https://192.0.2.7/onvif/device_service");

  CHECK_FALSE(ParseProbeMatches(reply("urn:uuid:other", match), id).ok());
  CHECK_FALSE(ParseProbeMatches("garbage", id).ok());
  auto no_xaddrs = ParseProbeMatches(reply(id, "<d:ProbeMatch/>"), id);
  REQUIRE(no_xaddrs.ok());
  CHECK(no_xaddrs->empty());
}

// A getifaddrs(3) list of these entries, linked in order.
struct FakeInterfaces {
  struct Entry {
    const char* name;
    unsigned flags;
    int family;
    const char* address;
  };
  explicit FakeInterfaces(const std::vector<Entry>& entries)
      : addrs(entries.size()), list(entries.size()) {
    for (size_t i = 0; i < entries.size(); ++i) {
      addrs[i].sin_family = static_cast<sa_family_t>(entries[i].family);
      ::inet_pton(AF_INET, entries[i].address, &addrs[i].sin_addr);
      list[i].ifa_name = const_cast<char*>(entries[i].name);
      list[i].ifa_flags = entries[i].flags;
      list[i].ifa_addr = reinterpret_cast<sockaddr*>(&addrs[i]);
      list[i].ifa_next = i + 1 < entries.size() ? &list[i + 1] : nullptr;
    }
  }
  const ifaddrs* head() const { return list.data(); }
  std::vector<sockaddr_in> addrs;
  std::vector<ifaddrs> list;
};

TEST_CASE("the probe of the local network goes out of every up multicast IPv4 interface") {
  constexpr unsigned kUp = IFF_UP | IFF_RUNNING;
  const FakeInterfaces system({
      {"lo", kUp | IFF_LOOPBACK, AF_INET, "127.0.0.1"},
      {"eth0", kUp | IFF_MULTICAST | IFF_BROADCAST, AF_INET, "192.168.1.10"},
      {"eth0:1", kUp | IFF_MULTICAST, AF_INET, "192.168.1.11"},  // an alias: eth0 again
      {"eth1", kUp | IFF_MULTICAST, AF_PACKET, "0.0.0.0"},       // its link-layer entry
      {"eth1", kUp | IFF_MULTICAST, AF_INET, "192.168.20.2"},
      {"eth2", IFF_MULTICAST, AF_INET, "10.0.0.1"},          // down
      {"tun0", kUp | IFF_POINTOPOINT, AF_INET, "10.8.0.2"},  // no multicast
      {"eth3", kUp | IFF_MULTICAST, AF_INET6, "0.0.0.0"},    // IPv6 only
  });
  const std::vector<ProbeInterface> found = MulticastInterfaces(system.head());
  REQUIRE(found.size() == 2);
  CHECK(found[0].name == "eth0");
  CHECK(found[0].address == "192.168.1.10");
  CHECK(found[1].name == "eth1");
  CHECK(found[1].address == "192.168.20.2");
  CHECK(MulticastInterfaces(nullptr).empty());
}

TEST_CASE("device addresses must be http or https with a host") {
  auto u = ParseHttpUrl("http://[fe80::1]:8080/onvif/device_service");
  REQUIRE(u.ok());
  CHECK(u->host == "fe80::1");
  CHECK(u->port == 8080);
  CHECK(u->target == "/onvif/device_service");
  CHECK(ParseHttpUrl("http://cam")->target == "/");
  CHECK_FALSE(ParseHttpUrl("http://cam")->tls);
  auto tls = ParseHttpUrl("https://cam/onvif/device_service");
  REQUIRE(tls.ok());
  CHECK(tls->tls);
  CHECK(tls->port == 443);
  CHECK(ParseHttpUrl("https://cam:8443/")->port == 8443);
  CHECK_FALSE(ParseHttpUrl("ftp://cam/").ok());
  CHECK_FALSE(ParseHttpUrl("httpss://cam/").ok());
  CHECK_FALSE(ParseHttpUrl("http://user:pw@cam/").ok());
  CHECK_FALSE(ParseHttpUrl("http://cam:99999/").ok());
  CHECK_FALSE(ParseHttpUrl("http:///x").ok());
}

TEST_CASE("a probe of an address with nothing there finds nothing, without error") {
  // A closed UDP port on loopback: the probe is sent and the wait ends empty.
  auto r = Probe({"127.0.0.1:9", 200, ""});
  REQUIRE(r.ok());
  CHECK(r->devices.empty());
  CHECK_FALSE(Probe({"127.0.0.1:0", 100, ""}).ok());
  CHECK_FALSE(Probe({"no such host.invalid", 100, ""}).ok());
  auto bad_interface = Probe({"", 100, "eth0"});
  REQUIRE_FALSE(bad_interface.ok());
  CHECK(bad_interface.status().kind() == ErrorKind::kInvalidArgument);
}

TEST_CASE("a device that takes the connection and never answers ends in its deadline") {
  // A listening socket that never accepts: the kernel completes the handshake and takes
  // the request, and no reply ever comes.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(listen(fd, 4) == 0);
  socklen_t len = sizeof a;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/onvif";
  auto reply = PostSoap(url, Envelope("<tds:GetDeviceInformation/>", {}, "t"), 300);
  close(fd);
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.status().kind() == ErrorKind::kUnavailable);
  CHECK(reply.status().message().find("did not answer within 300 ms") != std::string::npos);
}

}  // namespace
}  // namespace custodian::onvif
