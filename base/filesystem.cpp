#include "base/filesystem.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>

namespace custodian {

namespace {

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override { (void)Close(); }

  Status Append(const void* data, size_t size) override {
    if (direct_) {
      const int flags = ::fcntl(fd_, F_GETFL);
      if (flags < 0 || ::fcntl(fd_, F_SETFL, flags & ~O_DIRECT) != 0) {
        return ErrnoStatus("fcntl " + path_, errno);
      }
      direct_ = false;
    }
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t n = ::write(fd_, p, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write " + path_, errno);
      }
      p += n;
      size -= static_cast<size_t>(n);
      size_ += static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }
  Status AppendCopyOf(int source_fd, uint64_t source_offset, const void* data,
                      size_t size) override {
    auto offset = static_cast<off64_t>(source_offset);
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::copy_file_range(source_fd, &offset, fd_, nullptr, size - done, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != ENOSPC && errno != EDQUOT && errno != EIO) {
        // Not supported between these files (another filesystem before Linux 5.19, a
        // special file): write the caller's copy of the bytes instead.
        break;
      }
      if (n < 0) return ErrnoStatus("copy_file_range to " + path_, errno);
      if (n == 0) break;  // the source is shorter than it was mapped: write the rest
      done += static_cast<size_t>(n);
      size_ += static_cast<uint64_t>(n);
    }
    return Append(static_cast<const char*>(data) + done, size - done);
  }
  Status AppendDirect(const void* data, size_t size) override {
    if (!direct_failed_ && size_ % kDirectWriteAlignment == 0 &&
        reinterpret_cast<uintptr_t>(data) % kDirectWriteAlignment == 0 &&
        size % kDirectWriteAlignment == 0) {
      if (!direct_) {
        const int flags = ::fcntl(fd_, F_GETFL);
        // A filesystem without O_DIRECT (tmpfs before Linux 6.6) refuses the flag: write
        // through the page cache instead.
        direct_ = flags >= 0 && ::fcntl(fd_, F_SETFL, flags | O_DIRECT) == 0;
        direct_failed_ = !direct_;
      }
      const char* p = static_cast<const char*>(data);
      while (direct_ && size > 0) {
        ssize_t n = ::write(fd_, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EINVAL && p == data) {
          direct_failed_ = true;  // refused at write time: fall back for the rest
          break;
        }
        if (n < 0) return ErrnoStatus("write " + path_, errno);
        p += n;
        size -= static_cast<size_t>(n);
        size_ += static_cast<uint64_t>(n);
      }
      if (size == 0) return Status::Ok();
      data = p;
    }
    return Append(data, size);
  }
  Status Sync() override {
    if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync " + path_, errno);
    return Status::Ok();
  }
  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return ErrnoStatus("close " + path_, errno);
    return Status::Ok();
  }
  uint64_t Size() const override { return size_; }
  void StartWriteback() override {
    if (fd_ >= 0) (void)::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
  }

 private:
  std::string path_;
  int fd_;
  uint64_t size_ = 0;
  bool direct_ = false;         // O_DIRECT is set on fd_
  bool direct_failed_ = false;  // the filesystem refused it: AppendDirect appends
};

class FaultyWritableFile final : public WritableFile {
 public:
  FaultyWritableFile(std::unique_ptr<WritableFile> base, FaultInjectingFilesystem& fs)
      : base_(std::move(base)), fs_(fs) {}
  Status Append(const void* data, size_t size) override {
    if (!fs_.ConsumeWriteBudget(size)) return ErrnoStatus("write (injected)", ENOSPC);
    return base_->Append(data, size);
  }
  Status AppendDirect(const void* data, size_t size) override {
    if (!fs_.ConsumeWriteBudget(size)) return ErrnoStatus("write (injected)", ENOSPC);
    return base_->AppendDirect(data, size);
  }
  Status AppendCopyOf(int source_fd, uint64_t source_offset, const void* data,
                      size_t size) override {
    if (!fs_.ConsumeWriteBudget(size)) return ErrnoStatus("write (injected)", ENOSPC);
    return base_->AppendCopyOf(source_fd, source_offset, data, size);
  }
  Status Sync() override { return base_->Sync(); }
  Status Close() override { return base_->Close(); }
  uint64_t Size() const override { return base_->Size(); }
  void StartWriteback() override { base_->StartWriteback(); }

 private:
  std::unique_ptr<WritableFile> base_;
  FaultInjectingFilesystem& fs_;
};

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }
  Result<size_t> Read(void* data, size_t size) override {
    for (;;) {
      ssize_t n = ::read(fd_, data, size);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return ErrnoStatus("read " + path_, errno);
    }
  }

 private:
  std::string path_;
  int fd_;
};

}  // namespace

Result<std::unique_ptr<SequentialFile>> PosixFilesystem::OpenSequential(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return IoError("open " + path + ": not a regular file");
  }
  return std::unique_ptr<SequentialFile>(new PosixSequentialFile(path, fd));
}

Result<std::string> ReadFileToString(Filesystem& fs, const std::string& path, uint64_t max_bytes) {
  auto f = fs.OpenSequential(path);
  if (!f.ok()) return f.status();
  std::string out;
  char buf[1 << 16];
  for (;;) {
    auto n = (*f)->Read(buf, sizeof buf);
    if (!n.ok()) return n.status();
    if (*n == 0) return out;
    if (out.size() + *n > max_bytes) {
      return ResourceExhausted(path + " is larger than " + std::to_string(max_bytes) +
                               " bytes, more than is read into memory");
    }
    out.append(buf, *n);
  }
}

namespace {

// Writes data into a new file at tmp with the given mode, synced and closed.
Status WriteSyncedTemporary(Filesystem& fs, const std::string& tmp, const std::string& data,
                            uint32_t mode) {
  auto f = fs.Create(tmp);
  if (!f.ok()) return f.status();
  // Before any byte is written: a leftover temporary keeps its old mode through O_TRUNC.
  Status st = mode == kDefaultFileMode ? Status::Ok() : fs.Chmod(tmp, mode);
  if (st.ok()) st = (*f)->Append(data.data(), data.size());
  if (st.ok()) st = (*f)->Sync();
  Status closed = (*f)->Close();
  if (st.ok()) st = closed;
  return st;
}

}  // namespace

Status WriteFileAtomically(Filesystem& fs, const std::string& path, const std::string& data,
                           uint32_t mode) {
  const std::string tmp = path + ".tmp";
  Status st = WriteSyncedTemporary(fs, tmp, data, mode);
  if (st.ok()) st = fs.Rename(tmp, path);  // fsyncs the directory
  if (!st.ok()) (void)fs.Unlink(tmp);      // a half-written temporary is never kept
  return st;
}

Status WriteNewFileAtomically(Filesystem& fs, const std::string& path, const std::string& data,
                              uint32_t mode) {
  // Unique to the call, so that two threads (or processes) racing to make the same file
  // never write into one temporary.
  static std::atomic<uint64_t> calls{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(calls.fetch_add(1));
  Status st = WriteSyncedTemporary(fs, tmp, data, mode);
  if (st.ok()) st = fs.Link(tmp, path);  // fsyncs the directory
  // Whatever happened: once linked, path is whole and the temporary only a second name.
  (void)fs.Unlink(tmp);
  return st;
}

std::string DirName(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  if (a.back() == '/') return b.front() == '/' ? a + b.substr(1) : a + b;
  return b.front() == '/' ? a + b : a + "/" + b;
}

Result<std::unique_ptr<WritableFile>> PosixFilesystem::Create(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd));
}

Status PosixFilesystem::CreateDirs(const std::string& path) {
  if (path.empty() || path == "/" || path == ".") return Status::Ok();
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return FailedPrecondition(path + " exists and is not a directory");
  }
  CUSTODIAN_RETURN_IF_ERROR(CreateDirs(DirName(path)));
  if (::mkdir(path.c_str(), 0750) != 0 && errno != EEXIST) return ErrnoStatus("mkdir " + path, errno);
  return SyncDir(DirName(path));
}

Status PosixFilesystem::SyncDir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open dir " + path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fsync dir " + path, err);
  return Status::Ok();
}

Status PosixFilesystem::Unlink(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return ErrnoStatus("unlink " + path, errno);
  return Status::Ok();
}

Status PosixFilesystem::RemoveDir(const std::string& path) {
  if (::rmdir(path.c_str()) != 0) return ErrnoStatus("rmdir " + path, errno);
  return Status::Ok();
}

Status PosixFilesystem::Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("rename " + from, errno);
  return SyncDir(DirName(to));
}

Status PosixFilesystem::Link(const std::string& from, const std::string& to) {
  if (::link(from.c_str(), to.c_str()) != 0) {
    if (errno == EEXIST) return AlreadyExists(to + " exists");
    return ErrnoStatus("link " + to, errno);
  }
  return SyncDir(DirName(to));
}

Status PosixFilesystem::Truncate(const std::string& path, uint64_t size) {
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0)
    return ErrnoStatus("truncate " + path, errno);
  return Status::Ok();
}

Status PosixFilesystem::Chmod(const std::string& path, uint32_t mode) {
  if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) {
    return ErrnoStatus("chmod " + path, errno);
  }
  return Status::Ok();
}

Result<uint64_t> PosixFilesystem::FileSize(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat " + path, errno);
  return static_cast<uint64_t>(st.st_size);
}

bool PosixFilesystem::Exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

Result<std::vector<DirEntry>> PosixFilesystem::List(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return ErrnoStatus("opendir " + dir, errno);
  std::vector<DirEntry> out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st{};
    if (::fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    out.push_back({name, S_ISDIR(st.st_mode), static_cast<uint64_t>(st.st_size)});
  }
  ::closedir(d);
  return out;
}

Result<DiskSpace> PosixFilesystem::Space(const std::string& path) {
  struct statvfs vfs{};
  if (::statvfs(path.c_str(), &vfs) != 0) return ErrnoStatus("statvfs " + path, errno);
  DiskSpace s;
  s.total_bytes = static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize;
  s.free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  return s;
}

PosixFilesystem& PosixFilesystem::Instance() {
  static PosixFilesystem fs;
  return fs;
}

Result<std::unique_ptr<WritableFile>> FaultInjectingFilesystem::Create(const std::string& path) {
  auto f = base_.Create(path);
  if (!f.ok()) return f.status();
  return std::unique_ptr<WritableFile>(new FaultyWritableFile(std::move(f).value(), *this));
}

Status FaultInjectingFilesystem::Unlink(const std::string& path) {
  if (fail_unlinks_) return ErrnoStatus("unlink " + path + " (injected)", EIO);
  return base_.Unlink(path);
}

Result<std::unique_ptr<SequentialFile>> FaultInjectingFilesystem::OpenSequential(
    const std::string& path) {
  if (fail_reads_) return ErrnoStatus("open " + path + " (injected)", EIO);
  return base_.OpenSequential(path);
}

Result<DiskSpace> FaultInjectingFilesystem::Space(const std::string& path) {
  {
    MutexLock l(mu_);
    if (space_.total_bytes > 0) return space_;
  }
  return base_.Space(path);
}

bool FaultInjectingFilesystem::ConsumeWriteBudget(size_t n) {
  int64_t budget = write_budget_.load();
  while (budget >= 0) {
    if (budget < static_cast<int64_t>(n)) return false;
    if (write_budget_.compare_exchange_weak(budget, budget - static_cast<int64_t>(n))) return true;
  }
  return true;
}

}  // namespace custodian
