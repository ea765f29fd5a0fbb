#include "retention/export_files.h"

#include "base/sha256.h"

namespace custodian::retention {

namespace {

// Export packages are shallow (a manifest beside the footage files); the limit only stops
// a symlink loop or a mistaken path from recursing without end.
constexpr int kMaxDepth = 8;

void RemoveFile(Filesystem& fs, const std::string& path, RemovedFiles* out) {
  auto size = fs.FileSize(path);
  auto sha = Sha256File(path);
  Status st = fs.Unlink(path);
  if (st.kind() == ErrorKind::kNotFound) return;
  if (!st.ok()) {
    out->failures.push_back(st.ToString());
    return;
  }
  ++out->files;
  if (size.ok()) out->bytes += static_cast<int64_t>(*size);
  if (sha.ok()) out->sha256s.push_back(*sha);
}

// Returns whether dir and everything under it is gone.
bool RemoveTree(Filesystem& fs, const std::string& dir, int depth, RemovedFiles* out) {
  auto entries = fs.List(dir);
  if (!entries.ok()) {
    if (entries.status().kind() == ErrorKind::kNotFound) return true;
    out->failures.push_back(entries.status().ToString());
    return false;
  }
  bool emptied = true;
  for (const DirEntry& e : *entries) {
    const std::string path = JoinPath(dir, e.name);
    if (e.is_dir) {
      if (depth >= kMaxDepth) {
        out->failures.push_back(path + ": nested too deep to remove");
        emptied = false;
      } else {
        emptied = RemoveTree(fs, path, depth + 1, out) && emptied;
      }
    } else {
      const size_t failures = out->failures.size();
      RemoveFile(fs, path, out);
      emptied = emptied && out->failures.size() == failures;
    }
  }
  Status synced = fs.SyncDir(dir);
  if (!synced.ok()) {
    out->failures.push_back(synced.ToString());
    return false;
  }
  if (!emptied) return false;
  Status removed = fs.RemoveDir(dir);
  if (!removed.ok() && removed.kind() != ErrorKind::kNotFound) {
    out->failures.push_back(removed.ToString());
    return false;
  }
  return true;
}

}  // namespace

void RemoveExportFiles(Filesystem& fs, const std::string& abs_path, RemovedFiles* out) {
  if (!fs.Exists(abs_path)) return;
  auto listing = fs.List(abs_path);
  if (listing.ok()) {
    if (RemoveTree(fs, abs_path, 0, out)) {
      Status st = fs.SyncDir(DirName(abs_path));
      if (!st.ok()) out->failures.push_back(st.ToString());
    }
    return;
  }
  const size_t failures = out->failures.size();
  RemoveFile(fs, abs_path, out);
  if (out->failures.size() != failures) return;
  Status st = fs.SyncDir(DirName(abs_path));
  if (!st.ok()) out->failures.push_back(st.ToString());
}

}  // namespace custodian::retention
