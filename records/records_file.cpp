#include "records/records_file.h"

#include <cstdlib>

#include "records/migrations.h"
#include "records/sqlite.h"

namespace custodian::records {

namespace {

constexpr int kBusyTimeoutMs = 10000;
constexpr int kBackupAttempts = 20;
constexpr int kBackupRetryMs = 250;

Result<SqliteHandle> OpenFile(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  SqliteHandle db(raw);
  if (rc != SQLITE_OK) {
    return IoError("opening " + path + ": " + (raw ? sqlite3_errmsg(raw) : "out of memory"));
  }
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  return db;
}

// The first column of the first row of sql, as text; "" if no row.
Result<std::string> QueryText(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) {
    return DataLoss(std::string("records check failed: ") + sqlite3_errmsg(db));
  }
  StmtHandle st(raw);
  std::string out;
  int rc = sqlite3_step(st.get());
  if (rc == SQLITE_ROW && sqlite3_column_text(st.get(), 0)) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 0));
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    return DataLoss(std::string("records check failed: ") + sqlite3_errstr(rc));
  }
  return out;
}

}  // namespace

Status SnapshotRecordsFile(const std::string& from, const std::string& to) {
  auto src = OpenFile(from, SQLITE_OPEN_READONLY);
  if (!src.ok()) return src.status();
  auto dst = OpenFile(to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!dst.ok()) return dst.status();
  for (int attempt = 0;; ++attempt) {
    sqlite3_backup* b = sqlite3_backup_init(dst->get(), "main", src->get(), "main");
    if (!b) return IoError(std::string("snapshot: ") + sqlite3_errmsg(dst->get()));
    int rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc == SQLITE_DONE) return Status::Ok();
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || attempt == kBackupAttempts) {
      return IoError(std::string("snapshot of ") + from + ": " + sqlite3_errstr(rc));
    }
    sqlite3_sleep(kBackupRetryMs);
  }
}

Result<RecordsFileInfo> InspectRecordsFile(const std::string& path) {
  auto db = OpenFile(path, SQLITE_OPEN_READONLY);
  if (!db.ok()) return db.status();
  auto check = QueryText(db->get(), "PRAGMA quick_check");
  if (!check.ok()) return check.status();
  if (*check != "ok") return DataLoss("the records database is damaged: " + *check);
  auto version = QueryText(db->get(), "SELECT max(version) FROM schema_version");
  if (!version.ok()) return DataLoss("not a records database: " + version.status().message());
  RecordsFileInfo info;
  info.schema_version = std::atoi(version->c_str());
  if (info.schema_version > LatestSchemaVersion()) {
    return FailedPrecondition(
        "the records are schema version " + std::to_string(info.schema_version) +
        " but this custodian knows up to " + std::to_string(LatestSchemaVersion()) +
        "; restore with a newer custodian");
  }
  auto head =
      QueryText(db->get(), "SELECT id || ' ' || hash FROM access_log ORDER BY id DESC LIMIT 1");
  if (!head.ok()) return head.status();
  info.access_log_head = head->empty() ? "0 " + std::string(64, '0') : *head;
  return info;
}

}  // namespace custodian::records
