#include "exports/signing.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <vector>

#include "base/log.h"

namespace custodian::exports {

namespace {

constexpr char kSecretKeyFile[] = "export-signing.key";
constexpr char kPublicKeyFile[] = "export-signing.pub";
constexpr char kUntrustedPrefix[] = "untrusted comment: ";
constexpr char kTrustedPrefix[] = "trusted comment: ";

Status InitSodium() {
  if (sodium_init() < 0) return Internal("signing: libsodium failed to initialise");
  return Status::Ok();
}

std::string ToBase64(const uint8_t* data, size_t size) {
  std::string out(sodium_base64_encoded_len(size, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

bool FromBase64(const std::string& text, std::vector<uint8_t>* out) {
  out->assign(text.size(), 0);
  size_t len = 0;
  if (sodium_base642bin(out->data(), out->size(), text.data(), text.size(), " \r\n\t", &len,
                        nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return false;
  }
  out->resize(len);
  return true;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

// A key file is a few lines; anything larger is not one.
constexpr uint64_t kMaxKeyFileBytes = 4096;

Result<std::string> ReadKeyFile(Filesystem& fs, const std::string& path) {
  auto text = ReadFileToString(fs, path, kMaxKeyFileBytes);
  if (text.ok()) return text;
  return Status(text.status().kind(),
                "signing: cannot read " + path + ": " + text.status().message());
}

// The keys directory, private to the service account. Made here rather than with
// Filesystem::CreateDirs, which makes 0750.
Status MakeKeysDir(const std::string& keys_dir) {
  if (::mkdir(keys_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus("signing: mkdir " + keys_dir, errno);
  }
  return Status::Ok();
}

}  // namespace

std::string SecretKeyPath(const std::string& keys_dir) { return keys_dir + "/" + kSecretKeyFile; }
std::string PublicKeyPath(const std::string& keys_dir) { return keys_dir + "/" + kPublicKeyFile; }

std::string PublicKey::KeyIdHex() const {
  // minisign prints the little-endian 64-bit key number.
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (int i = 7; i >= 0; --i) {
    out += kHex[key_id[i] >> 4];
    out += kHex[key_id[i] & 15];
  }
  return out;
}

std::string PublicKey::Base64() const {
  uint8_t raw[2 + 8 + 32];
  raw[0] = 'E';
  raw[1] = 'd';
  std::memcpy(raw + 2, key_id.data(), 8);
  std::memcpy(raw + 10, pk.data(), 32);
  return ToBase64(raw, sizeof raw);
}

std::string PublicKey::FileText() const {
  return std::string(kUntrustedPrefix) + "minisign public key " + KeyIdHex() + "\n" + Base64() +
         "\n";
}

Result<PublicKey> ParsePublicKey(const std::string& text) {
  std::string line;
  for (const std::string& l : Lines(text)) {
    if (!l.empty() && l.rfind(kUntrustedPrefix, 0) != 0) {
      line = l;
      break;
    }
  }
  std::vector<uint8_t> raw;
  if (line.empty() || !FromBase64(line, &raw) || raw.size() != 42 || raw[0] != 'E' ||
      raw[1] != 'd') {
    return InvalidArgument("signing: not a minisign public key");
  }
  PublicKey key;
  std::memcpy(key.key_id.data(), raw.data() + 2, 8);
  std::memcpy(key.pk.data(), raw.data() + 10, 32);
  return key;
}

SigningKey::SigningKey(SigningKey&& o) noexcept : public_(o.public_), secret_(o.secret_) {
  sodium_memzero(o.secret_.data(), o.secret_.size());
}

SigningKey::~SigningKey() { sodium_memzero(secret_.data(), secret_.size()); }

Result<SigningKey> SigningKey::Load(const std::string& keys_dir, Filesystem& fs) {
  CUSTODIAN_RETURN_IF_ERROR(InitSodium());
  auto text = ReadKeyFile(fs, SecretKeyPath(keys_dir));
  if (!text.ok()) return text.status();
  std::vector<uint8_t> raw;
  std::string line;
  for (const std::string& l : Lines(*text)) {
    if (!l.empty() && l.rfind(kUntrustedPrefix, 0) != 0) line = l;
  }
  sodium_memzero(text->data(), text->size());
  if (!FromBase64(line, &raw) || raw.size() != 2 + 8 + 64 || raw[0] != 'E' || raw[1] != 'd') {
    sodium_memzero(raw.data(), raw.size());
    return DataLoss("signing: " + SecretKeyPath(keys_dir) + " is not a custodian signing key");
  }
  SigningKey key;
  std::memcpy(key.public_.key_id.data(), raw.data() + 2, 8);
  std::memcpy(key.secret_.data(), raw.data() + 10, 64);
  sodium_memzero(raw.data(), raw.size());
  // libsodium's secret key carries the public key in its second half.
  std::memcpy(key.public_.pk.data(), key.secret_.data() + 32, 32);
  return key;
}

Result<SigningKey> SigningKey::LoadOrCreate(const std::string& keys_dir, Filesystem& fs) {
  CUSTODIAN_RETURN_IF_ERROR(InitSodium());
  auto loaded = Load(keys_dir, fs);
  if (loaded.ok() || loaded.status().kind() != ErrorKind::kNotFound) return loaded;

  CUSTODIAN_RETURN_IF_ERROR(MakeKeysDir(keys_dir));
  SigningKey key;
  randombytes_buf(key.public_.key_id.data(), key.public_.key_id.size());
  crypto_sign_keypair(key.public_.pk.data(), key.secret_.data());
  std::vector<uint8_t> raw(2 + 8 + 64);
  raw[0] = 'E';
  raw[1] = 'd';
  std::memcpy(raw.data() + 2, key.public_.key_id.data(), 8);
  std::memcpy(raw.data() + 10, key.secret_.data(), 64);
  std::string text = std::string(kUntrustedPrefix) + "custodian export signing secret key " +
                     key.public_.KeyIdHex() + " (keep private)\n" +
                     ToBase64(raw.data(), raw.size()) + "\n";
  sodium_memzero(raw.data(), raw.size());
  Status st = WriteNewFileAtomically(fs, SecretKeyPath(keys_dir), text, 0600);
  sodium_memzero(text.data(), text.size());
  if (st.kind() == ErrorKind::kAlreadyExists) return Load(keys_dir, fs);  // another won
  if (!st.ok()) return Status(st.kind(), "signing: " + st.message());
  st = WriteNewFileAtomically(fs, PublicKeyPath(keys_dir), key.public_.FileText(), 0644);
  if (!st.ok() && st.kind() != ErrorKind::kAlreadyExists) {
    return Status(st.kind(), "signing: " + st.message());
  }
  LogInfo("exports") << "made the export signing key " << key.public_.KeyIdHex() << " in "
                     << keys_dir << "; publish " << PublicKeyPath(keys_dir)
                     << " so recipients can verify exports";
  return key;
}

std::string SigningKey::Sign(const std::string& data, const std::string& trusted_comment) const {
  uint8_t hash[crypto_generichash_BYTES_MAX];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const uint8_t*>(data.data()), data.size(),
                     nullptr, 0);
  uint8_t sig_struct[2 + 8 + crypto_sign_BYTES];
  sig_struct[0] = 'E';
  sig_struct[1] = 'D';
  std::memcpy(sig_struct + 2, public_.key_id.data(), 8);
  crypto_sign_detached(sig_struct + 10, nullptr, hash, sizeof hash, secret_.data());

  std::vector<uint8_t> global_msg(sig_struct + 10, sig_struct + 10 + crypto_sign_BYTES);
  global_msg.insert(global_msg.end(), trusted_comment.begin(), trusted_comment.end());
  uint8_t global_sig[crypto_sign_BYTES];
  crypto_sign_detached(global_sig, nullptr, global_msg.data(), global_msg.size(), secret_.data());

  return std::string(kUntrustedPrefix) + "signature from custodian export key " +
         public_.KeyIdHex() + "\n" + ToBase64(sig_struct, sizeof sig_struct) + "\n" +
         kTrustedPrefix + trusted_comment + "\n" + ToBase64(global_sig, sizeof global_sig) + "\n";
}

SignatureCheck VerifyMinisign(const PublicKey& key, const std::string& data,
                              const std::string& signature_text) {
  SignatureCheck out;
  if (InitSodium().ok() == false) {
    out.reason = "libsodium failed to initialise";
    return out;
  }
  std::vector<std::string> lines = Lines(signature_text);
  if (lines.size() < 4 || lines[0].rfind(kUntrustedPrefix, 0) != 0 ||
      lines[2].rfind(kTrustedPrefix, 0) != 0) {
    out.reason = "the signature file is not in minisign format";
    return out;
  }
  std::vector<uint8_t> sig, global;
  if (!FromBase64(lines[1], &sig) || sig.size() != 2 + 8 + crypto_sign_BYTES ||
      !FromBase64(lines[3], &global) || global.size() != crypto_sign_BYTES) {
    out.reason = "the signature file's signature lines are malformed";
    return out;
  }
  PublicKey named;
  std::memcpy(named.key_id.data(), sig.data() + 2, 8);
  out.key_id = named.KeyIdHex();
  if (std::memcmp(named.key_id.data(), key.key_id.data(), 8) != 0) {
    out.reason = "signed with key " + out.key_id + ", not with key " + key.KeyIdHex();
    return out;
  }
  const bool prehashed = sig[0] == 'E' && sig[1] == 'D';
  const bool legacy = sig[0] == 'E' && sig[1] == 'd';
  if (!prehashed && !legacy) {
    out.reason = "unknown signature algorithm";
    return out;
  }
  int rc;
  if (prehashed) {
    uint8_t hash[crypto_generichash_BYTES_MAX];
    crypto_generichash(hash, sizeof hash, reinterpret_cast<const uint8_t*>(data.data()),
                       data.size(), nullptr, 0);
    rc = crypto_sign_verify_detached(sig.data() + 10, hash, sizeof hash, key.pk.data());
  } else {
    rc = crypto_sign_verify_detached(sig.data() + 10, reinterpret_cast<const uint8_t*>(data.data()),
                                     data.size(), key.pk.data());
  }
  if (rc != 0) {
    out.reason = "the signature does not match the file: it was altered after signing";
    return out;
  }
  const std::string trusted = lines[2].substr(std::strlen(kTrustedPrefix));
  std::vector<uint8_t> global_msg(sig.begin() + 10, sig.end());
  global_msg.insert(global_msg.end(), trusted.begin(), trusted.end());
  if (crypto_sign_verify_detached(global.data(), global_msg.data(), global_msg.size(),
                                  key.pk.data()) != 0) {
    out.reason = "the trusted comment was altered after signing";
    return out;
  }
  out.ok = true;
  out.trusted_comment = trusted;
  return out;
}

}  // namespace custodian::exports
