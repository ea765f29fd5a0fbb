#include "onvif/discovery.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <sstream>

#include "onvif/xml.h"

namespace custodian::onvif {

namespace {

constexpr char kScopePrefix[] = "onvif://www.onvif.org/";

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(uint8_t(s[i + 1])) &&
        std::isxdigit(uint8_t(s[i + 2]))) {
      out += char(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

DiscoveredDevice ReadMatch(const xmlNode* match) {
  DiscoveredDevice d;
  d.endpoint = Printable(Text(Child(Child(match, "EndpointReference"), "Address")));
  // http:// first: an older camera that offers both may speak only TLS versions before 1.2
  // on its https:// address, which Custodian refuses; https:// alone is used as it is.
  const std::vector<std::string> xaddrs = Words(Text(Child(match, "XAddrs")));
  for (const char* scheme : {"http://", "https://"}) {
    for (const std::string& x : xaddrs) {
      if (x.rfind(scheme, 0) == 0) d.xaddrs.push_back(Printable(x, 1000));
    }
  }
  for (const std::string& scope : Words(Text(Child(match, "Scopes")))) {
    if (scope.rfind(kScopePrefix, 0) != 0) continue;
    std::string rest = scope.substr(sizeof kScopePrefix - 1);
    if (rest.rfind("name/", 0) == 0) d.name = Printable(PercentDecode(rest.substr(5)));
    if (rest.rfind("hardware/", 0) == 0) d.hardware = Printable(PercentDecode(rest.substr(9)));
  }
  return d;
}

// The probe's destination: the multicast group or the one address given.
Result<sockaddr_in> Destination(const std::string& address) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(kDiscoveryPort);
  std::string host = address.empty() ? kDiscoveryGroup : address;
  if (size_t colon = host.rfind(':'); colon != std::string::npos) {
    std::string port = host.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != port.npos ||
        std::stoi(port) < 1 || std::stoi(port) > 65535) {
      return InvalidArgument("the address to probe has a bad port");
    }
    to.sin_port = htons(static_cast<uint16_t>(std::stoi(port)));
    host = host.substr(0, colon);
  }
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (host.empty() || ::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || !found) {
    return InvalidArgument("cannot resolve the address to probe: " + Printable(host));
  }
  to.sin_addr = reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr;
  ::freeaddrinfo(found);
  return to;
}

void Merge(std::vector<DiscoveredDevice>& into, DiscoveredDevice d) {
  for (auto& known : into) {
    if (!d.endpoint.empty() && known.endpoint == d.endpoint) return;
  }
  into.push_back(std::move(d));
}

// Sends the probe to `to` by the interface with address `local` ("" for the routing
// table's choice).
Status SendProbe(int fd, const std::string& probe, const sockaddr_in& to,
                 const std::string& local) {
  if (!local.empty()) {
    in_addr a{};
    if (::inet_pton(AF_INET, local.c_str(), &a) != 1) {
      return InvalidArgument("the interface address is not an IPv4 address: " + Printable(local));
    }
    if (::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &a, sizeof a) != 0) {
      return ErrnoStatus("send the probe by the interface " + local, errno);
    }
  }
  if (::sendto(fd, probe.data(), probe.size(), 0, reinterpret_cast<const sockaddr*>(&to),
               sizeof to) < 0) {
    return ErrnoStatus("send the discovery probe" + (local.empty() ? "" : " by " + local), errno);
  }
  return Status::Ok();
}

// The system's multicast interfaces (MulticastInterfaces of getifaddrs); none when it fails.
std::vector<ProbeInterface> SystemMulticastInterfaces() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return {};
  std::vector<ProbeInterface> out = MulticastInterfaces(list);
  ::freeifaddrs(list);
  return out;
}

}  // namespace

std::vector<ProbeInterface> MulticastInterfaces(const ifaddrs* list) {
  std::vector<ProbeInterface> out;
  for (const ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_name) continue;
    const unsigned flags = i->ifa_flags;
    if (!(flags & IFF_UP) || !(flags & IFF_MULTICAST) || (flags & IFF_LOOPBACK)) continue;
    std::string name = i->ifa_name;
    name = Printable(name.substr(0, name.find(':')), IF_NAMESIZE);
    bool known = false;
    for (const ProbeInterface& seen : out) known = known || seen.name == name;
    if (known) continue;
    char ip[INET_ADDRSTRLEN] = "";
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr, ip,
                sizeof ip);
    out.push_back({name, ip});
  }
  return out;
}

std::string RandomUrnUuid() {
  std::array<unsigned char, 16> b{};
  RAND_bytes(b.data(), static_cast<int>(b.size()));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  char out[64];
  std::snprintf(out, sizeof out,
                "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                b[13], b[14], b[15]);
  return out;
}

std::string ProbeMessage(const std::string& message_id) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
         "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "
         "xmlns:d=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\" "
         "xmlns:dn=\"http://www.onvif.org/ver10/network/wsdl\"><s:Header><a:MessageID>" +
         Escape(message_id) +
         "</a:MessageID><a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>"
         "<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>"
         "</s:Header><s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types>"
         "</d:Probe></s:Body></s:Envelope>";
}

Result<std::vector<DiscoveredDevice>> ParseProbeMatches(std::string_view datagram,
                                                        const std::string& message_id) {
  auto doc = Xml::Parse(datagram, "the discovery reply");
  if (!doc.ok()) return doc.status();
  const xmlNode* envelope = doc->root();
  if (!IsNamed(envelope, "Envelope")) {
    return InvalidArgument("the discovery reply is not a SOAP envelope");
  }
  if (Text(Child(Child(envelope, "Header"), "RelatesTo")) != message_id) {
    return InvalidArgument("the discovery reply answers another probe");
  }
  const xmlNode* matches = Child(Child(envelope, "Body"), "ProbeMatches");
  if (!matches) return InvalidArgument("the discovery reply has no ProbeMatches");
  std::vector<DiscoveredDevice> out;
  for (const xmlNode* match : Children(matches, "ProbeMatch")) {
    DiscoveredDevice d = ReadMatch(match);
    if (!d.xaddrs.empty()) Merge(out, std::move(d));
  }
  return out;
}

Result<ProbeResult> Probe(const ProbeOptions& options) {
  auto to = Destination(options.address);
  if (!to.ok()) return to.status();
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus("make a discovery socket", errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  unsigned char ttl = 1;  // WS-Discovery stays on the local link
  ::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
  unsigned char loop = 1;
  ::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop);
  const std::string message_id = RandomUrnUuid();
  const std::string probe = ProbeMessage(message_id);
  ProbeResult result;
  if (!options.address.empty() || !options.interface_address.empty()) {
    CUSTODIAN_RETURN_IF_ERROR(SendProbe(fd, probe, *to, options.interface_address));
  } else {
    // Every multicast interface; the probe fails only when it could go out of none.
    Status last = Status::Ok();
    for (const ProbeInterface& i : SystemMulticastInterfaces()) {
      Status sent = SendProbe(fd, probe, *to, i.address);
      if (sent.ok()) {
        result.interfaces.push_back(i.name + " (" + i.address + ")");
      } else {
        last = sent;
      }
    }
    if (result.interfaces.empty()) {
      Status routed = SendProbe(fd, probe, *to, "");
      if (!routed.ok()) return last.ok() ? routed : last;
    }
  }
  std::string buf(kMaxDatagramBytes, '\0');
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options.timeout_ms);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    ssize_t n =
        ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) continue;
    auto devices = ParseProbeMatches(std::string_view(buf.data(), size_t(n)), message_id);
    if (!devices.ok()) {
      ++result.skipped_replies;
      continue;
    }
    char ip[INET_ADDRSTRLEN] = "";
    ::inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip);
    for (auto& d : *devices) {
      d.from = ip;
      Merge(result.devices, std::move(d));
    }
  }
  return result;
}

}  // namespace custodian::onvif
