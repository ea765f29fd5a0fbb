// Incremental SHA-256 (OpenSSL EVP), used to hash footage while it is written and exports
// while they are built, so no file is read twice.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace custodian {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void Update(const void* data, size_t size);
  // Lowercase hex of the digest; the object must not be updated afterwards.
  std::string FinishHex();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

class Filesystem;

std::string Sha256Hex(const std::string& data);
// DigestFile's hash of a file on the real disk.
Result<std::string> Sha256File(const std::string& path);

struct FileDigest {
  std::string sha256;  // lowercase hex
  uint64_t bytes = 0;
};
// A file's hash and size, read once in pieces through fs (no more than a buffer in memory).
Result<FileDigest> DigestFile(Filesystem& fs, const std::string& path);
std::string ToHex(const uint8_t* data, size_t size);

}  // namespace custodian
