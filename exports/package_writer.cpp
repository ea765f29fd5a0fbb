#include "exports/package_writer.h"

#include <pthread.h>

#include "exports/step_timer.h"

namespace custodian::exports {

WritebackWorker::WritebackWorker() : thread_([this] { Loop(); }) {
  pthread_setname_np(thread_.native_handle(), "export-wback");
}

WritebackWorker::~WritebackWorker() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void WritebackWorker::Submit(WritableFile* file) {
  MutexLock lock(mu_);
  if (pending_.empty() || pending_.back() != file) pending_.push_back(file);
  cv_.notify_all();
}

void WritebackWorker::Barrier() {
  MutexLock lock(mu_);
  lock.Wait(cv_, [this]() REQUIRES(mu_) { return pending_.empty() && !busy_; });
}

void WritebackWorker::Loop() {
  MutexLock lock(mu_);
  for (;;) {
    lock.Wait(cv_, [this]() REQUIRES(mu_) { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) return;
    WritableFile* file = pending_.front();
    pending_.pop_front();
    busy_ = true;
    lock.Unlock();
    const int64_t before = ThreadCpuNanos();
    file->StartWriteback();
    cpu_ns_ += ThreadCpuNanos() - before;
    lock.Lock();
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

Status PackageWriter::Append(OutFile& f, std::shared_ptr<const void> keep, const uint8_t* data,
                             size_t size) {
  CUSTODIAN_RETURN_IF_ERROR(Write(f, data, size));
  Stage(f, std::move(keep), data, size);
  return Status::Ok();
}

Status PackageWriter::AppendFromSource(OutFile& f, const SharedBuffer& source, size_t offset,
                                       size_t size) {
  CUSTODIAN_RETURN_IF_ERROR(Write(f, source->data() + offset, size, source->fd(), offset));
  Stage(f, source, source->data() + offset, size);
  return Status::Ok();
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
  return Write(f, source.data(), source.size(), source.fd(), 0);
}

Status PackageWriter::Write(OutFile& f, const uint8_t* data, size_t size, int source_fd,
                            uint64_t source_offset) {
  {
    StepTimer timer(steps_.write);
    if (source_fd >= 0) {
      CUSTODIAN_RETURN_IF_ERROR(f.file->AppendCopyOf(source_fd, source_offset, data, size));
    } else {
      CUSTODIAN_RETURN_IF_ERROR(f.file->Append(data, size));
    }
  }
  f.bytes += static_cast<int64_t>(size);
  total_bytes_ += static_cast<int64_t>(size);
  f.not_written_back += static_cast<int64_t>(size);
  if (durable_ && f.not_written_back >= kWritebackEvery) {
    writeback_.Submit(f.file.get());
    f.not_written_back = 0;
  }
  return Status::Ok();
}

Status PackageWriter::Close(OutFile& f, std::optional<std::shared_future<std::string>> digest) {
  Commit();
  {
    StepTimer timer(steps_.fsync, StepTimer::kWall);
    writeback_.Barrier();
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
  auto keep = std::make_shared<std::string>(text);
  CUSTODIAN_RETURN_IF_ERROR(
      Append(*f, keep, reinterpret_cast<const uint8_t*>(keep->data()), keep->size()));
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
