#include "app/backup_archive.h"

#include <sodium.h>

#include <array>
#include <cstring>

namespace custodian {

namespace {

constexpr char kMagic[8] = {'C', 'U', 'S', 'T', 'B', 'A', 'K', '1'};
constexpr uint32_t kFormat = 1;
constexpr size_t kHeaderBytes =
    8 + 4 + 4 + 8 + 8 + crypto_pwhash_SALTBYTES + crypto_secretstream_xchacha20poly1305_HEADERBYTES;
constexpr size_t kMaxCipherChunk = kBackupChunkBytes + crypto_secretstream_xchacha20poly1305_ABYTES;
// A header may not make restore spend more than this; libsodium's own "sensitive" cost is
// within it.
constexpr uint64_t kMaxOpslimit = 16;
constexpr uint64_t kMaxMemlimit = uint64_t{1} << 30;

void PutU32(uint8_t* p, uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}
void PutU64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}
uint64_t GetBE(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

// Bytes read; fewer than size only at the end of the file.
Result<size_t> ReadUpTo(SequentialFile& file, void* out, size_t size, const std::string& path) {
  auto* p = static_cast<uint8_t*>(out);
  size_t got = 0;
  while (got < size) {
    auto n = file.Read(p + got, size - got);
    if (!n.ok()) return Status(n.status().kind(), "reading " + path + ": " + n.status().message());
    if (*n == 0) break;
    got += *n;
  }
  return got;
}

Status DeriveKey(const std::string& passphrase, const uint8_t* salt, KdfCost cost, uint8_t* key) {
  if (crypto_pwhash(key, crypto_secretstream_xchacha20poly1305_KEYBYTES, passphrase.data(),
                    passphrase.size(), salt, cost.opslimit, static_cast<size_t>(cost.memlimit),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return ResourceExhausted("not enough memory to derive the backup key");
  }
  return Status::Ok();
}

}  // namespace

KdfCost DefaultBackupKdfCost() {
  return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
}

// --- Writer ---------------------------------------------------------------------------

struct BackupWriter::State {
  Filesystem* fs = nullptr;
  std::string path, partial;
  std::unique_ptr<WritableFile> file;
  bool finished = false;
  crypto_secretstream_xchacha20poly1305_state stream;
  std::array<uint8_t, kHeaderBytes> header{};
  bool first = true;
  std::vector<uint8_t> plain;
};

Result<std::unique_ptr<BackupWriter>> BackupWriter::Create(const std::string& path,
                                                           const std::string& passphrase,
                                                           KdfCost cost, Filesystem& fs) {
  if (sodium_init() < 0) return Internal("libsodium failed to initialise");
  if (fs.Exists(path)) return AlreadyExists(path + " exists; choose a new name for the backup");
  std::unique_ptr<BackupWriter> w(new BackupWriter());
  w->s_ = std::make_unique<State>();
  State& s = *w->s_;
  s.fs = &fs;
  s.path = path;
  s.partial = path + ".partial";
  auto file = fs.Create(s.partial);
  if (!file.ok())
    return Status(file.status().kind(), "cannot create the backup: " + file.status().message());
  s.file = std::move(file).value();
  // Before any byte: a partial file left by a crash keeps its old mode through O_TRUNC.
  CUSTODIAN_RETURN_IF_ERROR(fs.Chmod(s.partial, 0600));

  uint8_t* h = s.header.data();
  std::memcpy(h, kMagic, 8);
  PutU32(h + 8, kFormat);
  PutU32(h + 12, 0);
  PutU64(h + 16, cost.opslimit);
  PutU64(h + 24, cost.memlimit);
  uint8_t* salt = h + 32;
  randombytes_buf(salt, crypto_pwhash_SALTBYTES);
  std::array<uint8_t, crypto_secretstream_xchacha20poly1305_KEYBYTES> key{};
  CUSTODIAN_RETURN_IF_ERROR(DeriveKey(passphrase, salt, cost, key.data()));
  crypto_secretstream_xchacha20poly1305_init_push(&s.stream, salt + crypto_pwhash_SALTBYTES,
                                                  key.data());
  sodium_memzero(key.data(), key.size());
  CUSTODIAN_RETURN_IF_ERROR(s.file->Append(h, kHeaderBytes));
  s.plain.reserve(kBackupChunkBytes);
  return w;
}

BackupWriter::~BackupWriter() {
  if (!s_) return;
  if (s_->file) (void)s_->file->Close();
  if (!s_->finished && s_->fs) (void)s_->fs->Unlink(s_->partial);
  sodium_memzero(&s_->stream, sizeof s_->stream);
}

Status BackupWriter::PushChunk(bool final) {
  State& s = *s_;
  std::vector<uint8_t> cipher(s.plain.size() + crypto_secretstream_xchacha20poly1305_ABYTES + 4);
  unsigned long long clen = 0;
  crypto_secretstream_xchacha20poly1305_push(
      &s.stream, cipher.data() + 4, &clen, s.plain.data(), s.plain.size(),
      s.first ? s.header.data() : nullptr, s.first ? s.header.size() : 0,
      final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
  s.first = false;
  PutU32(cipher.data(), static_cast<uint32_t>(clen));
  sodium_memzero(s.plain.data(), s.plain.size());
  s.plain.clear();
  return s.file->Append(cipher.data(), clen + 4);
}

Status BackupWriter::Write(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (size > 0) {
    size_t take = std::min(size, kBackupChunkBytes - s_->plain.size());
    s_->plain.insert(s_->plain.end(), p, p + take);
    p += take;
    size -= take;
    if (s_->plain.size() == kBackupChunkBytes) CUSTODIAN_RETURN_IF_ERROR(PushChunk(false));
  }
  return Status::Ok();
}

Status BackupWriter::Finish() {
  State& s = *s_;
  CUSTODIAN_RETURN_IF_ERROR(PushChunk(true));
  CUSTODIAN_RETURN_IF_ERROR(s.file->Sync());
  Status closed = s.file->Close();
  s.file.reset();
  CUSTODIAN_RETURN_IF_ERROR(closed);
  // A link rather than a rename: it refuses a file that appeared meanwhile.
  Status named = s.fs->Link(s.partial, s.path);
  if (!named.ok()) return Status(named.kind(), "naming the backup: " + named.message());
  (void)s.fs->Unlink(s.partial);
  s.finished = true;
  return Status::Ok();
}

// --- Reader ---------------------------------------------------------------------------

struct BackupReader::State {
  std::string path;
  std::unique_ptr<SequentialFile> file;
  crypto_secretstream_xchacha20poly1305_state stream;
  std::array<uint8_t, kHeaderBytes> header{};
  bool first = true;
  bool final_seen = false;
  int64_t chunk = 0;
  std::vector<uint8_t> plain;
  size_t pos = 0;
};

Result<std::unique_ptr<BackupReader>> BackupReader::Open(const std::string& path,
                                                         const std::string& passphrase,
                                                         Filesystem& fs) {
  if (sodium_init() < 0) return Internal("libsodium failed to initialise");
  std::unique_ptr<BackupReader> r(new BackupReader());
  r->s_ = std::make_unique<State>();
  State& s = *r->s_;
  s.path = path;
  auto file = fs.OpenSequential(path);
  if (!file.ok())
    return Status(file.status().kind(), "cannot open the backup: " + file.status().message());
  s.file = std::move(file).value();
  uint8_t* h = s.header.data();
  auto got = ReadUpTo(*s.file, h, kHeaderBytes, path);
  if (!got.ok()) return got.status();
  if (*got != kHeaderBytes || std::memcmp(h, kMagic, 8) != 0) {
    return InvalidArgument(path + " is not a custodian backup");
  }
  if (GetBE(h + 8, 4) != kFormat) {
    return FailedPrecondition(path + " is backup format " + std::to_string(GetBE(h + 8, 4)) +
                              "; this custodian reads format " + std::to_string(kFormat));
  }
  KdfCost cost{GetBE(h + 16, 8), GetBE(h + 24, 8)};
  if (cost.opslimit < crypto_pwhash_OPSLIMIT_MIN || cost.opslimit > kMaxOpslimit ||
      cost.memlimit < crypto_pwhash_MEMLIMIT_MIN || cost.memlimit > kMaxMemlimit) {
    return DataLoss(path + ": the backup's header is damaged (key-derivation cost out of range)");
  }
  const uint8_t* salt = h + 32;
  std::array<uint8_t, crypto_secretstream_xchacha20poly1305_KEYBYTES> key{};
  CUSTODIAN_RETURN_IF_ERROR(DeriveKey(passphrase, salt, cost, key.data()));
  const int init = crypto_secretstream_xchacha20poly1305_init_pull(
      &s.stream, salt + crypto_pwhash_SALTBYTES, key.data());
  sodium_memzero(key.data(), key.size());
  if (init != 0) return DataLoss(path + ": the backup's header is damaged");
  // Decrypting the first chunk now tells a wrong passphrase before anything is written.
  CUSTODIAN_RETURN_IF_ERROR(r->PullChunk());
  return r;
}

BackupReader::~BackupReader() {
  if (!s_) return;
  sodium_memzero(s_->plain.data(), s_->plain.size());
  sodium_memzero(&s_->stream, sizeof s_->stream);
}

Status BackupReader::PullChunk() {
  State& s = *s_;
  if (s.final_seen) return DataLoss(s.path + ": the backup ends before its contents do");
  uint8_t len_be[4];
  auto got = ReadUpTo(*s.file, len_be, 4, s.path);
  if (!got.ok()) return got.status();
  if (*got != 4) {
    return DataLoss(s.path + ": the backup is cut short after chunk " + std::to_string(s.chunk));
  }
  const uint64_t clen = GetBE(len_be, 4);
  if (clen < crypto_secretstream_xchacha20poly1305_ABYTES || clen > kMaxCipherChunk) {
    return DataLoss(s.path + ": the backup is damaged (chunk " + std::to_string(s.chunk + 1) +
                    " has an impossible length)");
  }
  std::vector<uint8_t> cipher(clen);
  got = ReadUpTo(*s.file, cipher.data(), clen, s.path);
  if (!got.ok()) return got.status();
  if (*got != clen) {
    return DataLoss(s.path + ": the backup is cut short in chunk " + std::to_string(s.chunk + 1));
  }
  sodium_memzero(s.plain.data(), s.plain.size());
  s.plain.resize(clen - crypto_secretstream_xchacha20poly1305_ABYTES);
  unsigned long long plen = 0;
  unsigned char tag = 0;
  if (crypto_secretstream_xchacha20poly1305_pull(
          &s.stream, s.plain.data(), &plen, &tag, cipher.data(), clen,
          s.first ? s.header.data() : nullptr, s.first ? s.header.size() : 0) != 0) {
    if (s.first) {
      return DataLoss(s.path + ": cannot decrypt: wrong passphrase, or the file is damaged");
    }
    return DataLoss(s.path + ": the backup is damaged or was altered (chunk " +
                    std::to_string(s.chunk + 1) + " does not authenticate)");
  }
  s.first = false;
  ++s.chunk;
  s.plain.resize(plen);
  s.pos = 0;
  s.final_seen = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
  return Status::Ok();
}

Status BackupReader::Read(void* out, size_t size) {
  auto* p = static_cast<uint8_t*>(out);
  while (size > 0) {
    if (s_->pos == s_->plain.size()) CUSTODIAN_RETURN_IF_ERROR(PullChunk());
    size_t take = std::min(size, s_->plain.size() - s_->pos);
    std::memcpy(p, s_->plain.data() + s_->pos, take);
    s_->pos += take;
    p += take;
    size -= take;
  }
  return Status::Ok();
}

Status BackupReader::ExpectEnd() {
  State& s = *s_;
  // The last data may fill a chunk exactly, leaving an empty FINAL chunk to read.
  while (s.pos == s.plain.size() && !s.final_seen) CUSTODIAN_RETURN_IF_ERROR(PullChunk());
  if (s.pos != s.plain.size()) {
    return DataLoss(s.path + ": the backup holds more than its contents list");
  }
  uint8_t extra;
  auto got = ReadUpTo(*s.file, &extra, 1, s.path);
  if (!got.ok()) return got.status();
  if (*got != 0) return DataLoss(s.path + ": unexpected bytes after the end of the backup");
  return Status::Ok();
}

}  // namespace custodian
