#include "api/package_tar.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace custodian::api {

namespace {

constexpr size_t kBlock = 512;
constexpr size_t kCopyBuffer = 1 << 20;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// An octal field of width bytes (width - 1 digits and a NUL); sizes that do not fit use
// GNU's base-256 form.
void Number(char* field, size_t width, uint64_t v) {
  const uint64_t max_octal = (uint64_t{1} << (3 * (width - 1))) - 1;
  if (v <= max_octal) {
    std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1),
                  static_cast<unsigned long long>(v));
    return;
  }
  std::memset(field, 0, width);
  field[0] = static_cast<char>(0x80);
  for (size_t i = width - 1; i > 0 && v > 0; --i, v >>= 8) {
    field[i] = static_cast<char>(v & 0xff);
  }
}

Result<std::array<char, kBlock>> Header(const std::string& name, bool dir, uint64_t size,
                                        int64_t mtime) {
  std::array<char, kBlock> h{};
  std::string prefix, base = name;
  if (base.size() > 100) {  // split at a '/' into prefix (155) and name (100)
    bool split = false;
    for (size_t cut = name.find('/'); cut != std::string::npos && cut <= 155;
         cut = name.find('/', cut + 1)) {
      if (name.size() - cut - 1 <= 100) {
        prefix = name.substr(0, cut);
        base = name.substr(cut + 1);
        split = true;
        break;
      }
    }
    if (!split) return InvalidArgument("path too long for a tar entry: " + name);
  }
  std::memcpy(&h[0], base.data(), base.size());
  Number(&h[100], 8, dir ? 0755 : 0644);
  Number(&h[108], 8, 0);
  Number(&h[116], 8, 0);
  Number(&h[124], 12, dir ? 0 : size);
  Number(&h[136], 12, static_cast<uint64_t>(std::max<int64_t>(mtime, 0)));
  h[156] = dir ? '5' : '0';
  std::memcpy(&h[257], "ustar", 6);
  std::memcpy(&h[263], "00", 2);
  std::memcpy(&h[265], "custodian", 9);
  std::memcpy(&h[297], "custodian", 9);
  std::memcpy(&h[345], prefix.data(), prefix.size());
  std::memset(&h[148], ' ', 8);
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  std::snprintf(&h[148], 8, "%06o", sum);
  h[155] = ' ';
  return h;
}

Result<std::vector<std::string>> SortedNames(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return ErrnoStatus("open directory " + dir, errno);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      names.emplace_back(e->d_name);
    }
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// The package's files are read with O_NOFOLLOW, which the Filesystem seam's open does not
// offer: a link swapped in after AddTree's lstat is refused, not followed.
Status CopyFile(WritableFile& out, const std::string& path, uint64_t size, std::vector<char>& buf) {
  Fd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (in.get() < 0) return ErrnoStatus("open " + path, errno);
  uint64_t left = size;
  while (left > 0) {
    ssize_t n = ::read(in.get(), buf.data(), std::min<uint64_t>(buf.size(), left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read " + path, errno);
    if (n == 0) return DataLoss(path + " became shorter while it was archived");
    CUSTODIAN_RETURN_IF_ERROR(out.Append(buf.data(), static_cast<size_t>(n)));
    left -= static_cast<uint64_t>(n);
  }
  const size_t pad = (kBlock - size % kBlock) % kBlock;
  static const char kZeros[kBlock] = {};
  return out.Append(kZeros, pad);
}

Status AddTree(WritableFile& out, const std::string& dir, const std::string& name,
               std::vector<char>& buf) {
  auto names = SortedNames(dir);
  if (!names.ok()) return names.status();
  for (const std::string& child : *names) {
    const std::string path = dir + "/" + child, entry = name + "/" + child;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return ErrnoStatus("stat " + path, errno);
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
      return FailedPrecondition(path + " is neither a file nor a directory");
    }
    const bool is_dir = S_ISDIR(st.st_mode);
    auto h = Header(is_dir ? entry + "/" : entry, is_dir, static_cast<uint64_t>(st.st_size),
                    st.st_mtim.tv_sec);
    if (!h.ok()) return h.status();
    CUSTODIAN_RETURN_IF_ERROR(out.Append(h->data(), h->size()));
    if (is_dir) {
      CUSTODIAN_RETURN_IF_ERROR(AddTree(out, path, entry, buf));
    } else {
      CUSTODIAN_RETURN_IF_ERROR(CopyFile(out, path, static_cast<uint64_t>(st.st_size), buf));
    }
  }
  return Status::Ok();
}

}  // namespace

Status WritePackageTar(const std::string& package_dir, const std::string& top_name,
                       const std::string& tar_path, Filesystem& fs) {
  const std::string partial = tar_path + ".partial";
  // A leftover (or a link planted under the name) is removed rather than written through.
  Status cleared = fs.Unlink(partial);
  if (!cleared.ok() && cleared.kind() != ErrorKind::kNotFound) return cleared;
  auto out = fs.Create(partial);
  if (!out.ok()) return out.status();
  std::vector<char> buf(kCopyBuffer);
  Status st = [&]() -> Status {
    auto h = Header(top_name + "/", true, 0, 0);
    if (!h.ok()) return h.status();
    CUSTODIAN_RETURN_IF_ERROR((*out)->Append(h->data(), h->size()));
    CUSTODIAN_RETURN_IF_ERROR(AddTree(**out, package_dir, top_name, buf));
    static const char kEnd[2 * kBlock] = {};
    CUSTODIAN_RETURN_IF_ERROR((*out)->Append(kEnd, sizeof kEnd));
    CUSTODIAN_RETURN_IF_ERROR((*out)->Sync());
    CUSTODIAN_RETURN_IF_ERROR((*out)->Close());
    return fs.Rename(partial, tar_path);  // fsyncs the directory
  }();
  if (!st.ok()) {
    (void)(*out)->Close();
    (void)fs.Unlink(partial);
  }
  return st;
}

}  // namespace custodian::api
