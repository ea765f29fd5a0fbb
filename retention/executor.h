// DeletionExecutor: carries out a DeletionPlan with the ordered, restartable procedure of
// docs/design/retention.md. For each batch of segments:
//   1. mark the rows deleting, noting each one's rule in the in-flight list (one
//      transaction; rows held, leased or gone since planning are skipped);
//   2. unlink the files; a file already missing counts as unlinked;
//   3. fsync each directory that lost a file;
//   4. remove the rows, and
//   5. write the deletion records, in the same transaction as 4, so that a record exists
//      exactly when the rows are gone.
// A crash between any two steps leaves rows in state deleting. FinishInterrupted, which
// every pass runs first, takes such rows up again from step 2 with the rule noted in step
// 1. A file that cannot be unlinked keeps its row deleting: it is reported in the
// ExecutionReport (and by the pass as an alarm) and retried by every later pass.
//
// Exports go the same way: marked expired, files hashed and unlinked, directories synced,
// then files-gone and the deletion record in one transaction.
//
// One executor runs at a time per records database (the retain verb holds a lock file):
// the in-flight list is a single settings value. Not thread-safe itself; it uses
// io_threads threads of its own inside steps 2 and 3.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/filesystem.h"
#include "records/database.h"
#include "retention/policy.h"

namespace custodian::retention {

enum class DeletionStep {
  kMarkDeleting = 1,
  kUnlink = 2,
  kSyncDirectory = 3,
  kRemoveRow = 4,       // reported inside the transaction, before the records are written
  kRecordDeletion = 5,  // reported after the transaction commits
};

struct ExecutorOptions {
  size_t batch_size = 2000;
  // Threads for the unlink and directory-fsync steps; each takes whole directories. The
  // step still completes before the next begins.
  size_t io_threads = 2;
  // For tests: called after each step of each batch. A non-ok status stops the pass at
  // that point, as a crash would (inside the step 4-5 transaction it rolls back).
  std::function<Status(DeletionStep)> after_step;
};

// What the deletion records say, supplied by the pass (no personal data).
struct DeletionContext {
  std::function<std::string(const std::string& camera_id, records::DeletionRule rule)> detail;
  // The rule for a row found deleting without one on the in-flight list (marked by
  // something other than retention, e.g. before a crash of an older build).
  std::function<records::DeletionRule(const records::SegmentRow& row)> infer_rule;
};

struct ExecutionReport {
  int64_t segments_deleted = 0;
  int64_t bytes_deleted = 0;
  int64_t interrupted_finished = 0;  // of those, left deleting by an earlier pass
  int64_t segments_skipped = 0;      // held, leased or gone by the time they were marked
  int64_t exports_deleted = 0;
  int64_t export_files_deleted = 0;
  int64_t deletion_records = 0;
  std::vector<std::string> failures;  // what could not be deleted this pass, and why
};

// The settings key of the in-flight list: "<segment id> <rule>" lines.
inline constexpr char kInFlightKey[] = "retention.in_flight";

class DeletionExecutor {
 public:
  // Segment and export paths in the records are relative to data_dir.
  DeletionExecutor(records::Database& db, Filesystem& fs, const Clock& clock, std::string data_dir,
                   ExecutorOptions options = {});

  // Finishes segments left deleting and exports left expiring.
  Status FinishInterrupted(const DeletionContext& ctx, ExecutionReport* report);
  Status Execute(const DeletionPlan& plan, const DeletionContext& ctx, ExecutionReport* report);

 private:
  using Rules = std::map<int64_t, records::DeletionRule>;

  Status LoadInFlight();
  Status SaveInFlight();
  Status Step(DeletionStep step);
  Status MarkBatch(const std::vector<PlannedDeletion>& batch,
                   std::vector<records::SegmentRow>* marked, ExecutionReport* report);
  // Unlinks a segment's activity index and then its file (kNotFound when neither is left).
  Status UnlinkSegmentFiles(const std::string& rel);
  // Steps 2 to 5 for rows already marked deleting.
  Status FinishBatch(const std::vector<records::SegmentRow>& rows, const DeletionContext& ctx,
                     ExecutionReport* report);
  Status RecordBatch(const std::vector<records::SegmentRow>& rows, const DeletionContext& ctx,
                     ExecutionReport* report);
  // Removes an old day directory that the batch left empty; best effort.
  void TidyDirectory(const std::string& rel_dir);
  Status ExpireExport(const records::ExportExpiryRow& e, ExecutionReport* report);

  records::Database& db_;
  Filesystem& fs_;
  const Clock& clock_;
  const std::string data_dir_;
  ExecutorOptions options_;
  Rules in_flight_;
  bool loaded_ = false;
};

}  // namespace custodian::retention
