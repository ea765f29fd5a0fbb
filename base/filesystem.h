// Filesystem: the injectable seam for every file operation on footage, exports, keys and
// the site's own files: writes and reads alike, so that a test can fail either.
//
// Production code uses PosixFilesystem. Tests wrap it in FaultInjectingFilesystem to fail a
// write or a read, pretend the disk is full or report a chosen amount of free space. All
// calls are thread-safe; a WritableFile or SequentialFile is used by one thread at a time.
//
// Whole-file helpers over the seam: ReadFileToString (bounded), WriteFileAtomically (a
// temporary name, fsync, rename, fsync of the directory: the file is either the old one or
// the new one after a crash) and WriteNewFileAtomically (the same with link(2) in place of
// rename: a file that must never be replaced, as a key or a backup, is whole or absent).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"

namespace custodian {

// Alignment of AppendDirect's buffers, sizes and offsets: a page, which covers the logical
// block size of every disk in use (512 or 4096 bytes).
inline constexpr size_t kDirectWriteAlignment = 4096;

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(const void* data, size_t size) = 0;
  // Appends the same bytes as Append(data, size), where they are the bytes of the file open
  // as `source_fd` at `source_offset` (mapped, typically): a file that can copies them in
  // the kernel (copy_file_range), page cache to page cache as `cp` does, rather than
  // through this process's memory, which costs several times the CPU. By default, Append.
  virtual Status AppendCopyOf(int source_fd, uint64_t source_offset, const void* data,
                              size_t size) {
    (void)source_fd;
    (void)source_offset;
    return Append(data, size);
  }
  // Appends the same bytes as Append(data, size), where `data` is aligned to
  // kDirectWriteAlignment and `size` and the file's current size are multiples of it: a file
  // that can writes them straight to the disk (O_DIRECT), without copying them into the page
  // cache, which on a virtual machine costs more CPU than hashing them. The bytes are on the
  // disk when it returns, but the file's size and block map need Sync() as ever. By default,
  // Append.
  virtual Status AppendDirect(const void* data, size_t size) { return Append(data, size); }
  virtual Status Sync() = 0;   // fdatasync-equivalent durability of the data written so far
  virtual Status Close() = 0;  // idempotent
  virtual uint64_t Size() const = 0;
  // Asks the kernel to start writing back what has been appended so far, so that a later
  // Sync() of a large file has little left to do. A hint; by default none. Unlike the other
  // calls it may run on another thread while Append runs (it may block while the disk is
  // busy), but never concurrently with Close.
  virtual void StartWriteback() {}
};

class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to size bytes into data; 0 at the end of the file.
  virtual Result<size_t> Read(void* data, size_t size) = 0;
};

struct DiskSpace {
  uint64_t total_bytes = 0;
  uint64_t free_bytes = 0;  // available to unprivileged writers
  double UsedFraction() const {
    return total_bytes == 0 ? 0.0 : 1.0 - static_cast<double>(free_bytes) / total_bytes;
  }
};

struct DirEntry {
  std::string name;
  bool is_dir = false;
  uint64_t size = 0;
};

class Filesystem {
 public:
  virtual ~Filesystem() = default;
  // Creates (truncating) a file for writing; mode 0640.
  virtual Result<std::unique_ptr<WritableFile>> Create(const std::string& path) = 0;
  // mkdir -p with mode 0750; fsyncs each directory whose entry it created.
  virtual Status CreateDirs(const std::string& path) = 0;
  virtual Status SyncDir(const std::string& path) = 0;
  virtual Status Unlink(const std::string& path) = 0;
  // rmdir(2): removes an empty directory (kIo with ENOTEMPTY otherwise).
  virtual Status RemoveDir(const std::string& path) = 0;
  // rename(2) followed by an fsync of the destination's directory.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // link(2) followed by an fsync of the new name's directory: `to` names the file `from`
  // too. kAlreadyExists when `to` exists, which is never replaced.
  virtual Status Link(const std::string& from, const std::string& to) = 0;
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  // chmod(2): for a file that must be private (0600) before anything is written to it.
  virtual Status Chmod(const std::string& path, uint32_t mode) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  virtual bool Exists(const std::string& path) = 0;
  virtual Result<std::vector<DirEntry>> List(const std::string& dir) = 0;
  virtual Result<DiskSpace> Space(const std::string& path) = 0;
  // Opens a regular file for reading from its start (kNotFound when missing).
  virtual Result<std::unique_ptr<SequentialFile>> OpenSequential(const std::string& path) = 0;
};

class PosixFilesystem final : public Filesystem {
 public:
  Result<std::unique_ptr<WritableFile>> Create(const std::string& path) override;
  Status CreateDirs(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Status Unlink(const std::string& path) override;
  Status RemoveDir(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Link(const std::string& from, const std::string& to) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status Chmod(const std::string& path, uint32_t mode) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  bool Exists(const std::string& path) override;
  Result<std::vector<DirEntry>> List(const std::string& dir) override;
  Result<DiskSpace> Space(const std::string& path) override;
  Result<std::unique_ptr<SequentialFile>> OpenSequential(const std::string& path) override;
  static PosixFilesystem& Instance();
};

// Forwards every call to another Filesystem. Tests derive from it to change one call (fail
// it, hold it, watch it) and leave the rest real.
class ForwardingFilesystem : public Filesystem {
 public:
  explicit ForwardingFilesystem(Filesystem& base) : base_(base) {}

  Result<std::unique_ptr<WritableFile>> Create(const std::string& path) override {
    return base_.Create(path);
  }
  Status CreateDirs(const std::string& path) override { return base_.CreateDirs(path); }
  Status SyncDir(const std::string& path) override { return base_.SyncDir(path); }
  Status Unlink(const std::string& path) override { return base_.Unlink(path); }
  Status RemoveDir(const std::string& path) override { return base_.RemoveDir(path); }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_.Rename(from, to);
  }
  Status Link(const std::string& from, const std::string& to) override {
    return base_.Link(from, to);
  }
  Status Truncate(const std::string& path, uint64_t size) override {
    return base_.Truncate(path, size);
  }
  Status Chmod(const std::string& path, uint32_t mode) override { return base_.Chmod(path, mode); }
  Result<uint64_t> FileSize(const std::string& path) override { return base_.FileSize(path); }
  bool Exists(const std::string& path) override { return base_.Exists(path); }
  Result<std::vector<DirEntry>> List(const std::string& dir) override { return base_.List(dir); }
  Result<DiskSpace> Space(const std::string& path) override { return base_.Space(path); }
  Result<std::unique_ptr<SequentialFile>> OpenSequential(const std::string& path) override {
    return base_.OpenSequential(path);
  }

 protected:
  Filesystem& base_;
};

// Wraps another Filesystem and injects faults for tests. Faults apply to every file
// created after they are set.
class FaultInjectingFilesystem final : public ForwardingFilesystem {
 public:
  explicit FaultInjectingFilesystem(Filesystem& base) : ForwardingFilesystem(base) {}

  // Appends fail with ENOSPC once this many more bytes have been written (in total,
  // across all files). Negative disables.
  void FailWritesAfter(int64_t bytes) { write_budget_ = bytes; }
  // Unlink of any path fails with EIO while set.
  void FailUnlinks(bool fail) { fail_unlinks_ = fail; }
  // Opening a file for reading fails with EIO while set.
  void FailReads(bool fail) { fail_reads_ = fail; }
  // Space() reports these figures instead of the real ones while total_bytes > 0.
  void SetSpace(DiskSpace s) {
    MutexLock l(mu_);
    space_ = s;
  }

  Result<std::unique_ptr<WritableFile>> Create(const std::string& path) override;
  Status Unlink(const std::string& path) override;
  Result<DiskSpace> Space(const std::string& path) override;
  Result<std::unique_ptr<SequentialFile>> OpenSequential(const std::string& path) override;

  // Used by the files this creates.
  bool ConsumeWriteBudget(size_t n);

 private:
  std::atomic<int64_t> write_budget_{-1};
  std::atomic<bool> fail_unlinks_{false};
  std::atomic<bool> fail_reads_{false};
  Mutex mu_;
  DiskSpace space_ GUARDED_BY(mu_);
};

// The whole of a file, read through fs: kResourceExhausted when it is larger than
// max_bytes (what a caller expects to hold in memory), kNotFound when it is missing.
Result<std::string> ReadFileToString(Filesystem& fs, const std::string& path,
                                     uint64_t max_bytes = uint64_t{64} << 20);
// The mode Filesystem::Create gives a new file.
inline constexpr uint32_t kDefaultFileMode = 0640;

// Replaces path with data durably: writes path + ".tmp" (given `mode` before anything is
// written to it), syncs it, renames it over path and syncs the directory. On failure path
// is unchanged and the temporary is removed (unless the removal fails too).
Status WriteFileAtomically(Filesystem& fs, const std::string& path, const std::string& data,
                           uint32_t mode = kDefaultFileMode);
// Creates path with data durably, never replacing a file: writes a temporary beside it
// (path + ".tmp." + the process id and a count, given `mode` before anything is written),
// syncs it, links it as path, syncs the directory and removes the temporary. kAlreadyExists
// when path exists (another writer won: its file is kept). On failure path is absent, or another
// writer's whole file, and the temporary is removed (unless the removal fails too).
Status WriteNewFileAtomically(Filesystem& fs, const std::string& path, const std::string& data,
                              uint32_t mode = kDefaultFileMode);

// Directory part of a path ("a/b/c.mp4" -> "a/b"; "c.mp4" -> ".").
std::string DirName(const std::string& path);
// Joins path parts with single slashes.
std::string JoinPath(const std::string& a, const std::string& b);

}  // namespace custodian
