#include "exports/package_writer.h"

#include <pthread.h>

#include <cstdlib>
#include <cstring>

#include "exports/step_timer.h"

namespace custodian::exports {

BufferPool::~BufferPool() {
  MutexLock lock(mu_);
  for (uint8_t* p : all_) std::free(p);
}

std::shared_ptr<uint8_t> BufferPool::Acquire() {
  uint8_t* p = nullptr;
  {
    MutexLock lock(mu_);
    lock.Wait(cv_, [this]() REQUIRES(mu_) { return !free_.empty() || left_to_allocate_ > 0; });
    if (!free_.empty()) {
      p = free_.back();
      free_.pop_back();
    } else {
      p = static_cast<uint8_t*>(std::aligned_alloc(kDirectWriteAlignment, bytes_));
      if (!p) throw std::bad_alloc();
      --left_to_allocate_;
      all_.push_back(p);
    }
  }
  return std::shared_ptr<uint8_t>(p, [this](uint8_t* q) {
    MutexLock lock(mu_);
    free_.push_back(q);
    cv_.notify_all();
  });
}

bool BufferPool::Available() {
  MutexLock lock(mu_);
  return !free_.empty() || left_to_allocate_ > 0;
}

FileWorker::FileWorker() : thread_([this] { Loop(); }) {
  pthread_setname_np(thread_.native_handle(), "export-files");
}

FileWorker::~FileWorker() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void FileWorker::Write(std::shared_ptr<WritableFile> file, std::shared_ptr<uint8_t> buffer,
                       size_t size) {
  MutexLock lock(mu_);
  pending_.push_back(Task{std::move(file), std::move(buffer), size});
  cv_.notify_all();
}

void FileWorker::StartWriteback(std::shared_ptr<WritableFile> file) {
  MutexLock lock(mu_);
  if (pending_.empty() || pending_.back().file != file || pending_.back().buffer) {
    pending_.push_back(Task{std::move(file), nullptr, 0});
  }
  cv_.notify_all();
}

Status FileWorker::Barrier() {
  MutexLock lock(mu_);
  lock.Wait(cv_, [this]() REQUIRES(mu_) { return pending_.empty() && !busy_; });
  return error_;
}

Status FileWorker::error() {
  MutexLock lock(mu_);
  return error_;
}

void FileWorker::Loop() {
  MutexLock lock(mu_);
  for (;;) {
    lock.Wait(cv_, [this]() REQUIRES(mu_) { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) return;
    Task task = std::move(pending_.front());
    pending_.pop_front();
    busy_ = true;
    // After an error the file is abandoned: later writes to it are dropped.
    const bool failed = !error_.ok();
    lock.Unlock();
    const int64_t before = ThreadCpuNanos();
    Status st = Status::Ok();
    if (!task.buffer) {
      task.file->StartWriteback();
    } else if (!failed) {
      const size_t whole = task.size / kDirectWriteAlignment * kDirectWriteAlignment;
      st = task.file->AppendDirect(task.buffer.get(), whole);
      if (st.ok() && whole < task.size) {
        st = task.file->Append(task.buffer.get() + whole, task.size - whole);
      }
    }
    task.buffer.reset();  // back to the pool, unless its hash is still to run
    task.file.reset();
    cpu_ns_ += ThreadCpuNanos() - before;
    lock.Lock();
    if (!st.ok() && error_.ok()) error_ = st;
    busy_ = false;
    cv_.notify_all();
  }
}

Result<OutFile> PackageWriter::Open(const std::string& rel) {
  const std::string abs = JoinPath(dir_, rel);
  const std::string parent = DirName(abs);
  if (dirs_.insert(parent).second) CUSTODIAN_RETURN_IF_ERROR(fs_.CreateDirs(parent));
  auto file = fs_.Create(abs);
  if (!file.ok()) return file.status();
  OutFile out;
  out.rel = rel;
  out.file = std::move(file).value();
  out.stream = hasher_.Begin();
  return out;
}

Status PackageWriter::Append(OutFile& f, const uint8_t* data, size_t size) {
  CUSTODIAN_RETURN_IF_ERROR(file_worker_.error());
  while (size > 0) {
    if (!f.buffer) {
      // Every buffer out: let the hash worker have what is staged, so that it frees some.
      if (!buffers_.Available()) Commit();
      f.buffer = buffers_.Acquire();
      f.filled = 0;
    }
    const size_t n = std::min(size, buffers_.bytes() - f.filled);
    uint8_t* to = f.buffer.get() + f.filled;
    {
      StepTimer timer(steps_.write);
      std::memcpy(to, data, n);
    }
    Stage(f, f.buffer, to, n);
    f.filled += n;
    data += n;
    size -= n;
    f.bytes += static_cast<int64_t>(n);
    total_bytes_ += static_cast<int64_t>(n);
    if (f.filled == buffers_.bytes()) WriteBuffer(f);
  }
  return Status::Ok();
}

Status PackageWriter::AppendFromSource(OutFile& f, const SharedBuffer& source, size_t offset,
                                       size_t size) {
  return Append(f, source->data() + offset, size);
}

void PackageWriter::WriteBuffer(OutFile& f) {
  if (f.buffer && f.filled > 0) file_worker_.Write(f.file, std::move(f.buffer), f.filled);
  f.buffer.reset();
  f.filled = 0;
}

void PackageWriter::Stage(OutFile& f, std::shared_ptr<const void> keep, const uint8_t* data,
                          size_t size) {
  if (staged_runs_.empty() || staged_runs_.back().stream != f.stream) {
    staged_runs_.push_back(HashRun{f.stream, {}});
  }
  staged_runs_.back().pieces.push_back(HashPiece{data, size});
  if (keep && (staged_keep_.empty() || staged_keep_.back() != keep)) {
    staged_keep_.push_back(std::move(keep));
  }
}

void PackageWriter::Commit(HashRun alongside, std::shared_ptr<const void> keep) {
  if (staged_runs_.empty() && alongside.stream < 0) return;
  if (keep) staged_keep_.push_back(std::move(keep));
  auto owners = std::make_shared<std::vector<std::shared_ptr<const void>>>(std::move(staged_keep_));
  hasher_.Update(std::move(owners), std::move(staged_runs_), std::move(alongside));
  staged_runs_.clear();
  staged_keep_.clear();
}

Status PackageWriter::AppendUnhashed(OutFile& f, const Source& source) {
  {
    StepTimer timer(steps_.write);
    CUSTODIAN_RETURN_IF_ERROR(f.file->AppendCopyOf(source.fd(), 0, source.data(), source.size()));
  }
  const auto size = static_cast<int64_t>(source.size());
  f.bytes += size;
  total_bytes_ += size;
  f.not_written_back += size;
  if (durable_ && f.not_written_back >= kWritebackEvery) {
    file_worker_.StartWriteback(f.file);
    f.not_written_back = 0;
  }
  return Status::Ok();
}

Status PackageWriter::Close(OutFile& f, std::optional<std::shared_future<std::string>> digest) {
  Commit();
  WriteBuffer(f);
  {
    StepTimer timer(steps_.fsync, StepTimer::kWall);
    CUSTODIAN_RETURN_IF_ERROR(file_worker_.Barrier());
    if (durable_) CUSTODIAN_RETURN_IF_ERROR(f.file->Sync());
    CUSTODIAN_RETURN_IF_ERROR(f.file->Close());
  }
  std::shared_future<std::string> own = hasher_.Finish(f.stream).share();
  digests_[f.rel] = digest ? *digest : own;
  return Status::Ok();
}

Status PackageWriter::WriteSmall(const std::string& rel, const std::string& text) {
  auto f = Open(rel);
  if (!f.ok()) return f.status();
  CUSTODIAN_RETURN_IF_ERROR(Append(*f, reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  return Close(*f);
}

std::string PackageWriter::Digest(const std::string& rel) {
  StepTimer timer(steps_.hash_wait, StepTimer::kWall);
  return digests_.at(rel).get();
}

Status PackageWriter::SyncDirs() {
  if (!durable_) return Status::Ok();
  StepTimer timer(steps_.fsync, StepTimer::kWall);
  for (const std::string& d : dirs_) CUSTODIAN_RETURN_IF_ERROR(fs_.SyncDir(d));
  return fs_.SyncDir(dir_);
}

}  // namespace custodian::exports
