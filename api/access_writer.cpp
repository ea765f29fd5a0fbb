#include "api/access_writer.h"

#include <utility>
#include <vector>

namespace custodian::api {

// Runs with mu_ released, so callers keep queueing meanwhile. The entries are read-only
// to everyone until Append returns, so reading them here without the lock is safe; the
// results go back under the lock.
std::vector<Result<int64_t>> AccessLogWriter::CommitBatch(const std::deque<Pending*>& batch) {
  std::vector<Result<int64_t>> results;
  results.reserve(batch.size());
  Status st = db_.WithTransaction([&]() -> Status {
    for (const Pending* p : batch) {
      switch (p->kind) {
        case Kind::kPlain:
          results.push_back(db_.AppendAccess(*p->entry));
          break;
        case Kind::kViewingStart:
          results.push_back(db_.AppendViewingStart(*p->entry));
          break;
        case Kind::kViewingEnd:
          results.push_back(db_.AppendViewingEnd(*p->entry, p->start_entry_id));
          break;
      }
    }
    return Status::Ok();
  });
  if (!st.ok()) results.assign(batch.size(), Result<int64_t>(st));
  return results;
}

Result<int64_t> AccessLogWriter::Append(const records::AccessEntry& entry) {
  Pending mine{&entry, Kind::kPlain, 0, std::nullopt};
  return Enqueue(&mine);
}

Result<int64_t> AccessLogWriter::AppendViewingStart(const records::AccessEntry& entry) {
  Pending mine{&entry, Kind::kViewingStart, 0, std::nullopt};
  Result<int64_t> id = Enqueue(&mine);
  if (id.ok()) viewing_starts_++;
  return id;
}

Result<int64_t> AccessLogWriter::AppendViewingEnd(const records::AccessEntry& entry,
                                                  int64_t start_entry_id) {
  Pending mine{&entry, Kind::kViewingEnd, start_entry_id, std::nullopt};
  Result<int64_t> id = Enqueue(&mine);
  if (id.ok()) viewing_ends_++;
  return id;
}

Result<int64_t> AccessLogWriter::Enqueue(Pending* pending) {
  Pending& mine = *pending;
  MutexLock lock(mu_);
  queue_.push_back(&mine);
  while (!mine.result) {
    if (committing_) {
      lock.Wait(done_);
      continue;
    }
    committing_ = true;
    std::deque<Pending*> batch;
    batch.swap(queue_);
    lock.Unlock();
    std::vector<Result<int64_t>> results = CommitBatch(batch);
    lock.Lock();
    committing_ = false;
    ++batches_;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (results[i].ok()) ++entries_;
      batch[i]->result.emplace(std::move(results[i]));
    }
    done_.notify_all();
  }
  return std::move(*mine.result);
}

int64_t AccessLogWriter::entries_written() const {
  MutexLock lock(mu_);
  return entries_;
}

int64_t AccessLogWriter::batches_committed() const {
  MutexLock lock(mu_);
  return batches_;
}

}  // namespace custodian::api
