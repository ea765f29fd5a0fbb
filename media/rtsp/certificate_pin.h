// CertificatePin: an rtsps:// camera's TLS certificate, trusted on first use.
//
// Cameras carry self-signed certificates that no authority vouches for, so the first
// certificate a camera presents is pinned (its SHA-256, kept in the camera's state file)
// and every later connection must present the same one before any credentials are sent.
// A different certificate is noted as `presented` and refused until an administrator
// accepts it (AcceptPresentedCertificate), which makes it the pin.
//
// The pin is the trust: no authority is consulted (cameras' certificates are self-signed),
// and the subject and expiry the certificate states are kept only to be shown and watched
// (an expired pinned certificate is still the pinned one; the recorder raises an alarm).
//
// The state file, <data_dir>/state/tls/<camera>.pin, is written whole and atomically
// (WriteFileAtomically): a crash leaves the old pin or the new one. Lines:
//   pinned <sha256> <UTC> <by>        "first use", or the account that accepted it
//   pinned_expires <UTC>              the pinned certificate's notAfter (when known)
//   pinned_subject <RFC 2253 text>    its subject (when known)
//   presented <sha256> <UTC>          a different certificate, refused (absent when none)
//   presented_expires, presented_subject   the same for it
// Files written before subject and expiry were kept have only the sha256 lines; the next
// connection to the pinned certificate fills them in.
// Why a state file rather than the records: the pin is the recorder's own state about one
// connection, read and written on every connection attempt, and keeping it out of the
// records schema keeps it out of migrations; the acceptance itself goes into the access log
// by the API.
//
// The recorder and the API (two processes) may both write a camera's file; each write is
// a read-modify-write of a few lines, and the only contended case (the camera presents the
// same new certificate while an administrator accepts it) ends with it pinned either way.
#pragma once

#include <optional>
#include <string>

#include "base/filesystem.h"
#include "base/status.h"
#include "base/time.h"
#include "media/rtsp/peer_certificate.h"

namespace custodian::media::rtsp {

struct CertificatePin {
  std::string sha256;  // lower-case hex SHA-256 of the pinned certificate (DER)
  UtcMicros pinned_at;
  std::string pinned_by;  // "first use" or the account that accepted it
  std::string presented;  // a different certificate seen since, refused; "" when none
  UtcMicros presented_at;
  // What the pinned and the presented certificates state ("" and unset when unknown).
  std::string subject;
  std::optional<UtcMicros> expires;
  std::string presented_subject;
  std::optional<UtcMicros> presented_expires;
};

// <data_dir>/state/tls/<camera_id>.pin
std::string CertificatePinPath(const std::string& data_dir, const std::string& camera_id);

// The camera's pin, or nullopt when it has none yet. kDataLoss for a damaged file.
Result<std::optional<CertificatePin>> ReadCertificatePin(Filesystem& fs, const std::string& path);

// A pinned certificate that has expired, or expires within this, is reported (the
// recorder's alarm camera_certificate_expiry:<camera>, the API's "expiry").
inline constexpr int64_t kCertificateExpiryWarningUs = 30 * kMicrosPerDay;

enum class PinCheck { kFirstUse, kMatches, kChanged };

// Checks the certificate a camera presented: pins it when the camera has no pin (kFirstUse),
// kMatches when it is the pinned one (a refused one noted earlier is forgotten; a subject
// or expiry the file lacks is filled in), kChanged when it differs (it is noted as
// presented, with its subject and expiry; the caller must not proceed).
Result<PinCheck> CheckCertificate(Filesystem& fs, const std::string& path,
                                  const PeerCertificate& certificate, UtcMicros now);

// Makes the presented certificate (with its subject and expiry) the pin. sha256 must be
// the one presented (what the administrator was shown): kFailedPrecondition otherwise, or
// when none is presented.
Result<CertificatePin> AcceptPresentedCertificate(Filesystem& fs, const std::string& path,
                                                  const std::string& sha256, const std::string& by,
                                                  UtcMicros now);

}  // namespace custodian::media::rtsp
