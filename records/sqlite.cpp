#include "records/sqlite.h"

namespace custodian::records {

ErrorKind SqliteErrorKind(int extended_rc) {
  switch (extended_rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_ROWID:
      return ErrorKind::kAlreadyExists;
    default:
      break;
  }
  switch (extended_rc & 0xff) {
    case SQLITE_OK:
      return ErrorKind::kOk;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return ErrorKind::kUnavailable;
    case SQLITE_CONSTRAINT:
      return ErrorKind::kFailedPrecondition;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return ErrorKind::kDataLoss;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return ErrorKind::kResourceExhausted;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return ErrorKind::kIo;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return ErrorKind::kPermissionDenied;
    default:
      return ErrorKind::kInternal;
  }
}

Status SqliteStatus(int rc, sqlite3* db, std::string_view what) {
  ErrorKind kind = SqliteErrorKind(rc);
  if (kind == ErrorKind::kOk) return Status::Ok();
  // The connection's message is more specific ("CHECK constraint failed: ...") but only
  // describes this failure if the connection's last error is this rc.
  const char* msg = (db != nullptr && sqlite3_extended_errcode(db) == rc) ? sqlite3_errmsg(db)
                                                                          : sqlite3_errstr(rc);
  return Status(kind, std::string(what) + ": " + msg);
}

Status ExecSql(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  rc = sqlite3_extended_errcode(db);
  return Status(SqliteErrorKind(rc), "records: " + msg);
}

Statement::Statement(Statement&& o) noexcept
    : db_(o.db_),
      stmt_(std::exchange(o.stmt_, nullptr)),
      owned_(std::move(o.owned_)),
      busy_(std::exchange(o.busy_, nullptr)),
      next_param_(o.next_param_),
      bind_rc_(o.bind_rc_),
      decode_error_(std::move(o.decode_error_)) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  if (busy_ != nullptr) *busy_ = false;
}

Statement& Statement::Check(int rc) {
  ++next_param_;
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::Int(int64_t v) { return Check(sqlite3_bind_int64(stmt_, next_param_, v)); }

Statement& Statement::Text(std::string_view v) {
  return Check(
      sqlite3_bind_text64(stmt_, next_param_, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

Statement& Statement::Null() { return Check(sqlite3_bind_null(stmt_, next_param_)); }

Result<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) {
    return SqliteStatus(bind_rc_, nullptr, std::string("records: binding ") + sqlite3_sql(stmt_));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  rc = sqlite3_extended_errcode(db_);
  // Name the table, not the values: the statement text carries only placeholders.
  std::string sql = sqlite3_sql(stmt_);
  if (sql.size() > 60) sql = sql.substr(0, 57) + "...";
  return SqliteStatus(rc, db_, "records: " + sql);
}

Status Statement::Run() {
  for (;;) {
    Result<bool> r = Step();
    if (!r.ok()) return r.status();
    if (!*r) return Status::Ok();
  }
}

std::string Statement::ColText(int c) const {
  const unsigned char* p = sqlite3_column_text(stmt_, c);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, c));
}

std::optional<int64_t> Statement::ColOptInt(int c) const {
  if (ColNull(c)) return std::nullopt;
  return ColInt(c);
}

std::optional<std::string> Statement::ColOptText(int c) const {
  if (ColNull(c)) return std::nullopt;
  return ColText(c);
}

std::optional<UtcMicros> Statement::ColOptTime(int c) const {
  if (ColNull(c)) return std::nullopt;
  return ColTime(c);
}

}  // namespace custodian::records
