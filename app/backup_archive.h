// The encrypted backup file written by `custodian backup` and read by `custodian restore`.
//
// Layout (all integers big-endian):
//   header   "CUSTBAK1" | u32 format (1) | u32 0 | u64 opslimit | u64 memlimit |
//            salt[16] | secretstream header[24]                         (72 bytes)
//   chunks   u32 length | ciphertext[length]     (libsodium crypto_secretstream_xchacha20poly1305)
// The key is Argon2id (crypto_pwhash) of the passphrase with the header's salt and cost.
// The first chunk carries the whole header as additional data, so a changed header does not
// decrypt; every chunk is authenticated, chunks cannot be reordered or dropped, and the
// last carries the FINAL tag, so a truncated file is detected too. Plaintext is split into
// chunks of at most kChunkBytes; what it means is the caller's (verb_backup.cpp).
//
// A wrong passphrase and a damaged file look the same to the cipher: the first chunk does
// not authenticate. Both are reported as kDataLoss with a message saying so. The file is
// written and read through the Filesystem seam: written as path + ".partial" (mode 0600
// before any byte is in it), synced, then linked as path, so a backup is whole or absent.
// Not thread-safe; one writer or reader per file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/filesystem.h"
#include "base/status.h"

namespace custodian {

inline constexpr size_t kBackupChunkBytes = 64 * 1024;

struct KdfCost {
  uint64_t opslimit;
  uint64_t memlimit;
};
// libsodium's "moderate" Argon2id cost: 256 MiB and about a second on the appliance.
KdfCost DefaultBackupKdfCost();

class BackupWriter {
 public:
  // Creates path (mode 0600) through path + ".partial"; refuses an existing path.
  static Result<std::unique_ptr<BackupWriter>> Create(const std::string& path,
                                                      const std::string& passphrase,
                                                      KdfCost cost = DefaultBackupKdfCost(),
                                                      Filesystem& fs = PosixFilesystem::Instance());
  ~BackupWriter();  // removes the partial file unless Finish succeeded
  BackupWriter(const BackupWriter&) = delete;
  BackupWriter& operator=(const BackupWriter&) = delete;

  Status Write(const void* data, size_t size);
  // Writes the final chunk, fsyncs, and links the file into place (never over another
  // file); on failure no file is at path.
  Status Finish();

 private:
  BackupWriter() = default;
  Status PushChunk(bool final);

  struct State;
  std::unique_ptr<State> s_;
};

class BackupReader {
 public:
  static Result<std::unique_ptr<BackupReader>> Open(const std::string& path,
                                                    const std::string& passphrase,
                                                    Filesystem& fs = PosixFilesystem::Instance());
  ~BackupReader();
  BackupReader(const BackupReader&) = delete;
  BackupReader& operator=(const BackupReader&) = delete;

  // Exactly size bytes of plaintext; kDataLoss if the file ends early or does not
  // authenticate.
  Status Read(void* out, size_t size);
  // Ok when every plaintext byte has been read, the last chunk was FINAL and nothing
  // follows it.
  Status ExpectEnd();

 private:
  BackupReader() = default;
  Status PullChunk();

  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace custodian
