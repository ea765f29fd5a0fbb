// PeerCertificate: what a TLS peer's certificate says, as the handshake received it.
//
// Read from the certificate itself (TcpSocket::PeerCertificateDetails) and not checked
// against any authority: for a camera the SHA-256 is what is trusted (pinned on first use,
// certificate_pin.h); the subject and expiry are shown to people and watched for expiry.
// A plain value, safe to copy.
#pragma once

#include <optional>
#include <string>

#include "base/time.h"

namespace custodian::media::rtsp {

struct PeerCertificate {
  std::string sha256;  // lower-case hex SHA-256 of the certificate (DER); "" when none
  // The subject as RFC 2253 writes it ("CN=camera-1,O=Vendor"), printable ASCII of at most
  // kMaxCertificateSubjectLength characters; "" when unreadable.
  std::string subject;
  std::optional<UtcMicros> not_after;  // when it expires; unset when unreadable
};

inline constexpr size_t kMaxCertificateSubjectLength = 256;

}  // namespace custodian::media::rtsp
