// PackageWriter: writes the files of one export package and hashes them on its own
// HashWorker ("export-hash-out"), so that every file's SHA-256 is of the bytes written,
// computed while the package is being written and never by reading it back.
//
// A file is opened, appended to, then closed: Append writes at once and stages the bytes for
// hashing; Commit hands what was staged to the hash worker as one item (a segment's output
// pieces together), optionally with a second stream hashed in the same pass. Bytes that lie
// in a source segment are copied by the kernel from its descriptor (AppendCopyOf), as `cp`
// copies, while the hash reads them from the mapping. The owner handed with the bytes
// (`keep`) is held until they are hashed.
//
// Durability: when `durable`, the kernel is asked to start writing back every 32 MB (on a
// thread of its own, WritebackWorker), and each file is fdatasynced once, at Close; SyncDirs
// then syncs every directory the writer created and the package directory. Digest(rel)
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

// One file of the package being written: appended through the Filesystem seam and hashed
// on the writer's HashWorker.
struct OutFile {
  std::string rel;
  std::unique_ptr<WritableFile> file;
  int stream = 0;
  int64_t bytes = 0;
  int64_t not_written_back = 0;  // appended since the last writeback hint
};

// A durable package is fsynced at the end; asking the kernel to start writing back every
// few tens of megabytes overlaps that disk work with the splicing instead of leaving it
// all for the final fsync.
inline constexpr int64_t kWritebackEvery = 32 << 20;

// Starts the kernel's writeback of output files on a thread of its own: the call blocks
// while the disk is busy, and the splice should go on meanwhile, so that the disk writes
// the package while it is being made rather than all at the final fsync.
class WritebackWorker {
 public:
  WritebackWorker();
  ~WritebackWorker();  // finishes what is pending, then joins
  WritebackWorker(const WritebackWorker&) = delete;
  WritebackWorker& operator=(const WritebackWorker&) = delete;
  void Submit(WritableFile* file);
  // Waits until no writeback is pending or running (before a file is closed).
  void Barrier();
  double cpu_seconds() const { return static_cast<double>(cpu_ns_.load()) / 1e9; }

 private:
  void Loop();

  Mutex mu_;
  std::condition_variable cv_;
  std::deque<WritableFile*> pending_ GUARDED_BY(mu_);
  bool busy_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::atomic<int64_t> cpu_ns_{0};
  std::thread thread_;
};

class PackageWriter {
 public:
  PackageWriter(Filesystem& fs, std::string dir, bool durable)
      : fs_(fs), dir_(std::move(dir)), durable_(durable) {}

  // Creates `rel` (and its directories) under the package directory.
  Result<OutFile> Open(const std::string& rel);
  // Writes now; the bytes are hashed with the next Commit (or Close), so that a segment's
  // output pieces go to the hash worker as one item. `keep` owns the bytes until then.
  Status Append(OutFile& f, std::shared_ptr<const void> keep, const uint8_t* data, size_t size);
  // The same for `size` bytes of a mapped source from `offset`: copied in the kernel.
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
  double writeback_cpu_seconds() const { return writeback_.cpu_seconds(); }

 private:
  // Appends through the seam: from the file `source_fd` at `source_offset` when it is
  // given (>= 0), else from `data`.
  Status Write(OutFile& f, const uint8_t* data, size_t size, int source_fd = -1,
               uint64_t source_offset = 0);
  void Stage(OutFile& f, std::shared_ptr<const void> keep, const uint8_t* data, size_t size);

  Filesystem& fs_;
  const std::string dir_;
  const bool durable_;
  HashWorker hasher_{"export-hash-out"};
  std::vector<HashRun> staged_runs_;                      // appended, not yet hashed
  std::vector<std::shared_ptr<const void>> staged_keep_;  // owners of their bytes
  WritebackWorker writeback_;
  std::set<std::string> dirs_;
  std::map<std::string, std::shared_future<std::string>> digests_;
  int64_t total_bytes_ = 0;
  BuildSteps steps_;
};

}  // namespace custodian::exports
