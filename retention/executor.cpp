#include "retention/executor.h"

#include <algorithm>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "activity/activity_file.h"
#include "activity/day_digest.h"
#include "base/log.h"
#include "retention/export_files.h"

namespace custodian::retention {

namespace {

using records::DeletionRule;
using records::SegmentRow;

std::string FormatInFlight(const std::map<int64_t, DeletionRule>& rules) {
  std::string out;
  for (const auto& [id, rule] : rules) {
    out += std::to_string(id);
    out += ' ';
    out += records::Name(rule);
    out += '\n';
  }
  return out;
}

std::map<int64_t, DeletionRule> ParseInFlight(const std::string& text) {
  std::map<int64_t, DeletionRule> rules;
  std::istringstream in(text);
  int64_t id = 0;
  std::string name;
  while (in >> id >> name) {
    if (auto rule = records::ParseDeletionRule(name)) rules[id] = *rule;
  }
  return rules;
}

// Runs fn(i) for every i in [0, n) on up to `threads` threads, each taking a contiguous
// range, and returns when all are done.
void ParallelFor(size_t n, size_t threads, const std::function<void(size_t)>& fn) {
  threads = std::clamp<size_t>(threads, 1, std::max<size_t>(n, 1));
  auto run = [&](size_t t) {
    for (size_t i = n * t / threads; i < n * (t + 1) / threads; ++i) fn(i);
  };
  std::vector<std::thread> workers;
  for (size_t t = 1; t < threads; ++t) workers.emplace_back(run, t);
  run(0);
  for (std::thread& w : workers) w.join();
}

// "footage/cam/2026-01-02" -> "2026-01-02" when it has that shape, else "".
std::string DayOf(const std::string& rel_dir) {
  const std::string day = rel_dir.substr(rel_dir.find_last_of('/') + 1);
  if (rel_dir.rfind("footage/", 0) != 0 || day.size() != 10 || day[4] != '-' || day[7] != '-') {
    return "";
  }
  return day;
}

}  // namespace

DeletionExecutor::DeletionExecutor(records::Database& db, Filesystem& fs, const Clock& clock,
                                   std::string data_dir, ExecutorOptions options)
    : db_(db), fs_(fs), clock_(clock), data_dir_(std::move(data_dir)), options_(options) {
  options_.batch_size = std::max<size_t>(options_.batch_size, 1);
  options_.io_threads = std::max<size_t>(options_.io_threads, 1);
}

Status DeletionExecutor::Step(DeletionStep step) {
  return options_.after_step ? options_.after_step(step) : Status::Ok();
}

Status DeletionExecutor::LoadInFlight() {
  if (loaded_) return Status::Ok();
  auto text = db_.GetSetting(kInFlightKey);
  if (!text.ok()) return text.status();
  in_flight_ = *text ? ParseInFlight(**text) : Rules{};
  loaded_ = true;
  return Status::Ok();
}

Status DeletionExecutor::SaveInFlight() {
  return db_.SetSetting(kInFlightKey, FormatInFlight(in_flight_), std::nullopt);
}

Status DeletionExecutor::FinishInterrupted(const DeletionContext& ctx, ExecutionReport* report) {
  CUSTODIAN_RETURN_IF_ERROR(LoadInFlight());
  auto rows = db_.ListSegmentsInState(records::SegmentState::kDeleting);
  if (!rows.ok()) return rows.status();
  if (!rows->empty()) {
    LogInfo("retention") << "finishing " << rows->size()
                         << " segment deletion(s) left by an earlier pass";
  }
  const int64_t before = report->segments_deleted;
  for (size_t i = 0; i < rows->size(); i += options_.batch_size) {
    const size_t end = std::min(rows->size(), i + options_.batch_size);
    std::vector<SegmentRow> batch(rows->begin() + i, rows->begin() + end);
    CUSTODIAN_RETURN_IF_ERROR(FinishBatch(batch, ctx, report));
  }
  report->interrupted_finished += report->segments_deleted - before;

  auto exports = db_.ListExportsForExpiry();
  if (!exports.ok()) return exports.status();
  for (const records::ExportExpiryRow& e : *exports) {
    if (e.expiring) CUSTODIAN_RETURN_IF_ERROR(ExpireExport(e, report));
  }
  return Status::Ok();
}

Status DeletionExecutor::Execute(const DeletionPlan& plan, const DeletionContext& ctx,
                                 ExecutionReport* report) {
  CUSTODIAN_RETURN_IF_ERROR(LoadInFlight());
  for (size_t i = 0; i < plan.segments.size(); i += options_.batch_size) {
    const size_t end = std::min(plan.segments.size(), i + options_.batch_size);
    std::vector<PlannedDeletion> batch(plan.segments.begin() + i, plan.segments.begin() + end);
    std::vector<SegmentRow> marked;
    CUSTODIAN_RETURN_IF_ERROR(MarkBatch(batch, &marked, report));
    CUSTODIAN_RETURN_IF_ERROR(FinishBatch(marked, ctx, report));
  }
  if (plan.exports.empty()) return Status::Ok();
  auto exports = db_.ListExportsForExpiry();
  if (!exports.ok()) return exports.status();
  for (const records::ExportExpiryRow& e : *exports) {
    if (e.expiring ||
        std::find(plan.exports.begin(), plan.exports.end(), e.id) == plan.exports.end()) {
      continue;
    }
    Status marked = db_.MarkExportExpired(e.id);
    if (marked.kind() == ErrorKind::kFailedPrecondition) continue;  // held since planning
    CUSTODIAN_RETURN_IF_ERROR(marked);
    CUSTODIAN_RETURN_IF_ERROR(ExpireExport(e, report));
  }
  return Status::Ok();
}

Status DeletionExecutor::MarkBatch(const std::vector<PlannedDeletion>& batch,
                                   std::vector<SegmentRow>* marked, ExecutionReport* report) {
  std::vector<int64_t> ids;
  ids.reserve(batch.size());
  for (const PlannedDeletion& p : batch) ids.push_back(p.segment_id);
  const Rules saved = in_flight_;
  Status st = db_.WithTransaction([&]() -> Status {
    auto rows = db_.MarkSegmentsDeleting(ids);
    if (!rows.ok()) return rows.status();
    *marked = std::move(rows).value();
    std::map<int64_t, DeletionRule> rule_of;
    for (const PlannedDeletion& p : batch) rule_of[p.segment_id] = p.rule;
    for (const SegmentRow& r : *marked) in_flight_[r.id] = rule_of[r.id];
    return SaveInFlight();
  });
  if (!st.ok()) {
    in_flight_ = saved;
    return st;
  }
  report->segments_skipped += static_cast<int64_t>(batch.size() - marked->size());
  return Step(DeletionStep::kMarkDeleting);
}

// The segment's activity index goes first, then the segment: a row is removed only when
// both are gone, so movement data never outlives its footage. The day's digest of indexes
// (activity/day_digest.h) goes before the index and again after it: a reader that read the
// index before it went and renamed its digest in between finds the index gone and removes
// its own digest, and one that renamed it before the index went loses it to the second
// unlink.
Status DeletionExecutor::UnlinkSegmentFiles(const std::string& rel) {
  const std::string seg = JoinPath(data_dir_, rel);
  CUSTODIAN_RETURN_IF_ERROR(activity::UnlinkDayDigest(fs_, seg));
  Status index = fs_.Unlink(activity::ActivityPathFor(seg));
  if (!index.ok() && index.kind() != ErrorKind::kNotFound) return index;
  CUSTODIAN_RETURN_IF_ERROR(activity::UnlinkDayDigest(fs_, seg));
  return fs_.Unlink(seg);
}

Status DeletionExecutor::FinishBatch(const std::vector<SegmentRow>& rows,
                                     const DeletionContext& ctx, ExecutionReport* report) {
  // Step 2: unlink. Rows whose file is gone go on; the others stay deleting for a retry.
  // In path order: one directory at a time, in creation order within it, which keeps
  // the filesystem's metadata updates local (several times faster than plan order, which
  // alternates between cameras). Each I/O thread takes a contiguous run of directories.
  std::vector<const SegmentRow*> order;
  order.reserve(rows.size());
  for (const SegmentRow& r : rows) order.push_back(&r);
  std::sort(order.begin(), order.end(),
            [](const SegmentRow* a, const SegmentRow* b) { return a->path < b->path; });
  std::vector<Status> unlink_status(order.size());
  ParallelFor(order.size(), options_.io_threads,
              [&](size_t i) { unlink_status[i] = UnlinkSegmentFiles(order[i]->path); });
  std::vector<SegmentRow> unlinked;
  std::vector<std::string> dirs;
  for (size_t i = 0; i < order.size(); ++i) {
    const SegmentRow& r = *order[i];
    const Status& st = unlink_status[i];
    if (!st.ok() && st.kind() != ErrorKind::kNotFound) {
      report->failures.push_back("segment " + std::to_string(r.id) + ": " + st.ToString());
      LogWarn("retention") << "segment " << r.id << " not deleted: " << st.ToString()
                           << "; its row stays deleting and the next pass retries";
      continue;
    }
    unlinked.push_back(r);
    std::string dir = DirName(r.path);
    if (dirs.empty() || dirs.back() != dir) dirs.push_back(std::move(dir));
  }
  CUSTODIAN_RETURN_IF_ERROR(Step(DeletionStep::kUnlink));

  // Step 3: make the unlinks durable before the rows that name the files go.
  std::vector<Status> sync_status(dirs.size());
  ParallelFor(dirs.size(), options_.io_threads,
              [&](size_t i) { sync_status[i] = fs_.SyncDir(JoinPath(data_dir_, dirs[i])); });
  std::set<std::string> unsynced;
  for (size_t i = 0; i < dirs.size(); ++i) {
    const Status& st = sync_status[i];
    if (!st.ok() && st.kind() != ErrorKind::kNotFound) {
      report->failures.push_back("directory " + dirs[i] + ": " + st.ToString());
      unsynced.insert(dirs[i]);
    }
  }
  if (!unsynced.empty()) {
    std::erase_if(unlinked, [&](const SegmentRow& r) { return unsynced.count(DirName(r.path)); });
  }
  CUSTODIAN_RETURN_IF_ERROR(Step(DeletionStep::kSyncDirectory));

  // Steps 4 and 5, in one transaction.
  CUSTODIAN_RETURN_IF_ERROR(RecordBatch(unlinked, ctx, report));
  CUSTODIAN_RETURN_IF_ERROR(Step(DeletionStep::kRecordDeletion));
  for (const std::string& dir : dirs) {
    if (!unsynced.count(dir)) TidyDirectory(dir);
  }
  return Status::Ok();
}

Status DeletionExecutor::RecordBatch(const std::vector<SegmentRow>& rows,
                                     const DeletionContext& ctx, ExecutionReport* report) {
  if (rows.empty()) return Status::Ok();
  struct Group {
    records::DeletionRow row;
    bool first = true;
  };
  const Rules saved = in_flight_;
  int64_t removed = 0, bytes = 0, records_written = 0;
  Status st = db_.WithTransaction([&]() -> Status {
    std::map<std::pair<std::string, DeletionRule>, Group> groups;
    for (const SegmentRow& r : rows) {
      Status gone = db_.RemoveSegment(r.id);
      if (gone.kind() == ErrorKind::kNotFound) continue;  // finished by someone else
      CUSTODIAN_RETURN_IF_ERROR(gone);
      auto known = in_flight_.find(r.id);
      const DeletionRule rule = known != in_flight_.end() ? known->second : ctx.infer_rule(r);
      Group& g = groups[{r.camera_id, rule}];
      const UtcMicros end = r.end.value_or(r.start);
      if (g.first) {
        g.row.camera_id = r.camera_id;
        g.row.rule = rule;
        g.row.from = r.start;
        g.row.to = end;
        g.row.detail = ctx.detail(r.camera_id, rule);
        if (known == in_flight_.end()) g.row.detail += "; rule inferred, none was on record";
        g.first = false;
      }
      g.row.from = std::min(g.row.from, r.start);
      g.row.to = std::max(g.row.to, end);
      ++g.row.segment_count;
      g.row.bytes += r.bytes;
      if (r.sha256) g.row.sha256s.push_back(*r.sha256);
      in_flight_.erase(r.id);
      ++removed;
      bytes += r.bytes;
    }
    CUSTODIAN_RETURN_IF_ERROR(Step(DeletionStep::kRemoveRow));
    for (auto& [key, g] : groups) {
      auto id = db_.RecordDeletion(g.row);
      if (!id.ok()) return id.status();
      ++records_written;
    }
    return SaveInFlight();
  });
  if (!st.ok()) {
    in_flight_ = saved;
    return st;
  }
  report->segments_deleted += removed;
  report->bytes_deleted += bytes;
  report->deletion_records += records_written;
  return Status::Ok();
}

void DeletionExecutor::TidyDirectory(const std::string& rel_dir) {
  // Only days well in the past: the recorder may be about to write into today's (or,
  // around midnight, yesterday's) directory.
  const std::string day = DayOf(rel_dir);
  if (day.empty() || day >= FormatUtcDate(clock_.Now() - 2 * kMicrosPerDay)) return;
  const std::string abs = JoinPath(data_dir_, rel_dir);
  if (!fs_.RemoveDir(abs).ok()) return;  // not empty yet, most often
  (void)fs_.SyncDir(DirName(abs));
}

Status DeletionExecutor::ExpireExport(const records::ExportExpiryRow& e, ExecutionReport* report) {
  RemovedFiles removed;
  if (e.path && !e.path->empty()) {
    const std::string abs = (*e.path)[0] == '/' ? *e.path : JoinPath(data_dir_, *e.path);
    RemoveExportFiles(fs_, abs, &removed);
  }
  if (!removed.failures.empty()) {
    for (const std::string& f : removed.failures) {
      report->failures.push_back("export " + std::to_string(e.id) + ": " + f);
    }
    LogWarn("retention") << "export " << e.id << " not fully deleted (" << removed.failures.size()
                         << " failure(s)); the next pass retries";
    return Status::Ok();
  }
  records::DeletionRow row;
  row.rule = DeletionRule::kExportExpiry;
  row.export_id = e.id;
  row.from = e.created;
  row.to = e.created;
  if (!e.ranges.empty()) {
    row.from = e.ranges.front().from;
    row.to = e.ranges.front().to;
    for (const records::HoldRange& r : e.ranges) {
      row.from = std::min(row.from, r.from);
      row.to = std::max(row.to, r.to);
    }
  }
  row.bytes = removed.bytes;
  row.sha256s = removed.sha256s;
  row.detail = "export package expired: " + std::to_string(removed.files) + " file(s)";
  if (e.manifest_sha256) row.detail += ", manifest sha256 " + *e.manifest_sha256;
  Status st = db_.WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(db_.MarkExportFilesDeleted(e.id));
    auto id = db_.RecordDeletion(row);
    return id.ok() ? Status::Ok() : id.status();
  });
  CUSTODIAN_RETURN_IF_ERROR(st);
  ++report->exports_deleted;
  ++report->deletion_records;
  report->export_files_deleted += removed.files;
  return Status::Ok();
}

}  // namespace custodian::retention
