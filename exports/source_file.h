// The builder's view of its source segments: each is mapped read-only, whole, and held open.
//
// The mapping is read in place (the kernel's page cache, populated at once): by the parse of
// its boxes, by the copy of its `mdat`s into the package writer's buffers (which are then
// hashed and written directly to the disk, package_writer.h), and by the source hash. A
// master file is copied whole by the kernel from the open descriptor
// (WritableFile::AppendCopyOf), as `cp` copies. Segments are complete and held while exported;
// nothing truncates a complete segment (recovery trims only `recording` ones), which a
// mapping needs, since reading a truncated mapping raises SIGBUS.
//
// InFlight bounds how many sources are mapped at once (until every hash of theirs has run),
// which bounds the mapped memory and keeps the reader from running far ahead of the hash
// workers. Thread-safe: slots are released by whichever thread drops the last reference.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <string>

#include "base/mutex.h"
#include "base/status.h"

namespace custodian::exports {

class MappedFile {
 public:
  // kIo-like errno statuses when the file cannot be opened, statted or mapped.
  static Result<std::unique_ptr<MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return data_ ? data_ : reinterpret_cast<const uint8_t*>(""); }
  size_t size() const { return size_; }
  // The open descriptor the mapping was made from, for copies in the kernel.
  int fd() const { return fd_; }

 private:
  MappedFile() = default;
  int fd_ = -1;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Asks the kernel to start reading a segment that will be mapped next, so that on a cold
// cache its reading overlaps the splicing of the one before (a hint; errors are ignored).
void Prefetch(const std::string& path);

// Bounds how many source segments are in flight (mapped, and still being hashed): Acquire
// blocks while `limit` are out.
class InFlight {
 public:
  explicit InFlight(int limit) : free_(limit), limit_(limit) {}
  // The returned token releases its slot when the last copy goes.
  std::shared_ptr<void> Acquire();
  // Waits until every slot has been released.
  void Drain();

 private:
  Mutex mu_;
  std::condition_variable cv_;
  int free_ GUARDED_BY(mu_);
  const int limit_;
};

// A mapped source together with its in-flight slot.
struct Source {
  std::unique_ptr<MappedFile> file;
  std::shared_ptr<void> slot;
  const uint8_t* data() const { return file->data(); }
  size_t size() const { return file->size(); }
  int fd() const { return file->fd(); }
};
using SharedBuffer = std::shared_ptr<const Source>;

}  // namespace custodian::exports
