// PackageWriter: writes the files of one export package and hashes them on its own
// HashWorker ("export-hash-out"), so that every file's SHA-256 is of the bytes written,
// computed while the package is being written and never by reading it back.
//
// A file is opened, appended to, then closed. Append copies the bytes into one of the
// writer's page-aligned buffers (the bulk of them straight from a mapped source segment,
// AppendFromSource) and stages that copy for hashing; Commit hands what was staged to the
// hash worker as one item, optionally with a second stream hashed in the same pass (a source
// segment's bytes beside the output that holds them). A full buffer goes to the file thread,
// which writes it to the disk with O_DIRECT (WritableFile::AppendDirect): the output's bytes
// are copied once, by us, into a buffer that is then hashed and written from, and never into
// the page cache, whose page-by-page copy costs more CPU on a virtual machine than the copy,
// the hash and the direct write together. A buffer returns to the pool once both its write
// and its hash have run; Append blocks while none is free (committing what is staged first,
// so that the hash worker can free some), which bounds the memory. A write error (the disk
// full, say) is returned by the next Append or by Close.
//
// Durability: when `durable`, each file is fdatasynced once, at Close (the direct writes are
// on the disk already; the sync makes the size and block map so, and the buffered tail);
// SyncDirs then syncs every directory the writer created and the package directory. A master
// file (AppendUnhashed) is copied by the kernel from the source's descriptor (copy_file_range,
// as `cp` does), and its writeback is started every 32 MB on the file thread. Digest(rel)
// returns a closed file's SHA-256 once hashed. Errors are those of the Filesystem seam.
//
// Not thread-safe: one building thread uses a writer; the workers are its own.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/filesystem.h"
#include "base/mutex.h"
#include "exports/builder.h"
#include "exports/hash_worker.h"
#include "exports/source_file.h"

namespace custodian::exports {

// The pool of page-aligned buffers the writer copies into (kDirectWriteAlignment): `count`
// of `bytes` each, allocated on first use. Acquire blocks while every buffer is out; a
// buffer comes back when the last reference to it goes (after its hash and its write).
// Thread-safe. Must outlive every buffer it hands out.
class BufferPool {
 public:
  BufferPool(size_t count, size_t bytes) : bytes_(bytes), left_to_allocate_(count) {}
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;
  std::shared_ptr<uint8_t> Acquire();
  // Whether Acquire would return at once.
  bool Available();
  size_t bytes() const { return bytes_; }

 private:
  const size_t bytes_;
  Mutex mu_;
  std::condition_variable cv_;
  std::vector<uint8_t*> free_ GUARDED_BY(mu_);
  size_t left_to_allocate_ GUARDED_BY(mu_);
  std::vector<uint8_t*> all_ GUARDED_BY(mu_);
};

// One file of the package being written: appended through the Filesystem seam and hashed
// on the writer's HashWorker.
struct OutFile {
  std::string rel;
  std::shared_ptr<WritableFile> file;  // shared with the file thread's pending writes
  int stream = 0;
  int64_t bytes = 0;
  int64_t not_written_back = 0;     // copied in the kernel since the last writeback hint
  std::shared_ptr<uint8_t> buffer;  // being filled; `filled` bytes so far
  size_t filled = 0;
};

// Buffer size and count: a write of 8 MB keeps the disk busy (one at a time, O_DIRECT wrote
// 1.3 GB/s here), and six of them let the copy run ahead of the hash and the disk.
inline constexpr size_t kBufferBytes = 8 << 20;
inline constexpr size_t kBufferCount = 6;

// A master file is copied in the kernel into the page cache; asking the kernel to start
// writing it back every few tens of megabytes overlaps that disk work with the splicing
// instead of leaving it all for the final fsync.
inline constexpr int64_t kWritebackEvery = 32 << 20;

// The file thread: writes full buffers with O_DIRECT and starts the kernel's writeback of
// master files, in the order submitted, while the splice goes on. The first error is kept:
// Barrier and error() return it.
class FileWorker {
 public:
  FileWorker();
  ~FileWorker();  // finishes what is pending, then joins
  FileWorker(const FileWorker&) = delete;
  FileWorker& operator=(const FileWorker&) = delete;
  // Appends `size` bytes of `buffer` to `file`: directly its whole pages, the rest (the
  // tail of a file) through the page cache.
  void Write(std::shared_ptr<WritableFile> file, std::shared_ptr<uint8_t> buffer, size_t size);
  void StartWriteback(std::shared_ptr<WritableFile> file);
  // Waits until nothing is pending or running (before a file is closed).
  Status Barrier();
  Status error();
  double cpu_seconds() const { return static_cast<double>(cpu_ns_.load()) / 1e9; }

 private:
  struct Task {
    std::shared_ptr<WritableFile> file;
    std::shared_ptr<uint8_t> buffer;  // null: a writeback hint
    size_t size;
  };
  void Loop();

  Mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> pending_ GUARDED_BY(mu_);
  bool busy_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  Status error_ GUARDED_BY(mu_);
  std::atomic<int64_t> cpu_ns_{0};
  std::thread thread_;
};

class PackageWriter {
 public:
  // `buffer_bytes` (a multiple of kDirectWriteAlignment) and `buffer_count` (at least 2)
  // are for tests that cross buffers with small files.
  PackageWriter(Filesystem& fs, std::string dir, bool durable, size_t buffer_bytes = kBufferBytes,
                size_t buffer_count = kBufferCount)
      : fs_(fs), dir_(std::move(dir)), durable_(durable), buffers_(buffer_count, buffer_bytes) {}

  // Creates `rel` (and its directories) under the package directory.
  Result<OutFile> Open(const std::string& rel);
  // Copies the bytes into the file's buffer (written when it fills, or at Close); they are
  // hashed from there with the next Commit (or Close), so that a segment's output pieces go
  // to the hash worker as one item.
  Status Append(OutFile& f, const uint8_t* data, size_t size);
  // The same for `size` bytes of a mapped source from `offset`.
  Status AppendFromSource(OutFile& f, const SharedBuffer& source, size_t offset, size_t size);
  // Hands the bytes appended since the last commit to the hash worker, with `alongside`
  // (a source segment, owned by `keep`) hashed in the same pass.
  void Commit(HashRun alongside = {}, std::shared_ptr<const void> keep = nullptr);
  HashWorker& hasher() { return hasher_; }
  // For a file whose bytes are already being hashed elsewhere (an original segment, whose
  // digest the source check computes anyway): the whole source, copied in the kernel, not
  // hashed again.
  Status AppendUnhashed(OutFile& f, const Source& source);
  // Closes the file (after its fdatasync when durable); the digest arrives later
  // (Digest(rel)), from this writer's hashing or from `digest` when given.
  Status Close(OutFile& f, std::optional<std::shared_future<std::string>> digest = {});
  // Writes a small file whole.
  Status WriteSmall(const std::string& rel, const std::string& text);
  // A closed file's SHA-256 (lowercase hex), waiting for its hash if need be.
  std::string Digest(const std::string& rel);
  Status SyncDirs();
  int64_t total_bytes() const { return total_bytes_; }
  const std::string& dir() const { return dir_; }
  BuildSteps& steps() { return steps_; }
  double file_thread_cpu_seconds() const { return file_worker_.cpu_seconds(); }

 private:
  void Stage(OutFile& f, std::shared_ptr<const void> keep, const uint8_t* data, size_t size);
  // Hands the file's buffer, `filled` bytes of it, to the file thread.
  void WriteBuffer(OutFile& f);

  Filesystem& fs_;
  const std::string dir_;
  const bool durable_;
  BufferPool buffers_;  // outlives the workers that hold its buffers
  HashWorker hasher_{"export-hash-out"};
  std::vector<HashRun> staged_runs_;                      // appended, not yet hashed
  std::vector<std::shared_ptr<const void>> staged_keep_;  // owners of their bytes
  FileWorker file_worker_;
  std::set<std::string> dirs_;
  std::map<std::string, std::shared_future<std::string>> digests_;
  int64_t total_bytes_ = 0;
  BuildSteps steps_;
};

}  // namespace custodian::exports
