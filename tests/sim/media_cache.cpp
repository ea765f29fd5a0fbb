#include "tests/sim/media_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

#include "base/filesystem.h"

namespace custodian::sim {

namespace {

// Holds an exclusive flock for its lifetime.
class FileLock {
 public:
  static Result<std::unique_ptr<FileLock>> Acquire(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("open " + path, errno);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        int err = errno;
        ::close(fd);
        return ErrnoStatus("flock " + path, err);
      }
    }
    return std::unique_ptr<FileLock>(new FileLock(fd));
  }
  ~FileLock() { ::close(fd_); }  // closing releases the lock
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace

std::string DefaultMediaDir() {
  const char* env = std::getenv("CUSTODIAN_SIM_MEDIA_DIR");
  if (env && *env) return env;
  return CUSTODIAN_SIM_DEFAULT_MEDIA_DIR;
}

Result<std::string> EnsureCachedMedia(const MediaSpec& spec, const std::string& cache_dir,
                                      const MediaEncoder& encode) {
  CUSTODIAN_RETURN_IF_ERROR(ValidateMediaSpec(spec));
  Filesystem& fs = PosixFilesystem::Instance();
  std::string path = JoinPath(cache_dir, MediaFileName(spec));
  if (fs.Exists(path)) return path;

  CUSTODIAN_RETURN_IF_ERROR(fs.CreateDirs(cache_dir));
  auto lock = FileLock::Acquire(path + ".lock");
  if (!lock.ok()) return lock.status();
  if (fs.Exists(path)) return path;  // another process encoded it while we waited

  std::string partial = path + ".partial";
  Status encoded = encode(spec, partial);
  if (!encoded.ok()) {
    (void)fs.Unlink(partial);
    return encoded;
  }
  CUSTODIAN_RETURN_IF_ERROR(fs.Rename(partial, path));
  return path;
}

}  // namespace custodian::sim
