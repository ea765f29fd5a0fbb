#include "base/sha256.h"

#include <openssl/evp.h>

#include <cerrno>
#include <vector>

#include "base/filesystem.h"

namespace custodian {

struct Sha256::Ctx {
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> md{EVP_MD_CTX_new()};
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  EVP_DigestInit_ex(ctx_->md.get(), EVP_sha256(), nullptr);
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Update(const void* data, size_t size) {
  EVP_DigestUpdate(ctx_->md.get(), data, size);
}

std::string Sha256::FinishHex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md.get(), digest, &len);
  return ToHex(digest, len);
}

std::string ToHex(const uint8_t* data, size_t size) {
  static const char* kDigits = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

std::string Sha256Hex(const std::string& data) {
  Sha256 h;
  h.Update(data.data(), data.size());
  return h.FinishHex();
}

Result<std::string> Sha256File(const std::string& path) {
  auto digest = DigestFile(PosixFilesystem::Instance(), path);
  if (!digest.ok()) return digest.status();
  return digest->sha256;
}

Result<FileDigest> DigestFile(Filesystem& fs, const std::string& path) {
  auto f = fs.OpenSequential(path);
  if (!f.ok()) return f.status();
  Sha256 h;
  FileDigest d;
  std::vector<char> buf(1 << 20);
  for (;;) {
    auto n = (*f)->Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    h.Update(buf.data(), *n);
    d.bytes += *n;
  }
  d.sha256 = h.FinishHex();
  return d;
}

}  // namespace custodian
