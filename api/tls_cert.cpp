#include "api/tls_cert.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
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
struct FileClose {
  void operator()(FILE* f) const { std::fclose(f); }
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

// Writes with fn into a new file of the given mode beside path, fsyncs, renames over path.
template <typename WriteFn>
Status WriteFileAtomically(const std::string& path, mode_t mode, WriteFn fn) {
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus("create " + tmp, errno);
  std::unique_ptr<FILE, FileClose> f(::fdopen(fd, "w"));
  if (!f) {
    ::close(fd);
    return ErrnoStatus("fdopen " + tmp, errno);
  }
  if (!fn(f.get()) || std::fflush(f.get()) != 0 || ::fsync(fd) != 0) {
    ::unlink(tmp.c_str());
    return IoError("write " + tmp);
  }
  f.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoStatus("rename " + tmp, errno);
  return Status::Ok();
}

Status SyncDirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + dir, errno);
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : ErrnoStatus("fsync " + dir, errno);
}

bool Readable(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }

}  // namespace

Status WriteSelfSignedCertificate(const std::string& cert_path, const std::string& key_path) {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("EC P-256 key generation");
  auto cert = MakeCertificate(key.get());
  if (!cert.ok()) return cert.status();
  CUSTODIAN_RETURN_IF_ERROR(WriteFileAtomically(key_path, 0600, [&](FILE* f) {
    return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  }));
  CUSTODIAN_RETURN_IF_ERROR(WriteFileAtomically(
      cert_path, 0644, [&](FILE* f) { return PEM_write_X509(f, cert->get()) == 1; }));
  return SyncDirectoryOf(cert_path);
}

Result<TlsFiles> EnsureTlsCertificate(const std::string& keys_dir,
                                      const std::string& configured_cert,
                                      const std::string& configured_key) {
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
  CUSTODIAN_RETURN_IF_ERROR(WriteSelfSignedCertificate(files.cert_path, files.key_path));
  files.generated = true;
  LogInfo("api") << "made a self-signed TLS certificate at " << files.cert_path
                 << "; install the site's own with http.tls_cert and http.tls_key";
  return files;
}

}  // namespace custodian::api
