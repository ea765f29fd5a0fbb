// `custodian backup DEST` and `custodian restore SRC`: the records, keys and configuration
// in one encrypted file (format in app/backup_archive.h). Footage is not backed up.
//
//   backup DEST [--key-file FILE]
//       copies records.db with SQLite's online backup API (the services keep running and
//       writing), the keys directory, the site file, the camera files and the camera
//       password files into DEST, encrypted with a passphrase read from stdin (twice, without
//       echo, on a terminal) or from FILE. DEST must not exist.
//   restore SRC [--key-file FILE] [--force] [--verify-only]
//       decrypts and checks the whole backup before it changes anything, then puts every
//       file back where it came from: data files into the backed-up data_dir, configuration
//       files to their paths (an existing, different one is kept beside it as
//       NAME.before-restore). Refuses a data_dir that already holds records or keys unless
//       --force, and refuses while the retain service holds its lock. --verify-only checks
//       and writes nothing.
//
// The plaintext inside the encryption is a list of entries, each
//   u8 type | u16 name length | name | u32 mode | u64 size | data | SHA-256 hex of data [64]
// of types 'M' (meta: key=value lines), 'C' (a configuration file; name is its absolute
// path), 'D' (a data file; name is relative to data_dir) and, last, 'E' (data is the number
// of entries before it). Exit codes: 0 ok; 1 failed (nothing written by restore); 2 usage;
// 3 bad config.
#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "app/backup_archive.h"
#include "app/site_context.h"
#include "base/clock.h"
#include "base/sha256.h"
#include "base/time.h"
#include "records/migrations.h"
#include "version.h"

namespace custodian {

namespace {

constexpr char kBackupUsage[] = "usage: custodian backup DEST [--key-file FILE]\n";
constexpr char kRestoreUsage[] =
    "usage: custodian restore SRC [--key-file FILE] [--force] [--verify-only]\n";
constexpr size_t kMinPassphraseChars = 10;
constexpr size_t kCopyBytes = 64 * 1024;

int Fail(const char* verb, const Status& st) {
  std::fprintf(stderr, "custodian: %s: %s\n", verb, st.ToString().c_str());
  return st.kind() == ErrorKind::kInvalidArgument ? kExitConfig : kExitFailure;
}

// --- Passphrase -------------------------------------------------------------------------

Result<std::string> ReadPassphrase(const std::string& key_file, bool twice) {
  std::string first;
  if (!key_file.empty()) {
    std::ifstream in(key_file, std::ios::binary);
    if (!in) return NotFound("cannot read the key file " + key_file);
    std::stringstream text;
    text << in.rdbuf();
    first = text.str();
    if (!first.empty() && first.back() == '\n') first.pop_back();
  } else {
    const bool tty = ::isatty(STDIN_FILENO) == 1;
    termios saved{};
    if (tty) {
      tcgetattr(STDIN_FILENO, &saved);
      termios quiet = saved;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
      std::fprintf(stderr, "backup passphrase: ");
    }
    bool ok = static_cast<bool>(std::getline(std::cin, first));
    std::string second = first;
    if (ok && tty && twice) {
      std::fprintf(stderr, "\nagain: ");
      ok = static_cast<bool>(std::getline(std::cin, second));
    }
    if (tty) {
      tcsetattr(STDIN_FILENO, TCSANOW, &saved);
      std::fprintf(stderr, "\n");
    }
    if (!ok) return InvalidArgument("no passphrase on stdin");
    if (first != second) return InvalidArgument("the passphrases differ");
  }
  if (first.size() < kMinPassphraseChars) {
    return InvalidArgument("a backup passphrase needs at least " +
                           std::to_string(kMinPassphraseChars) + " characters");
  }
  return first;
}

// --- Entries ----------------------------------------------------------------------------

struct EntryHeader {
  char type = 0;
  std::string name;
  uint32_t mode = 0600;
  uint64_t size = 0;
};

Status WriteHeader(BackupWriter& w, const EntryHeader& h) {
  std::string b(1, h.type);
  b += static_cast<char>(h.name.size() >> 8);
  b += static_cast<char>(h.name.size() & 0xff);
  b += h.name;
  for (int i = 3; i >= 0; --i) b += static_cast<char>((h.mode >> (8 * i)) & 0xff);
  for (int i = 7; i >= 0; --i) b += static_cast<char>((h.size >> (8 * i)) & 0xff);
  return w.Write(b.data(), b.size());
}

Status WriteEntry(BackupWriter& w, char type, const std::string& name, const std::string& data) {
  CUSTODIAN_RETURN_IF_ERROR(WriteHeader(w, {type, name, 0600, data.size()}));
  CUSTODIAN_RETURN_IF_ERROR(w.Write(data.data(), data.size()));
  const std::string sum = Sha256Hex(data);
  return w.Write(sum.data(), sum.size());
}

// Streams a file into an entry; returns its size.
Result<uint64_t> WriteFileEntry(BackupWriter& w, char type, const std::string& name,
                                const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("opening " + path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return IoError(path + " is not a regular file");
  }
  Status s = WriteHeader(
      w, {type, name, static_cast<uint32_t>(st.st_mode & 0777), static_cast<uint64_t>(st.st_size)});
  Sha256 sum;
  std::vector<char> buf(kCopyBytes);
  uint64_t left = static_cast<uint64_t>(st.st_size);
  while (s.ok() && left > 0) {
    ssize_t n = ::read(fd, buf.data(), std::min<uint64_t>(buf.size(), left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      s = n < 0 ? ErrnoStatus("reading " + path, errno) : IoError(path + " shrank while read");
      break;
    }
    sum.Update(buf.data(), static_cast<size_t>(n));
    s = w.Write(buf.data(), static_cast<size_t>(n));
    left -= static_cast<uint64_t>(n);
  }
  ::close(fd);
  CUSTODIAN_RETURN_IF_ERROR(s);
  const std::string hex = sum.FinishHex();
  CUSTODIAN_RETURN_IF_ERROR(w.Write(hex.data(), hex.size()));
  return static_cast<uint64_t>(st.st_size);
}

Result<EntryHeader> ReadHeader(BackupReader& r) {
  EntryHeader h;
  uint8_t fixed[3];
  CUSTODIAN_RETURN_IF_ERROR(r.Read(fixed, 3));
  h.type = static_cast<char>(fixed[0]);
  h.name.resize((size_t{fixed[1]} << 8) | fixed[2]);
  CUSTODIAN_RETURN_IF_ERROR(r.Read(h.name.data(), h.name.size()));
  uint8_t rest[12];
  CUSTODIAN_RETURN_IF_ERROR(r.Read(rest, 12));
  h.mode = 0;
  for (int i = 0; i < 4; ++i) h.mode = (h.mode << 8) | rest[i];
  for (int i = 4; i < 12; ++i) h.size = (h.size << 8) | rest[i];
  if (std::string("MCDE").find(h.type) == std::string::npos) {
    return DataLoss("the backup holds an entry of unknown type");
  }
  return h;
}

// Reads an entry's data into out (a file descriptor, or -1 to only check it) and checks
// its SHA-256; small entries are also returned in *text.
Status ReadEntryData(BackupReader& r, const EntryHeader& h, int out, std::string* text) {
  Sha256 sum;
  std::vector<char> buf(kCopyBytes);
  uint64_t left = h.size;
  while (left > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), left));
    CUSTODIAN_RETURN_IF_ERROR(r.Read(buf.data(), n));
    sum.Update(buf.data(), n);
    if (text) text->append(buf.data(), n);
    for (size_t done = 0; out >= 0 && done < n;) {
      ssize_t w = ::write(out, buf.data() + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return ErrnoStatus("writing " + h.name, errno);
      done += static_cast<size_t>(w);
    }
    left -= n;
  }
  std::string want(64, '\0');
  CUSTODIAN_RETURN_IF_ERROR(r.Read(want.data(), want.size()));
  if (sum.FinishHex() != want) return DataLoss(h.name + " does not match its SHA-256");
  return Status::Ok();
}

std::map<std::string, std::string> ParseMeta(const std::string& text) {
  std::map<std::string, std::string> m;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) m[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return m;
}

// --- SQLite snapshot ----------------------------------------------------------------------

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using SqliteHandle = std::unique_ptr<sqlite3, SqliteCloser>;

Result<SqliteHandle> OpenSqlite(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  SqliteHandle db(raw);
  if (rc != SQLITE_OK) {
    return IoError("opening " + path + ": " + (raw ? sqlite3_errmsg(raw) : "out of memory"));
  }
  sqlite3_busy_timeout(db.get(), 10000);
  return db;
}

// The first column of the first row of sql, as text; "" if no row.
Result<std::string> QueryText(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
    return DataLoss(std::string("records check failed: ") + sqlite3_errmsg(db));
  }
  std::string out;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW && sqlite3_column_text(st, 0)) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    return DataLoss(std::string("records check failed: ") + sqlite3_errstr(rc));
  }
  return out;
}

// A records database that SQLite finds sound, at a schema version this build knows.
Result<int> CheckRecordsFile(const std::string& path) {
  auto db = OpenSqlite(path, SQLITE_OPEN_READONLY);
  if (!db.ok()) return db.status();
  auto check = QueryText(db->get(), "PRAGMA quick_check");
  if (!check.ok()) return check.status();
  if (*check != "ok") return DataLoss("the records database is damaged: " + *check);
  auto version = QueryText(db->get(), "SELECT max(version) FROM schema_version");
  if (!version.ok()) return DataLoss("not a records database: " + version.status().message());
  const int v = std::atoi(version->c_str());
  if (v > records::LatestSchemaVersion()) {
    return FailedPrecondition("the backup's records are schema version " + std::to_string(v) +
                              " but this custodian knows up to " +
                              std::to_string(records::LatestSchemaVersion()) +
                              "; restore with a newer custodian");
  }
  return v;
}

// A consistent copy of the live records.db, taken in one read transaction: in WAL mode the
// services keep writing meanwhile.
Status SnapshotRecords(const std::string& from, const std::string& to) {
  auto src = OpenSqlite(from, SQLITE_OPEN_READONLY);
  if (!src.ok()) return src.status();
  auto dst = OpenSqlite(to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!dst.ok()) return dst.status();
  for (int attempt = 0;; ++attempt) {
    sqlite3_backup* b = sqlite3_backup_init(dst->get(), "main", src->get(), "main");
    if (!b) return IoError(std::string("snapshot: ") + sqlite3_errmsg(dst->get()));
    int rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc == SQLITE_DONE) return Status::Ok();
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || attempt == 20) {
      return IoError(std::string("snapshot of ") + from + ": " + sqlite3_errstr(rc));
    }
    sqlite3_sleep(250);
  }
}

// --- Backup -------------------------------------------------------------------------------

// Regular, non-hidden files directly in dir, sorted.
std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> out;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), &::closedir);
  if (!d) return out;
  while (dirent* e = ::readdir(d.get())) {
    if (e->d_name[0] == '.') continue;
    const std::string path = JoinPath(dir, e->d_name);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) out.push_back(path);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> ConfigFiles(const config::SiteConfig& site) {
  std::set<std::string> seen;
  std::vector<std::string> out;
  auto add = [&](const std::string& p) {
    if (!p.empty() && seen.insert(p).second) out.push_back(p);
  };
  add(site.path);
  if (!site.cameras_dir.empty()) {
    for (const std::string& f : FilesIn(site.cameras_dir)) add(f);
  }
  for (const auto& c : site.cameras) add(c.password_file);
  add(site.http.tls_cert);
  add(site.http.tls_key);
  return out;
}

Status WriteBackup(const config::SiteConfig& site, const std::string& dest,
                   const std::string& passphrase, const std::string& snapshot, int schema) {
  auto w = BackupWriter::Create(dest, passphrase);
  if (!w.ok()) return w.status();
  int entries = 0;
  uint64_t bytes = 0;
  const std::string meta = "custodian_version=" + std::string(CUSTODIAN_VERSION) +
                           "\nsite_file=" + site.path + "\ndata_dir=" + site.data_dir +
                           "\nschema_version=" + std::to_string(schema) +
                           "\ncreated_utc=" + FormatUtc(SystemClock::Instance().Now()) + "\n";
  CUSTODIAN_RETURN_IF_ERROR(WriteEntry(**w, 'M', "meta", meta));
  ++entries;
  for (const std::string& f : ConfigFiles(site)) {
    auto n = WriteFileEntry(**w, 'C', f, f);
    if (!n.ok()) return n.status();
    bytes += *n;
    ++entries;
  }
  auto n = WriteFileEntry(**w, 'D', "records.db", snapshot);
  if (!n.ok()) return n.status();
  bytes += *n;
  ++entries;
  const std::string keys = config::KeysDir(site);
  for (const std::string& f : FilesIn(keys)) {
    auto k = WriteFileEntry(**w, 'D', "keys/" + f.substr(keys.size() + 1), f);
    if (!k.ok()) return k.status();
    bytes += *k;
    ++entries;
  }
  CUSTODIAN_RETURN_IF_ERROR(WriteEntry(**w, 'E', "", std::to_string(entries)));
  CUSTODIAN_RETURN_IF_ERROR((*w)->Finish());
  std::printf(
      "backup written: %s\n%d files, %llu bytes before encryption (records schema "
      "version %d)\nFootage is not in the backup.\n",
      dest.c_str(), entries - 1, static_cast<unsigned long long>(bytes), schema);
  return Status::Ok();
}

bool ParseCommon(const std::vector<std::string>& args, std::string* path, std::string* key_file,
                 bool* force, bool* verify_only) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--key-file" && i + 1 < args.size()) {
      *key_file = args[++i];
    } else if (force && args[i] == "--force") {
      *force = true;
    } else if (verify_only && args[i] == "--verify-only") {
      *verify_only = true;
    } else if (path->empty() && !args[i].empty() && args[i][0] != '-') {
      *path = args[i];
    } else {
      return false;
    }
  }
  return !path->empty();
}

// --- Restore ------------------------------------------------------------------------------

// Where restored files are written before they are checked, and what to do with them.
struct StagedFile {
  std::string target;
  std::string partial;
  bool is_data;
};

// Removes the staged files unless the restore was committed.
class Staging {
 public:
  ~Staging() {
    if (committed) return;
    for (const auto& f : files) ::unlink(f.partial.c_str());
  }
  std::vector<StagedFile> files;
  bool committed = false;
};

bool SafeRelative(const std::string& name) {
  if (name.empty() || name[0] == '/') return false;
  std::istringstream parts(name);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

bool SafeAbsolute(const std::string& name) {
  return name.size() > 1 && name[0] == '/' && SafeRelative(name.substr(1));
}

Status MakeParents(const std::string& path) {
  return PosixFilesystem::Instance().CreateDirs(path.substr(0, path.rfind('/')));
}

Status StageEntry(BackupReader& r, const EntryHeader& h, const std::string& target,
                  bool verify_only, Staging* staging) {
  if (verify_only) return ReadEntryData(r, h, -1, nullptr);
  CUSTODIAN_RETURN_IF_ERROR(MakeParents(target));
  const std::string partial = target + ".restore-partial";
  int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                  static_cast<mode_t>(h.mode & 0777));
  if (fd < 0) return ErrnoStatus("creating " + partial, errno);
  staging->files.push_back({target, partial, h.type == 'D'});
  Status st = ReadEntryData(r, h, fd, nullptr);
  if (st.ok() && ::fsync(fd) != 0) st = ErrnoStatus("fsync " + partial, errno);
  ::close(fd);
  return st;
}

bool SameContent(const std::string& a, const std::string& b) {
  auto ha = Sha256File(a), hb = Sha256File(b);
  return ha.ok() && hb.ok() && *ha == *hb;
}

// Puts every staged file in place; data files take the owner of data_dir.
Status Commit(Staging& staging, const std::string& data_dir) {
  struct stat owner {};
  const bool chown_data =
      ::geteuid() == 0 && ::stat(data_dir.c_str(), &owner) == 0 && owner.st_uid != 0;
  auto& fs = PosixFilesystem::Instance();
  for (const StagedFile& f : staging.files) {
    if (!f.is_data && fs.Exists(f.target)) {
      if (SameContent(f.target, f.partial)) {
        ::unlink(f.partial.c_str());
        continue;
      }
      CUSTODIAN_RETURN_IF_ERROR(fs.Rename(f.target, f.target + ".before-restore"));
      std::printf("kept the previous %s as %s.before-restore\n", f.target.c_str(),
                  f.target.c_str());
    }
    if (f.is_data && f.target == JoinPath(data_dir, "records.db")) {
      // The old database's write-ahead log belongs to the old file, not to this one.
      ::unlink((f.target + "-wal").c_str());
      ::unlink((f.target + "-shm").c_str());
    }
    if (chown_data && f.is_data) {
      if (::chown(f.partial.c_str(), owner.st_uid, owner.st_gid) != 0) {
        return ErrnoStatus("chown " + f.partial, errno);
      }
      const std::string parent = f.target.substr(0, f.target.rfind('/'));
      if (parent != data_dir && ::chown(parent.c_str(), owner.st_uid, owner.st_gid) != 0) {
        return ErrnoStatus("chown " + parent, errno);
      }
    }
    CUSTODIAN_RETURN_IF_ERROR(fs.Rename(f.partial, f.target));
    CUSTODIAN_RETURN_IF_ERROR(fs.SyncDir(f.target.substr(0, f.target.rfind('/'))));
  }
  staging.committed = true;
  // Made by MakeParents with the usual mode; the keys are for the service user alone.
  const std::string keys = JoinPath(data_dir, "keys");
  if (fs.Exists(keys) && ::chmod(keys.c_str(), 0700) != 0)
    return ErrnoStatus("chmod " + keys, errno);
  return Status::Ok();
}

// Whether data_dir already holds records or keys that a restore would replace.
std::vector<std::string> ExistingData(const std::string& data_dir) {
  std::vector<std::string> found;
  const std::string db = JoinPath(data_dir, "records.db");
  if (PosixFilesystem::Instance().Exists(db)) found.push_back(db);
  for (const std::string& f : FilesIn(JoinPath(data_dir, "keys"))) found.push_back(f);
  return found;
}

// True when another process (the retain service) holds data_dir's retention lock.
bool RetentionLockHeld(const std::string& data_dir) {
  int fd = ::open(JoinPath(data_dir, "retention.lock").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
  ::close(fd);
  return held;
}

Status Restore(const std::string& src, const std::string& passphrase, bool force,
               bool verify_only) {
  auto r = BackupReader::Open(src, passphrase);
  if (!r.ok()) return r.status();
  auto first = ReadHeader(**r);
  if (!first.ok()) return first.status();
  std::string meta_text;
  if (first->type != 'M') return DataLoss("the backup does not start with its description");
  CUSTODIAN_RETURN_IF_ERROR(ReadEntryData(**r, *first, -1, &meta_text));
  auto meta = ParseMeta(meta_text);
  const std::string data_dir = meta["data_dir"];
  if (!SafeAbsolute(data_dir)) return DataLoss("the backup names no usable data directory");
  std::printf("backup of %s made %s by custodian %s\n", meta["site_file"].c_str(),
              meta["created_utc"].c_str(), meta["custodian_version"].c_str());

  if (!verify_only) {
    if (RetentionLockHeld(data_dir)) {
      return FailedPrecondition("the retain service is running on " + data_dir +
                                "; stop the custodian services before restoring");
    }
    auto existing = ExistingData(data_dir);
    if (!existing.empty() && !force) {
      return FailedPrecondition(data_dir + " already holds records or keys (" + existing[0] +
                                (existing.size() > 1 ? " and more" : "") +
                                "); restore will not overwrite them without --force");
    }
  }
  Staging staging;
  int entries = 1;
  std::string staged_db;
  for (;;) {
    auto h = ReadHeader(**r);
    if (!h.ok()) return h.status();
    if (h->type == 'E') {
      std::string count;
      CUSTODIAN_RETURN_IF_ERROR(ReadEntryData(**r, *h, -1, &count));
      if (count != std::to_string(entries)) return DataLoss("the backup's entry count is wrong");
      break;
    }
    std::string target;
    if (h->type == 'C' && SafeAbsolute(h->name)) {
      target = h->name;
    } else if (h->type == 'D' && SafeRelative(h->name)) {
      target = JoinPath(data_dir, h->name);
    } else {
      return DataLoss("the backup holds an entry with an unsafe name");
    }
    CUSTODIAN_RETURN_IF_ERROR(StageEntry(**r, *h, target, verify_only, &staging));
    if (h->type == 'D' && h->name == "records.db" && !verify_only) {
      staged_db = staging.files.back().partial;
    }
    ++entries;
  }
  CUSTODIAN_RETURN_IF_ERROR((*r)->ExpectEnd());
  if (verify_only) {
    std::printf("VERIFIED: %d files decrypt and match their SHA-256; nothing written\n",
                entries - 1);
    return Status::Ok();
  }
  if (staged_db.empty()) return DataLoss("the backup holds no records database");
  auto schema = CheckRecordsFile(staged_db);
  if (!schema.ok()) return schema.status();
  CUSTODIAN_RETURN_IF_ERROR(Commit(staging, data_dir));
  std::printf(
      "restored %d files; records schema version %d in %s\n"
      "Footage is not in backups: recordings made before now are not restored.\n",
      entries - 1, *schema, data_dir.c_str());
  return Status::Ok();
}

}  // namespace

int RunBackup(const GlobalOptions& opts, const std::vector<std::string>& args) {
  std::string dest, key_file;
  if (!ParseCommon(args, &dest, &key_file, nullptr, nullptr)) {
    std::fputs(kBackupUsage, stderr);
    return kExitUsage;
  }
  auto site = config::LoadSiteConfig(opts.config_path);
  if (!site.ok()) return ReportOpenError(site.status());
  const std::string db = config::RecordsDbPath(*site);
  if (!PosixFilesystem::Instance().Exists(db)) {
    return Fail("backup", NotFound(db + " does not exist; nothing to back up"));
  }
  auto passphrase = ReadPassphrase(key_file, /*twice=*/true);
  if (!passphrase.ok()) return Fail("backup", passphrase.status());
  // The plaintext snapshot stays beside the live database, never on the backup's medium.
  const std::string snapshot =
      JoinPath(site->data_dir, ".backup-snapshot-" + std::to_string(::getpid()) + ".db");
  struct Remove {
    std::string path;
    ~Remove() { ::unlink(path.c_str()); }
  } remove_snapshot{snapshot};
  Status st = SnapshotRecords(db, snapshot);
  if (!st.ok()) return Fail("backup", st);
  auto schema = CheckRecordsFile(snapshot);
  if (!schema.ok()) return Fail("backup", schema.status());
  st = WriteBackup(*site, dest, *passphrase, snapshot, *schema);
  return st.ok() ? kExitOk : Fail("backup", st);
}

int RunRestore(const GlobalOptions&, const std::vector<std::string>& args) {
  std::string src, key_file;
  bool force = false, verify_only = false;
  if (!ParseCommon(args, &src, &key_file, &force, &verify_only)) {
    std::fputs(kRestoreUsage, stderr);
    return kExitUsage;
  }
  auto passphrase = ReadPassphrase(key_file, /*twice=*/false);
  if (!passphrase.ok()) return Fail("restore", passphrase.status());
  Status st = Restore(src, *passphrase, force, verify_only);
  return st.ok() ? kExitOk : Fail("restore", st);
}

}  // namespace custodian
