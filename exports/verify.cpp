#include "exports/verify.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "base/sha256.h"
#include "exports/manifest.h"

namespace custodian::exports {

namespace {

namespace stdfs = std::filesystem;

Result<std::string> Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A manifest path must stay inside the package.
bool SafeRelative(const std::string& p) {
  if (p.empty() || p[0] == '/') return false;
  for (const auto& part : stdfs::path(p)) {
    if (part == "..") return false;
  }
  return true;
}

}  // namespace

Result<PackageVerification> VerifyPackage(const std::string& dir,
                                          const std::optional<PublicKey>& trusted_key) {
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec)) return NotFound(dir + " is not a directory");
  PackageVerification v;
  auto manifest = Slurp(dir + "/" + kManifestName);
  auto signature = Slurp(dir + "/" + kSignatureName);
  if (!manifest.ok() || !signature.ok()) {
    v.problems.push_back(std::string("missing ") +
                         (manifest.ok() ? kSignatureName : kManifestName));
    return v;
  }

  std::optional<PublicKey> key = trusted_key;
  if (!key) {
    auto text = Slurp(dir + "/" + kPublicKeyName);
    auto parsed = text.ok() ? ParsePublicKey(*text) : Result<PublicKey>(text.status());
    if (!parsed.ok()) {
      v.problems.push_back("no public key given and none readable in the package");
      return v;
    }
    key = *parsed;
    v.key_from_package = true;
    v.warnings.push_back("checked against the public key inside the package: compare key id " +
                         key->KeyIdHex() + " with the one the charity published");
  }
  v.key_id = key->KeyIdHex();
  SignatureCheck sig = VerifyMinisign(*key, *manifest, *signature);
  v.signature_ok = sig.ok;
  v.trusted_comment = sig.trusted_comment;
  if (!sig.ok) v.problems.push_back("signature: " + sig.reason);

  auto summary = ParseManifest(*manifest);
  if (!summary.ok()) {
    v.problems.push_back(summary.status().message());
    return v;
  }
  v.reference = summary->reference;
  v.created_utc = summary->created_utc;
  std::set<std::string> listed = {kManifestName, kSignatureName};
  for (const ManifestFile& f : summary->files) {
    listed.insert(f.path);
    if (!SafeRelative(f.path)) {
      v.problems.push_back(f.path + ": path leaves the package");
      continue;
    }
    const std::string path = dir + "/" + f.path;
    std::error_code size_ec;
    const auto size = stdfs::file_size(path, size_ec);
    if (size_ec) {
      v.problems.push_back(f.path + ": missing");
      continue;
    }
    if (static_cast<int64_t>(size) != f.bytes) {
      v.problems.push_back(f.path + ": " + std::to_string(size) + " bytes, manifest says " +
                           std::to_string(f.bytes));
      continue;
    }
    auto digest = Sha256File(path);
    if (!digest.ok()) {
      v.problems.push_back(f.path + ": " + digest.status().message());
      continue;
    }
    if (*digest != f.sha256) {
      v.problems.push_back(f.path + ": SHA-256 does not match the manifest (altered)");
      continue;
    }
    ++v.files_checked;
    v.bytes_checked += f.bytes;
  }
  for (auto it = stdfs::recursive_directory_iterator(dir, ec);
       !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string rel = stdfs::relative(it->path(), dir).generic_string();
    if (!listed.count(rel)) v.warnings.push_back(rel + ": not listed in the manifest, not checked");
  }
  v.ok = v.problems.empty();
  return v;
}

}  // namespace custodian::exports
