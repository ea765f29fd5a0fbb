// Internal to records/: RAII ownership of SQLite handles, a bound-statement helper, and
// the one function that turns SQLite result codes into ErrorKinds. Nothing outside
// records/ includes this header; callers see only Status and row types.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace custodian::records {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using SqliteHandle = std::unique_ptr<sqlite3, SqliteCloser>;

struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// BUSY/LOCKED -> kUnavailable; CONSTRAINT unique/primary key -> kAlreadyExists, other
// constraints (CHECK, FOREIGN KEY, NOT NULL, trigger) -> kFailedPrecondition;
// CORRUPT/NOTADB -> kDataLoss; FULL/NOMEM -> kResourceExhausted; IOERR/CANTOPEN -> kIo;
// READONLY/PERM/AUTH -> kPermissionDenied; anything else -> kInternal.
ErrorKind SqliteErrorKind(int extended_rc);
// "what: <sqlite message>" with the kind above. db may be null.
Status SqliteStatus(int rc, sqlite3* db, std::string_view what);
// Runs one or more statements that return no rows.
Status ExecSql(sqlite3* db, const std::string& sql);

// A prepared statement borrowed for one use: bind in order, step, read columns. On
// destruction it is reset and its bindings cleared so that it can be reused.
class Statement {
 public:
  // Borrowed from a cache; *busy is cleared on destruction.
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool* busy) : db_(db), stmt_(stmt), busy_(busy) {}
  // A one-off statement that this object owns.
  Statement(sqlite3* db, StmtHandle owned)
      : db_(db), stmt_(owned.get()), owned_(std::move(owned)) {}
  Statement(Statement&& o) noexcept;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Bind the next parameter (?1, ?2, ... in call order).
  Statement& Int(int64_t v);
  Statement& Bool(bool v) { return Int(v ? 1 : 0); }
  Statement& Text(std::string_view v);
  Statement& Null();
  Statement& Double(double v) { return Check(sqlite3_bind_double(stmt_, next_param_, v)); }
  Statement& Time(UtcMicros t) { return Int(t.us); }
  Statement& OptInt(const std::optional<int64_t>& v) { return v ? Int(*v) : Null(); }
  Statement& OptText(const std::optional<std::string>& v) { return v ? Text(*v) : Null(); }
  Statement& OptTime(const std::optional<UtcMicros>& t) { return t ? Int(t->us) : Null(); }

  // True when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion; for statements whose rows (if any) are not wanted.
  Status Run();
  // Rows changed by the last Run/Step of an INSERT, UPDATE or DELETE.
  int64_t Changes() const { return sqlite3_changes64(db_); }

  int64_t ColInt(int c) const { return sqlite3_column_int64(stmt_, c); }
  double ColDouble(int c) const { return sqlite3_column_double(stmt_, c); }
  bool ColBool(int c) const { return ColInt(c) != 0; }
  std::string ColText(int c) const;
  UtcMicros ColTime(int c) const { return UtcMicros{ColInt(c)}; }
  bool ColNull(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
  std::optional<int64_t> ColOptInt(int c) const;
  std::optional<std::string> ColOptText(int c) const;
  std::optional<UtcMicros> ColOptTime(int c) const;

  // Parses an enum column; on an unknown name records kDataLoss, reported by Decoded().
  template <typename E, typename ParseFn>
  E ColEnum(int c, ParseFn parse) const {
    std::string s = ColText(c);
    std::optional<E> v = parse(s);
    if (!v) {
      decode_error_ =
          DataLoss("records: unknown value '" + s + "' in column " + sqlite3_column_name(stmt_, c));
      return E{};
    }
    return *v;
  }
  const Status& Decoded() const { return decode_error_; }

 private:
  Statement& Check(int rc);

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  StmtHandle owned_;
  bool* busy_ = nullptr;
  int next_param_ = 1;
  int bind_rc_ = SQLITE_OK;
  mutable Status decode_error_;
};

// Steps st to completion, reading each row with read(st) into a vector.
template <typename Row, typename ReadFn>
Result<std::vector<Row>> CollectRows(Statement& st, ReadFn read) {
  std::vector<Row> rows;
  for (;;) {
    Result<bool> r = st.Step();
    if (!r.ok()) return r.status();
    if (!*r) break;
    rows.push_back(read(st));
    if (!st.Decoded().ok()) return st.Decoded();
  }
  return rows;
}

}  // namespace custodian::records

#define RECORDS_CONCAT_INNER_(a, b) a##b
#define RECORDS_CONCAT_(a, b) RECORDS_CONCAT_INNER_(a, b)
#define RECORDS_ASSIGN_OR_RETURN_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
// Declares or assigns lhs from a Result, returning its status from the enclosing function
// when it failed: RECORDS_ASSIGN_OR_RETURN(Statement st, Prepare(sql));
#define RECORDS_ASSIGN_OR_RETURN(lhs, expr) \
  RECORDS_ASSIGN_OR_RETURN_(RECORDS_CONCAT_(records_result_, __LINE__), lhs, expr)

namespace custodian::records {

// What a Database guards with its mutex: the connection, its statement cache and the
// depth of nested WithTransaction calls.
struct Connection {
  struct CachedStatement {
    StmtHandle stmt;
    bool busy = false;  // borrowed by a live Statement; a nested use prepares its own
  };
  SqliteHandle db;
  // Declared after db so that statements are finalised before the connection closes.
  std::unordered_map<std::string, std::unique_ptr<CachedStatement>> statements;
  int transaction_depth = 0;
};

}  // namespace custodian::records
