#include "exports/source_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace custodian::exports {

Result<std::unique_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  std::unique_ptr<MappedFile> m(new MappedFile());
  m->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (m->fd_ < 0) return ErrnoStatus("open " + path, errno);
  struct stat st {};
  if (::fstat(m->fd_, &st) != 0) return ErrnoStatus("stat " + path, errno);
  m->size_ = static_cast<size_t>(st.st_size);
  if (m->size_ > 0) {
    void* p = ::mmap(nullptr, m->size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, m->fd_, 0);
    if (p == MAP_FAILED) return ErrnoStatus("mmap " + path, errno);
    m->data_ = static_cast<const uint8_t*>(p);
    ::madvise(p, m->size_, MADV_SEQUENTIAL);
  }
  return m;
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
}

void Prefetch(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
  ::close(fd);
}

std::shared_ptr<void> InFlight::Acquire() {
  MutexLock lock(mu_);
  lock.Wait(cv_, [this]() REQUIRES(mu_) { return free_ > 0; });
  --free_;
  return std::shared_ptr<void>(nullptr, [this](void*) {
    MutexLock l(mu_);
    ++free_;
    cv_.notify_all();
  });
}

void InFlight::Drain() {
  MutexLock lock(mu_);
  lock.Wait(cv_, [this]() REQUIRES(mu_) { return free_ == limit_; });
}

}  // namespace custodian::exports
