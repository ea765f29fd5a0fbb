// AccessLogWriter: appends access-log entries durably, batching concurrent appends into
// one transaction (group commit).
//
// Append blocks until its entry is committed to records.db (synchronous=FULL, so on disk)
// or has failed; a handler that reveals footage calls it before sending anything, so
// footage is never sent without its entry. Each commit costs an fsync of the WAL; batching
// lets many handler threads share one, which is what makes a logged request cheap.
//
// Protocol: the first caller to find no commit in progress becomes the leader, takes every
// entry queued so far, commits them in one transaction (each entry in its own savepoint,
// so one bad entry fails alone) and wakes the others; entries queued meanwhile go in the
// next batch. There is no background thread. Thread-safe.
//
// A viewing's start and end entries (api/viewings.h) go through the same batches, each
// with its change to the records' open_viewings in the entry's own savepoint.
//
// Give it a Database of its own (a second connection to records.db): a commit holds that
// Database's mutex through the fsync, and on a shared connection every other query of
// every request would queue behind it. SQLite's WAL lets the other connection read
// meanwhile.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "base/mutex.h"
#include "records/access_log.h"
#include "records/database.h"

namespace custodian::api {

class AccessLogWriter {
 public:
  explicit AccessLogWriter(records::Database& db) : db_(db) {}
  AccessLogWriter(const AccessLogWriter&) = delete;
  AccessLogWriter& operator=(const AccessLogWriter&) = delete;

  // The entry's id once it is durable.
  Result<int64_t> Append(const records::AccessEntry& entry);
  // A viewing's start entry, recorded as open; and its end entry, closing the viewing
  // whose start entry is start_entry_id (records::Database::AppendViewingStart/End).
  Result<int64_t> AppendViewingStart(const records::AccessEntry& entry);
  Result<int64_t> AppendViewingEnd(const records::AccessEntry& entry, int64_t start_entry_id);

  int64_t entries_written() const;
  int64_t batches_committed() const;
  // Viewing start and end entries written since this writer was made (for /metrics).
  int64_t viewing_starts() const { return viewing_starts_.load(); }
  int64_t viewing_ends() const { return viewing_ends_.load(); }

 private:
  enum class Kind { kPlain, kViewingStart, kViewingEnd };
  struct Pending {
    const records::AccessEntry* entry;
    Kind kind = Kind::kPlain;
    int64_t start_entry_id = 0;  // kViewingEnd
    std::optional<Result<int64_t>> result;
  };

  Result<int64_t> Enqueue(Pending* mine);

  std::vector<Result<int64_t>> CommitBatch(const std::deque<Pending*>& batch);

  records::Database& db_;
  mutable Mutex mu_;
  std::condition_variable done_;
  std::deque<Pending*> queue_ GUARDED_BY(mu_);
  bool committing_ GUARDED_BY(mu_) = false;
  int64_t entries_ GUARDED_BY(mu_) = 0;
  int64_t batches_ GUARDED_BY(mu_) = 0;
  std::atomic<int64_t> viewing_starts_{0};
  std::atomic<int64_t> viewing_ends_{0};
};

}  // namespace custodian::api
