// The server's TLS certificate: the configured one, or a self-signed one made on first
// start and kept under the site's keys directory.
//
// The self-signed certificate has an EC P-256 key, is valid for three years, and names
// localhost, 127.0.0.1, ::1 and the machine's host name. The key file is created with mode
// 0600 (never readable by another user, even briefly) and fsynced before it is renamed
// into place, so a crash leaves either no key or a whole one. Browsers will warn about a
// self-signed certificate until the site installs its own (http.tls_cert / tls_key).
#pragma once

#include <string>

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
Result<TlsFiles> EnsureTlsCertificate(const std::string& keys_dir,
                                      const std::string& configured_cert,
                                      const std::string& configured_key);

// Writes a new self-signed certificate and key; overwrites existing files.
Status WriteSelfSignedCertificate(const std::string& cert_path, const std::string& key_path);

}  // namespace custodian::api
