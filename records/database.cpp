// Opening, migrating, statement caching and transactions. The typed methods live in one
// file per area (segments.cpp, access_log.cpp, users.cpp, holds.cpp, housekeeping.cpp).
#include "records/database.h"

#include <string>
#include <utility>

#include "base/log.h"
#include "records/migrations.h"
#include "records/sqlite.h"

namespace custodian::records {

namespace {

// 'CUST' in the file header: marks records.db as ours to file(1) and to Open.
constexpr int64_t kApplicationId = 0x43555354;

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Database::Database(std::string path, const Clock& clock)
    : path_(std::move(path)), clock_(clock), conn_(std::make_unique<Connection>()) {}

Database::~Database() = default;

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, const Clock& clock,
                                                 const OpenOptions& options) {
  std::unique_ptr<Database> db(new Database(path, clock));
  Status st = db->Initialise(options);
  if (!st.ok()) return st;
  return db;
}

Status Database::Initialise(const OpenOptions& options) {
  Lock lock(mu_);
  sqlite3* raw = nullptr;
  // NOMUTEX: mu_ already serialises every use of the connection.
  int rc =
      sqlite3_open_v2(path_.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  conn_->db.reset(raw);
  if (rc != SQLITE_OK) return SqliteStatus(rc, raw, "records: opening " + path_);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);

  // journal_mode answers with the mode in force, which stays "delete" where WAL is
  // impossible (some network filesystems); multi-process use needs WAL.
  {
    RECORDS_ASSIGN_OR_RETURN(Statement wal, Prepare("PRAGMA journal_mode=WAL"));
    RECORDS_ASSIGN_OR_RETURN(bool has_row, wal.Step());
    if (!has_row || wal.ColText(0) != "wal") {
      return FailedPrecondition("records: " + path_ + " cannot use WAL journal mode");
    }
  }
  // FULL: a committed segment row must survive power loss, since the file it names
  // was fsynced before the commit and retention trusts the row.
  CUSTODIAN_RETURN_IF_ERROR(Exec("PRAGMA synchronous=FULL"));
  CUSTODIAN_RETURN_IF_ERROR(Migrate());
  return Exec("PRAGMA foreign_keys=ON");
}

Result<int> Database::ReadSchemaVersion() {
  RECORDS_ASSIGN_OR_RETURN(
      Statement tables, Prepare("SELECT count(*), count(*) FILTER (WHERE name = 'schema_version') "
                                "FROM sqlite_schema WHERE type = 'table'"));
  RECORDS_ASSIGN_OR_RETURN(bool row, tables.Step());
  if (!row) return Internal("records: cannot list tables");
  if (tables.ColInt(1) == 0) {
    if (tables.ColInt(0) > 0) {
      return FailedPrecondition("records: " + path_ +
                                " is an SQLite file but not a custodian records database");
    }
    return 0;
  }
  RECORDS_ASSIGN_OR_RETURN(Statement version,
                           Prepare("SELECT coalesce(max(version), 0) FROM schema_version"));
  RECORDS_ASSIGN_OR_RETURN(bool vrow, version.Step());
  if (!vrow) return Internal("records: cannot read schema_version");
  return static_cast<int>(version.ColInt(0));
}

Status Database::Migrate() {
  // Foreign keys can be switched only outside a transaction; migrations that rebuild a
  // table need them off, and foreign_key_check below stands in for them.
  CUSTODIAN_RETURN_IF_ERROR(Exec("PRAGMA foreign_keys=OFF"));
  CUSTODIAN_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Status st = [&]() REQUIRES(mu_) -> Status {
    RECORDS_ASSIGN_OR_RETURN(int current, ReadSchemaVersion());
    const int latest = LatestSchemaVersion();
    if (current > latest) {
      return FailedPrecondition(BaseName(path_) + " is schema version " + std::to_string(current) +
                                " but this custodian knows up to " + std::to_string(latest) +
                                "; upgrade custodian");
    }
    if (current == 0) {
      CUSTODIAN_RETURN_IF_ERROR(Exec("PRAGMA application_id=" + std::to_string(kApplicationId)));
      CUSTODIAN_RETURN_IF_ERROR(
          Exec("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
               "applied_us INTEGER NOT NULL, summary TEXT NOT NULL) STRICT"));
    }
    for (const Migration& m : Migrations()) {
      if (m.version <= current) continue;
      CUSTODIAN_RETURN_IF_ERROR(Exec(m.sql));
      RECORDS_ASSIGN_OR_RETURN(Statement ins,
                               Prepare("INSERT INTO schema_version (version, applied_us, summary) "
                                       "VALUES (?, ?, ?)"));
      CUSTODIAN_RETURN_IF_ERROR(ins.Int(m.version).Time(Now()).Text(m.summary).Run());
      LogInfo("records") << BaseName(path_) << " migrated to schema version " << m.version << " ("
                         << m.summary << ")";
    }
    RECORDS_ASSIGN_OR_RETURN(Statement fk, Prepare("PRAGMA foreign_key_check"));
    RECORDS_ASSIGN_OR_RETURN(bool violation, fk.Step());
    if (violation) {
      return Internal("records: migration left a foreign key violation in table " + fk.ColText(0));
    }
    schema_version_ = latest;
    return Status::Ok();
  }();
  if (!st.ok()) {
    if (sqlite3_get_autocommit(conn_->db.get()) == 0) (void)Exec("ROLLBACK");
    return st;
  }
  return Exec("COMMIT");
}

Result<Statement> Database::Prepare(const std::string& sql) {
  sqlite3* db = conn_->db.get();
  auto& slot = conn_->statements[sql];
  if (slot && !slot->busy) {
    slot->busy = true;
    return Statement(db, slot->stmt.get(), &slot->busy);
  }
  sqlite3_stmt* raw = nullptr;
  // A statement already borrowed (a nested use) gets a one-off copy; the rest are cached.
  const bool cache = !slot;
  int rc = sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size()),
                              cache ? SQLITE_PREPARE_PERSISTENT : 0, &raw, nullptr);
  StmtHandle handle(raw);
  if (rc != SQLITE_OK) {
    if (cache) conn_->statements.erase(sql);
    return SqliteStatus(sqlite3_extended_errcode(db), db, "records: preparing statement");
  }
  if (!cache) return Statement(db, std::move(handle));
  slot = std::make_unique<Connection::CachedStatement>();
  slot->stmt = std::move(handle);
  slot->busy = true;
  return Statement(db, slot->stmt.get(), &slot->busy);
}

Status Database::Exec(const std::string& sql) { return ExecSql(conn_->db.get(), sql); }

Status Database::WithTransaction(const std::function<Status()>& body) {
  Lock lock(mu_);
  const int depth = conn_->transaction_depth;
  const std::string savepoint = "sp" + std::to_string(depth);
  // IMMEDIATE takes the write lock up front, so the busy timeout applies here rather
  // than failing later when a read transaction cannot be upgraded.
  CUSTODIAN_RETURN_IF_ERROR(Exec(depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT " + savepoint));
  // Destroyed before `lock` (declared after it), so the connection is still held by this thread.
  struct Undo {
    Connection* conn;
    int depth;
    std::string savepoint;
    bool done = false;
    ~Undo() {
      conn->transaction_depth = depth;
      if (done || sqlite3_get_autocommit(conn->db.get()) != 0) return;
      (void)ExecSql(conn->db.get(), depth == 0
                                        ? "ROLLBACK"
                                        : "ROLLBACK TO " + savepoint + "; RELEASE " + savepoint);
    }
  } undo{conn_.get(), depth, savepoint};
  conn_->transaction_depth = depth + 1;
  Status st = body();
  if (!st.ok()) return st;
  st = Exec(depth == 0 ? "COMMIT" : "RELEASE " + savepoint);
  undo.done = st.ok();
  return st;
}

// --- Redactions (schema v3) -------------------------------------------------------------------

namespace {

const char kRedactionColumns[] =
    "id, export_id, input_sha256, output_sha256, record_json, created_us, reviewer_user_id, "
    "signed_off_us";

Database::RedactionRow ReadRedaction(const Statement& st) {
  Database::RedactionRow r;
  r.id = st.ColInt(0);
  r.export_id = st.ColOptInt(1);
  r.input_sha256 = st.ColText(2);
  r.output_sha256 = st.ColText(3);
  r.record_json = st.ColText(4);
  r.created = st.ColTime(5);
  r.reviewer_user_id = st.ColOptInt(6);
  r.signed_off = st.ColOptTime(7);
  return r;
}

// Why an update of a redaction that is not signed off changed no row: there is no such
// redaction, or it is signed off already.
Status WhyRedactionUnchanged(Database& db, int64_t id) {
  auto existing = db.GetRedaction(id);
  if (!existing.ok()) return existing.status();
  if (!*existing) return NotFound("no redaction " + std::to_string(id));
  return FailedPrecondition("redaction " + std::to_string(id) + " is signed off already");
}

}  // namespace

Result<int64_t> Database::AddRedaction(const RedactionRow& row) {
  if (row.signed_off && !row.reviewer_user_id) {
    return InvalidArgument("a redaction's sign-off needs its reviewer");
  }
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(
      Statement st,
      Prepare("INSERT INTO redactions (export_id, input_sha256, output_sha256, record_json, "
              "created_us, reviewer_user_id, signed_off_us) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  CUSTODIAN_RETURN_IF_ERROR(st.OptInt(row.export_id)
                                .Text(row.input_sha256)
                                .Text(row.output_sha256)
                                .Text(row.record_json)
                                .Time(Now())
                                .OptInt(row.reviewer_user_id)
                                .OptTime(row.signed_off)
                                .Run());
  return static_cast<int64_t>(sqlite3_last_insert_rowid(conn_->db.get()));
}

Result<std::optional<Database::RedactionRow>> Database::GetRedaction(int64_t id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare(std::string("SELECT ") + kRedactionColumns +
                                                 " FROM redactions WHERE id = ?"));
  st.Int(id);
  RECORDS_ASSIGN_OR_RETURN(std::vector<RedactionRow> rows,
                           CollectRows<RedactionRow>(st, ReadRedaction));
  if (rows.empty()) return std::optional<RedactionRow>();
  return std::optional<RedactionRow>(std::move(rows.front()));
}

Result<std::vector<Database::RedactionRow>> Database::ListRedactionsForExport(int64_t export_id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare(std::string("SELECT ") + kRedactionColumns +
                                                 " FROM redactions WHERE export_id = ? "
                                                 "ORDER BY id"));
  st.Int(export_id);
  return CollectRows<RedactionRow>(st, ReadRedaction);
}

Status Database::SignOffRedaction(int64_t id, int64_t reviewer_user_id) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("UPDATE redactions SET reviewer_user_id = ?, signed_off_us = ? "
                                   "WHERE id = ? AND signed_off_us IS NULL"));
  CUSTODIAN_RETURN_IF_ERROR(st.Int(reviewer_user_id).Time(Now()).Int(id).Run());
  if (st.Changes() == 0) return WhyRedactionUnchanged(*this, id);
  return Status::Ok();
}

Status Database::UpdateRedactionRecord(int64_t id, const std::string& output_sha256,
                                       const std::string& record_json) {
  Lock lock(mu_);
  RECORDS_ASSIGN_OR_RETURN(Statement st,
                           Prepare("UPDATE redactions SET output_sha256 = ?, record_json = ? "
                                   "WHERE id = ? AND signed_off_us IS NULL"));
  CUSTODIAN_RETURN_IF_ERROR(st.Text(output_sha256).Text(record_json).Int(id).Run());
  if (st.Changes() == 0) return WhyRedactionUnchanged(*this, id);
  return Status::Ok();
}

}  // namespace custodian::records
