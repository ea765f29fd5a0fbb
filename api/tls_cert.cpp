#include "api/tls_cert.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "base/log.h"

namespace custodian::api {

namespace {

constexpr long kValiditySeconds = 3L * 365 * 24 * 3600;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct ExtFree {
  void operator()(X509_EXTENSION* e) const { X509_EXTENSION_free(e); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

Status OpenSslError(const std::string& what) {
  return Internal("TLS certificate: " + what + " failed (OpenSSL)");
}

std::string HostName() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "custodian";
  return buf;
}

Status AddExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, ExtFree> ext(
      X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) return OpenSslError("extension");
  return Status::Ok();
}

Result<std::unique_ptr<X509, X509Free>> MakeCertificate(EVP_PKEY* key) {
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!cert) return OpenSslError("X509_new");
  X509_set_version(cert.get(), 2);
  std::unique_ptr<BIGNUM, BnFree> serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))) {
    return OpenSslError("serial number");
  }
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds);
  const std::string host = HostName();
  const std::string cn = "custodian " + host;
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_set_pubkey(cert.get(), key) != 1) return OpenSslError("public key");
  CUSTODIAN_RETURN_IF_ERROR(AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  CUSTODIAN_RETURN_IF_ERROR(AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature"));
  CUSTODIAN_RETURN_IF_ERROR(AddExtension(cert.get(), NID_ext_key_usage, "serverAuth"));
  CUSTODIAN_RETURN_IF_ERROR(AddExtension(
      cert.get(), NID_subject_alt_name,
      "DNS:localhost,IP:127.0.0.1,IP:::1" + (host == "localhost" ? "" : ",DNS:" + host)));
  if (X509_sign(cert.get(), key, EVP_sha256()) == 0) return OpenSslError("signing");
  return cert;
}

// The PEM text that fn writes into a memory BIO.
template <typename WriteFn>
Result<std::string> PemText(const std::string& what, WriteFn fn) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || !fn(bio.get())) return OpenSslError("writing the " + what);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  std::string text(data, static_cast<size_t>(size));
  OPENSSL_cleanse(data, static_cast<size_t>(size));
  return text;
}

Result<std::string> ReadPem(Filesystem& fs, const std::string& what, const std::string& path) {
  // A certificate chain or a key is a few KiB; a file of megabytes is not one.
  constexpr uint64_t kMaxPemBytes = uint64_t{1} << 20;
  auto text = ReadFileToString(fs, path, kMaxPemBytes);
  if (text.ok()) return text;
  return Status(text.status().kind(),
                "cannot read the TLS " + what + " " + path + ": " + text.status().message());
}

bool Readable(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }

}  // namespace

TlsCredentials::~TlsCredentials() { OPENSSL_cleanse(key_pem.data(), key_pem.size()); }

Status WriteSelfSignedCertificate(const std::string& cert_path, const std::string& key_path,
                                  Filesystem& fs) {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("EC P-256 key generation");
  auto cert = MakeCertificate(key.get());
  if (!cert.ok()) return cert.status();
  auto key_pem = PemText("key", [&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  });
  if (!key_pem.ok()) return key_pem.status();
  Status st = WriteFileAtomically(fs, key_path, *key_pem, 0600);
  OPENSSL_cleanse(key_pem->data(), key_pem->size());
  CUSTODIAN_RETURN_IF_ERROR(st);
  auto cert_pem =
      PemText("certificate", [&](BIO* b) { return PEM_write_bio_X509(b, cert->get()) == 1; });
  if (!cert_pem.ok()) return cert_pem.status();
  return WriteFileAtomically(fs, cert_path, *cert_pem, 0644);
}

Result<TlsCredentials> ReadTlsCredentials(const std::string& cert_path, const std::string& key_path,
                                          Filesystem& fs) {
  TlsCredentials out;
  auto cert = ReadPem(fs, "certificate", cert_path);
  if (!cert.ok()) return cert.status();
  out.cert_pem = std::move(cert).value();
  auto key = ReadPem(fs, "key", key_path);
  if (!key.ok()) return key.status();
  out.key_pem = std::move(key).value();
  return out;
}

Result<std::string> CertificateFingerprint(const std::string& cert_pem) {
  std::unique_ptr<BIO, BioFree> bio(
      BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  std::unique_ptr<X509, X509Free> cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)
                                           : nullptr);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!cert || X509_digest(cert.get(), EVP_sha256(), md, &len) != 1) {
    return InvalidArgument("not a PEM certificate");
  }
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    if (!out.empty()) out += ':';
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

Result<TlsFiles> EnsureTlsCertificate(const std::string& keys_dir,
                                      const std::string& configured_cert,
                                      const std::string& configured_key, Filesystem& fs) {
  if (!configured_cert.empty() || !configured_key.empty()) {
    if (configured_cert.empty() || configured_key.empty()) {
      return InvalidArgument("http.tls_cert and http.tls_key must be set together");
    }
    if (!Readable(configured_cert)) return NotFound("cannot read " + configured_cert);
    if (!Readable(configured_key)) return NotFound("cannot read " + configured_key);
    return TlsFiles{configured_cert, configured_key, false};
  }
  TlsFiles files{keys_dir + "/" + kSelfSignedCertName, keys_dir + "/" + kSelfSignedKeyName, false};
  if (Readable(files.cert_path) && Readable(files.key_path)) return files;
  if (::mkdir(keys_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus("create " + keys_dir, errno);
  }
  CUSTODIAN_RETURN_IF_ERROR(WriteSelfSignedCertificate(files.cert_path, files.key_path, fs));
  files.generated = true;
  LogInfo("api") << "made a self-signed TLS certificate at " << files.cert_path
                 << "; install the site's own with http.tls_cert and http.tls_key";
  return files;
}

}  // namespace custodian::api
