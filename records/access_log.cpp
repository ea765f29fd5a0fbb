// Appending to, verifying and querying the hash-chained access log.
#include <string>

#include "records/database.h"
#include "records/sqlite.h"

namespace custodian::records {

namespace {

constexpr int kVerifyBatchRows = 5000;

const std::string kAccessColumns =
    "id, at_us, user_id, user_name, action, camera_id, from_us, to_us, purpose_category, "
    "purpose_text, client, result, detail, prev_hash, hash";

AccessEntry ReadAccess(const Statement& st) {
  AccessEntry e;
  e.id = st.ColInt(0);
  e.at = st.ColTime(1);
  e.user_id = st.ColOptInt(2);
  e.user_name = st.ColText(3);
  e.action = st.ColText(4);
  e.camera_id = st.ColOptText(5);
  e.from = st.ColOptTime(6);
  e.to = st.ColOptTime(7);
  e.purpose_category = st.ColText(8);
  e.purpose_text = st.ColText(9);
  e.client = st.ColText(10);
  e.result = st.ColEnum<AccessResult>(11, ParseAccessResult);
  e.detail = st.ColText(12);
  e.prev_hash = st.ColText(13);
  e.hash = st.ColText(14);
  return e;
}

// Checks one entry against its predecessor; returns the reason it fails, or "".
std::string CheckLink(const AccessEntry& e, int64_t prev_id, const std::string& prev_hash) {
  const std::string id = std::to_string(e.id);
  if (e.id != prev_id + 1) {
    if (prev_id == 0) {
      return "the log starts at entry " + id + ", not 1: earlier entries are missing";
    }
    return "entry " + id + " follows entry " + std::to_string(prev_id) + ": entries " +
           std::to_string(prev_id + 1) + " to " + std::to_string(e.id - 1) +
           " are missing, or entry " + id + " was inserted";
  }
  if (e.prev_hash != prev_hash) {
    return "entry " + id + " does not link to entry " + std::to_string(prev_id) +
           ": its prev_hash is not that entry's hash";
  }
  if (ComputeAccessHash(e.prev_hash, e) != e.hash) {
    return "entry " + id + " was altered: its hash does not match its contents";
  }
  return "";
}

}  // namespace

Result<int64_t> Database::AppendAccess(const AccessEntry& entry) {
  AccessEntry e = entry;
  Status st = WithTransaction([&]() REQUIRES(mu_) -> Status {
    {
      RECORDS_ASSIGN_OR_RETURN(Statement last,
                               Prepare("SELECT id, hash FROM access_log ORDER BY id DESC LIMIT 1"));
      RECORDS_ASSIGN_OR_RETURN(bool has_last, last.Step());
      e.id = has_last ? last.ColInt(0) + 1 : 1;
      e.prev_hash = has_last ? last.ColText(1) : std::string(kGenesisHash);
    }
    e.at = Now();
    e.hash = ComputeAccessHash(e.prev_hash, e);
    RECORDS_ASSIGN_OR_RETURN(Statement ins,
                             Prepare("INSERT INTO access_log (" + kAccessColumns +
                                     ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    return ins.Int(e.id)
        .Time(e.at)
        .OptInt(e.user_id)
        .Text(e.user_name)
        .Text(e.action)
        .OptText(e.camera_id)
        .OptTime(e.from)
        .OptTime(e.to)
        .Text(e.purpose_category)
        .Text(e.purpose_text)
        .Text(e.client)
        .Text(Name(e.result))
        .Text(e.detail)
        .Text(e.prev_hash)
        .Text(e.hash)
        .Run();
  });
  if (!st.ok()) return st;
  return e.id;
}

Result<AuditVerification> Database::VerifyAccessLog(const std::optional<AccessLogAnchor>& anchor) {
  AuditVerification v;
  int64_t prev_id = 0;
  std::string prev_hash = kGenesisHash;
  bool anchor_seen = false;
  auto fail = [&](int64_t id, std::string reason) {
    v.ok = false;
    v.first_bad_id = id;
    v.reason = std::move(reason);
    return v;
  };
  // The log is append-only, so reading it in batches (releasing the mutex in between)
  // sees one consistent prefix of it.
  for (;;) {
    std::vector<AccessEntry> batch;
    {
      Lock lock(mu_);
      RECORDS_ASSIGN_OR_RETURN(Statement st,
                               Prepare("SELECT " + kAccessColumns +
                                       " FROM access_log WHERE id > ? ORDER BY id LIMIT ?"));
      st.Int(prev_id).Int(kVerifyBatchRows);
      RECORDS_ASSIGN_OR_RETURN(batch, CollectRows<AccessEntry>(st, ReadAccess));
    }
    for (const AccessEntry& e : batch) {
      std::string reason = CheckLink(e, prev_id, prev_hash);
      if (!reason.empty()) return fail(e.id, std::move(reason));
      if (anchor && e.id == anchor->id) {
        anchor_seen = true;
        if (e.hash != anchor->hash) {
          return fail(e.id, "entry " + std::to_string(e.id) +
                                " is not the entry the anchor recorded: the chain was rebuilt");
        }
      }
      ++v.entries_checked;
      prev_id = e.id;
      prev_hash = e.hash;
    }
    if (batch.size() < static_cast<size_t>(kVerifyBatchRows)) break;
  }
  if (anchor && !anchor_seen) {
    return fail(anchor->id, "the log ends at entry " + std::to_string(prev_id) +
                                " but the anchor records entry " + std::to_string(anchor->id) +
                                ": entries were removed from the end");
  }
  v.reason = std::to_string(v.entries_checked) + " entries verified";
  return v;
}

Result<std::optional<AccessLogAnchor>> Database::AccessLogHead() {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("SELECT id, hash FROM access_log ORDER BY id DESC LIMIT 1"));
  RECORDS_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<AccessLogAnchor>();
  return std::optional<AccessLogAnchor>(AccessLogAnchor{st.ColInt(0), st.ColText(1)});
}

Result<std::vector<AccessEntry>> Database::QueryAccess(const AccessFilter& f) {
  // Only the filters given become clauses, so SQLite can pick the matching index; each
  // combination is a distinct cached statement.
  std::vector<std::string> actions = f.any_action;
  if (f.action) actions.push_back(*f.action);
  std::string sql = "SELECT " + kAccessColumns + " FROM access_log WHERE 1";
  if (f.user_id) sql += " AND user_id = ?";
  if (f.camera_id) sql += " AND camera_id = ?";
  if (!actions.empty()) {
    sql += " AND action IN (?";
    for (size_t i = 1; i < actions.size(); ++i) sql += ", ?";
    sql += ")";
  }
  if (f.purpose_category) sql += " AND purpose_category = ?";
  if (f.from) sql += " AND at_us >= ?";
  if (f.to) sql += " AND at_us < ?";
  if (f.footage_to) sql += " AND from_us < ?";
  if (f.footage_from) sql += " AND (to_us IS NULL OR to_us > ?) AND from_us IS NOT NULL";
  sql += f.newest_first ? " ORDER BY id DESC LIMIT ?" : " ORDER BY id LIMIT ?";
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare(sql));
  if (f.user_id) st.Int(*f.user_id);
  if (f.camera_id) st.Text(*f.camera_id);
  for (const std::string& a : actions) st.Text(a);
  if (f.purpose_category) st.Text(*f.purpose_category);
  if (f.from) st.Time(*f.from);
  if (f.to) st.Time(*f.to);
  if (f.footage_to) st.Time(*f.footage_to);
  if (f.footage_from) st.Time(*f.footage_from);
  st.Int(f.limit);
  return CollectRows<AccessEntry>(st, ReadAccess);
}

Result<int64_t> Database::AppendViewingStart(const AccessEntry& entry) {
  int64_t id = 0;
  Status st = WithTransaction([&]() REQUIRES(mu_) -> Status {
    RECORDS_ASSIGN_OR_RETURN(id, AppendAccess(entry));
    RECORDS_ASSIGN_OR_RETURN(Statement ins,
                             Prepare("INSERT INTO open_viewings (start_entry_id) VALUES (?)"));
    return ins.Int(id).Run();
  });
  if (!st.ok()) return st;
  return id;
}

Result<int64_t> Database::AppendViewingEnd(const AccessEntry& entry, int64_t start_entry_id) {
  int64_t id = 0;
  Status st = WithTransaction([&]() REQUIRES(mu_) -> Status {
    RECORDS_ASSIGN_OR_RETURN(Statement del,
                             Prepare("DELETE FROM open_viewings WHERE start_entry_id = ?"));
    CUSTODIAN_RETURN_IF_ERROR(del.Int(start_entry_id).Run());
    if (del.Changes() != 1) {
      return Status(ErrorKind::kFailedPrecondition,
                    "viewing " + std::to_string(start_entry_id) + " is not open");
    }
    RECORDS_ASSIGN_OR_RETURN(id, AppendAccess(entry));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return id;
}

Result<std::vector<AccessEntry>> Database::ListOpenViewings() {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st, Prepare("SELECT " + kAccessColumns +
                            " FROM access_log WHERE id IN (SELECT start_entry_id FROM "
                            "open_viewings) ORDER BY id"));
  return CollectRows<AccessEntry>(st, ReadAccess);
}

}  // namespace custodian::records
