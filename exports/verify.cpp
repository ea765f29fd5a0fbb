#include "exports/verify.h"

#include <filesystem>
#include <set>

#include "base/sha256.h"
#include "exports/manifest.h"

namespace custodian::exports {

namespace {

namespace stdfs = std::filesystem;

// The manifest, its signature and a public key are small; a package's larger one is not.
constexpr uint64_t kMaxManifestBytes = uint64_t{16} << 20;

// What is wrong with reading a package's file, for the report: "missing NAME" or "cannot
// read NAME: reason".
std::string ReadProblem(const std::string& name, const Status& st) {
  if (st.kind() == ErrorKind::kNotFound) return "missing " + name;
  return "cannot read " + name + ": " + st.message();
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
                                          const std::optional<PublicKey>& trusted_key,
                                          Filesystem& fs) {
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec)) return NotFound(dir + " is not a directory");
  PackageVerification v;
  auto manifest = ReadFileToString(fs, dir + "/" + kManifestName, kMaxManifestBytes);
  auto signature = ReadFileToString(fs, dir + "/" + kSignatureName, kMaxManifestBytes);
  if (!manifest.ok() || !signature.ok()) {
    v.problems.push_back(manifest.ok() ? ReadProblem(kSignatureName, signature.status())
                                       : ReadProblem(kManifestName, manifest.status()));
    return v;
  }

  std::optional<PublicKey> key = trusted_key;
  if (!key) {
    auto text = ReadFileToString(fs, dir + "/" + kPublicKeyName, kMaxManifestBytes);
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
    auto size = fs.FileSize(path);
    if (!size.ok()) {
      v.problems.push_back(size.status().kind() == ErrorKind::kNotFound
                               ? f.path + ": missing"
                               : f.path + ": cannot read: " + size.status().message());
      continue;
    }
    if (static_cast<int64_t>(*size) != f.bytes) {
      v.problems.push_back(f.path + ": " + std::to_string(*size) + " bytes, manifest says " +
                           std::to_string(f.bytes));
      continue;
    }
    auto digest = DigestFile(fs, path);
    if (!digest.ok()) {
      v.problems.push_back(f.path + ": cannot read: " + digest.status().message());
      continue;
    }
    if (digest->sha256 != f.sha256) {
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
