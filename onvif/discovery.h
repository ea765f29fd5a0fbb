// WS-Discovery for ONVIF cameras: a Probe for NetworkVideoTransmitter devices, sent to the
// multicast group 239.255.255.250:3702 (the local network) or to one address (a camera on
// another subnet, or a test's fake device), and the ProbeMatches that come back.
//
// The local network is every network the appliance is on: without a chosen interface the
// multicast probe goes out of each interface that is up, multicast-capable, not loopback
// and has an IPv4 address (MulticastInterfaces), one copy per interface, so that an
// appliance with its cameras on a second port finds them as well as those on the port of
// its default route. With no such interface the routing table chooses, as before.
//
// Probe waits the whole timeout for replies (devices answer after a random delay of up to
// about a second), keeps one entry per endpoint reference, and skips datagrams that are
// malformed, oversized or answer another probe: one broken device never hides the others.
// Errors: kInvalidArgument for a bad address or interface address; kIo when no socket can be made
// or the probe cannot be sent. No replies is not an error (an empty list). Thread-safe: no shared
// state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

struct ifaddrs;

namespace custodian::onvif {

inline constexpr char kDiscoveryGroup[] = "239.255.255.250";
inline constexpr uint16_t kDiscoveryPort = 3702;
inline constexpr size_t kMaxDatagramBytes = 65535;

struct DiscoveredDevice {
  std::string endpoint;             // the device's stable id, usually urn:uuid:...
  std::vector<std::string> xaddrs;  // its device service URLs: http:// ones, then https://
  std::string name;                 // from the onvif://www.onvif.org/name/ scope, decoded
  std::string hardware;             // from the .../hardware/ scope (usually the model)
  std::string from;                 // the IP address the reply came from
};

// The SOAP Probe with this MessageID (urn:uuid:...).
std::string ProbeMessage(const std::string& message_id);

// The devices of one ProbeMatches datagram that relates to message_id. Printable text
// only is kept; kInvalidArgument when the datagram is not such a reply.
Result<std::vector<DiscoveredDevice>> ParseProbeMatches(std::string_view datagram,
                                                        const std::string& message_id);

struct ProbeOptions {
  std::string address;  // "" for the multicast group; else "host" or "host:port" (3702)
  int timeout_ms = 3000;
  // The IPv4 address of the interface the multicast probe leaves by (an appliance whose
  // cameras are on another network than its default route's); "" for the routing table's
  // choice. Copies loop back to this host, so a device on the appliance itself answers.
  std::string interface_address;
};

struct ProbeResult {
  std::vector<DiscoveredDevice> devices;
  int skipped_replies = 0;  // datagrams that were not a valid reply to this probe
  // A multicast probe: the interfaces it went out of, "eth1 (192.168.2.10)"; empty when
  // the routing table chose (or for a probe of one address).
  std::vector<std::string> interfaces;
};

struct ProbeInterface {
  std::string name;     // "eth1"
  std::string address;  // its first IPv4 address, "192.168.2.10"
};

// The interfaces of a getifaddrs(3) list that a probe of the local network goes out of:
// up, multicast-capable, not loopback, with an IPv4 address; once per interface (an alias
// "eth0:1" is its interface, eth0), in the list's order.
std::vector<ProbeInterface> MulticastInterfaces(const ifaddrs* list);

Result<ProbeResult> Probe(const ProbeOptions& options);

// A fresh urn:uuid: from 16 random bytes (version 4).
std::string RandomUrnUuid();

}  // namespace custodian::onvif
