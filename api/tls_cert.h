// The server's TLS certificate: the configured one, or a self-signed one made on first
// start and kept under the site's keys directory.
//
// The self-signed certificate has an EC P-256 key, is valid for three years, and names
// localhost, 127.0.0.1, ::1 and the machine's host name. Both files are written through the
// Filesystem seam (WriteFileAtomically): the key file is made mode 0600 before any byte of
// it is written (never readable by another user, even briefly) and fsynced before it is
// renamed into place, so a crash leaves either no key or a whole one. Browsers will warn
// about a self-signed certificate until the site installs its own (http.tls_cert / tls_key).
// The server reads both through the seam too (ReadTlsCredentials).
#pragma once

#include <string>

#include "base/filesystem.h"
#include "base/status.h"

namespace custodian::api {

struct TlsFiles {
  std::string cert_path;
  std::string key_path;
  bool generated = false;  // made by this call
};

inline constexpr char kSelfSignedCertName[] = "https-cert.pem";
inline constexpr char kSelfSignedKeyName[] = "https-key.pem";

// With configured_cert and configured_key set, checks they are readable and returns them.
// Otherwise returns <keys_dir>/https-cert.pem and https-key.pem, making them first (and
// keys_dir, mode 0700) when either is missing.
// A write that fails leaves no half-written file under either name.
Result<TlsFiles> EnsureTlsCertificate(const std::string& keys_dir,
                                      const std::string& configured_cert,
                                      const std::string& configured_key,
                                      Filesystem& fs = PosixFilesystem::Instance());

// Writes a new self-signed certificate and key; overwrites existing files.
Status WriteSelfSignedCertificate(const std::string& cert_path, const std::string& key_path,
                                  Filesystem& fs = PosixFilesystem::Instance());

// The PEM text of a certificate chain and its private key, as the server loads them. The
// key's text is wiped when this is destroyed.
struct TlsCredentials {
  std::string cert_pem;
  std::string key_pem;
  TlsCredentials() = default;
  TlsCredentials(TlsCredentials&&) = default;
  TlsCredentials& operator=(TlsCredentials&&) = default;
  ~TlsCredentials();
};

// Reads both files through fs; the read's own error naming the file ("cannot read the TLS
// key PATH: ...") when one cannot be read.
Result<TlsCredentials> ReadTlsCredentials(const std::string& cert_path, const std::string& key_path,
                                          Filesystem& fs);

// "AB:CD:..." SHA-256 of the first certificate in cert_pem, as browsers show it;
// kInvalidArgument when it holds none.
Result<std::string> CertificateFingerprint(const std::string& cert_pem);

}  // namespace custodian::api
