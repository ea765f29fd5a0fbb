// `custodian backup DEST` and `custodian restore SRC`: the records, keys and configuration
// in one encrypted file (format in app/backup_archive.h). Footage is not backed up.
//
//   backup DEST [--key-file FILE]
//       copies records.db with SQLite's online backup API (records/records_file.h: the
//       services keep running and writing), the keys directory, the site file, the camera
//       files and the camera password files into DEST, encrypted with a passphrase read
//       from stdin (twice, without echo, on a terminal) or from FILE. DEST must not exist.
//   restore SRC [--key-file FILE] [--force] [--verify-only] [--target DIR]
//       decrypts and checks the whole backup before it changes anything, then restores it
//       into the paths of the site configuration in force (--config), never the backup's:
//       the data directory is staged whole beside the live one and switched in with one
//       rename (footage and exports move across), and each configuration file goes to the
//       same place under the current site file's directory (an existing, different one is
//       kept beside it as NAME.before-restore). An entry naming anything else is refused.
//       --target DIR restores into DIR/data and DIR/config instead. Refuses a data_dir that
//       already holds records or keys unless --force, and refuses while any process holds
//       the records (see RecordsHolder). --verify-only checks and writes nothing.
//
// The plaintext inside the encryption is a list of entries, each
//   u8 type | u16 name length | name | u32 mode | u64 size | data | SHA-256 hex of data [64]
// of types 'M' (meta: key=value lines), 'C' (a configuration file; name is its absolute
// path), 'D' (a data file; name is relative to data_dir) and, last, 'E' (data is the number
// of entries before it). Exit codes: 0 ok; 1 failed (nothing written by restore); 2 usage;
// 3 bad config.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "app/backup_archive.h"
#include "app/site_context.h"
#include "base/clock.h"
#include "base/sha256.h"
#include "base/time.h"
#include "health/alarm_check.h"
#include "records/database.h"
#include "records/records_file.h"
#include "version.h"

namespace custodian {

namespace {

constexpr char kBackupUsage[] = "usage: custodian backup DEST [--key-file FILE]\n";
constexpr char kRestoreUsage[] =
    "usage: custodian restore SRC [--key-file FILE] [--force] [--verify-only] [--target DIR]\n";
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
    auto text = ReadFileToString(PosixFilesystem::Instance(), key_file, 64 * 1024);
    if (!text.ok() && text.status().kind() == ErrorKind::kResourceExhausted) {
      return InvalidArgument("the key file " + key_file + " is larger than a passphrase can be");
    }
    if (!text.ok()) return NotFound("cannot read the key file " + key_file);
    first = *text;
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

// Streams a file, read through fs, into an entry; returns its size.
Result<uint64_t> WriteFileEntry(Filesystem& fs, BackupWriter& w, char type, const std::string& name,
                                const std::string& path) {
  auto file = fs.OpenSequential(path);  // kIo for anything but a regular file
  if (!file.ok()) return file.status();
  auto size = fs.FileSize(path);
  if (!size.ok()) return size.status();
  // The entry records the file's permissions, which only the metadata holds (restore sets
  // its own).
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat " + path, errno);
  CUSTODIAN_RETURN_IF_ERROR(
      WriteHeader(w, {type, name, static_cast<uint32_t>(st.st_mode & 0777), *size}));
  Sha256 sum;
  std::vector<char> buf(kCopyBytes);
  for (uint64_t left = *size; left > 0;) {
    auto n = (*file)->Read(buf.data(), std::min<uint64_t>(buf.size(), left));
    if (!n.ok()) return n.status();
    if (*n == 0) return IoError(path + " shrank while read");
    sum.Update(buf.data(), *n);
    CUSTODIAN_RETURN_IF_ERROR(w.Write(buf.data(), *n));
    left -= *n;
  }
  const std::string hex = sum.FinishHex();
  CUSTODIAN_RETURN_IF_ERROR(w.Write(hex.data(), hex.size()));
  return *size;
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

Status WriteBackup(Filesystem& fs, const config::SiteConfig& site, const std::string& dest,
                   const std::string& passphrase, const std::string& snapshot, int schema,
                   const std::string& access_head) {
  auto w = BackupWriter::Create(dest, passphrase, DefaultBackupKdfCost(), fs);
  if (!w.ok()) return w.status();
  int entries = 0;
  uint64_t bytes = 0;
  const std::string meta = "custodian_version=" + std::string(CUSTODIAN_VERSION) +
                           "\nsite_file=" + site.path + "\ndata_dir=" + site.data_dir +
                           "\nschema_version=" + std::to_string(schema) +
                           "\naccess_log_head=" + access_head +
                           "\ncreated_utc=" + FormatUtc(SystemClock::Instance().Now()) + "\n";
  CUSTODIAN_RETURN_IF_ERROR(WriteEntry(**w, 'M', "meta", meta));
  ++entries;
  for (const std::string& f : ConfigFiles(site)) {
    auto n = WriteFileEntry(fs, **w, 'C', f, f);
    if (!n.ok()) return n.status();
    bytes += *n;
    ++entries;
  }
  auto n = WriteFileEntry(fs, **w, 'D', "records.db", snapshot);
  if (!n.ok()) return n.status();
  bytes += *n;
  ++entries;
  const std::string keys = config::KeysDir(site);
  for (const std::string& f : FilesIn(keys)) {
    auto k = WriteFileEntry(fs, **w, 'D', "keys/" + f.substr(keys.size() + 1), f);
    if (!k.ok()) return k.status();
    bytes += *k;
    ++entries;
  }
  CUSTODIAN_RETURN_IF_ERROR(WriteEntry(**w, 'E', "", std::to_string(entries)));
  CUSTODIAN_RETURN_IF_ERROR((*w)->Finish());
  std::printf(
      "backup written: %s\n%d files, %llu bytes before encryption (records schema "
      "version %d)\naccess log head: entry %s\nFootage is not in the backup.\n",
      dest.c_str(), entries - 1, static_cast<unsigned long long>(bytes), schema,
      access_head.c_str());
  return Status::Ok();
}

bool ParseCommon(const std::vector<std::string>& args, std::string* path, std::string* key_file,
                 bool* force, bool* verify_only, std::string* target = nullptr) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--key-file" && i + 1 < args.size()) {
      *key_file = args[++i];
    } else if (target && args[i] == "--target" && i + 1 < args.size()) {
      *target = args[++i];
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
//
// Restore runs as root inside directories the service account owns, from a file that may
// have been crafted. So: every path comes from the current site configuration (or
// --target), never from the backup; every file is opened relative to a directory handle
// with O_NOFOLLOW and chowned through its descriptor, so a symbolic link planted in the
// data directory is never followed; modes are restore's own; and the new data directory is
// staged whole beside the live one and switched in with one rename.

// Where a restore writes. The backup's own paths only choose which of these an entry is.
struct RestorePaths {
  std::string data_dir;    // the data directory, replaced whole
  std::string config_dir;  // configuration files go under it, relative to the backup's
  std::string site_file;   // the backup's site file goes here (directly in config_dir)
  // Directories into which other configuration files may go (directly, by name): the
  // cameras directory, the directories of the camera password files and TLS files, and
  // config_dir/secrets, where the package keeps the camera passwords.
  std::set<std::string> file_dirs;
  bool any_subdir = false;  // --target: any DIR/config/NAME or DIR/config/SUBDIR/NAME
};

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
constexpr mode_t kConfigMode = 0640;  // root:<the directory's group>, read by the services
constexpr mode_t kDataFileMode = 0600;
constexpr mode_t kKeysDirMode = 0700;
constexpr mode_t kNewDataDirMode = 0750;
// What a restore replaces in the data directory; everything else (footage, exports) is
// moved into the restored directory.
const std::set<std::string> kRestoredNames = {"records.db", "records.db-wal", "records.db-shm",
                                              "records.db-journal", "keys"};

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string BaseName(const std::string& p) { return p.substr(p.rfind('/') + 1); }
bool IsUnder(const std::string& path, const std::string& dir) {
  return path == dir || path.compare(0, dir.size() + 1, dir + "/") == 0;
}

// A test hook: CUSTODIAN_TEST_RESTORE_CRASH=<point> kills the restore there, as a power
// cut would, so that the tests can show what a crash leaves.
void CrashPointForTests(const char* point) {
  const char* at = std::getenv("CUSTODIAN_TEST_RESTORE_CRASH");
  if (at != nullptr && std::strcmp(at, point) == 0) {
    std::fflush(stdout);
    ::raise(SIGKILL);
  }
}

// Tests of the restore's lock: at `point`, with CUSTODIAN_TEST_RESTORE_PAUSE=point:FILE,
// restore creates FILE and waits (up to 2 minutes) until the test removes it.
void PauseForTests(const char* point) {
  const char* at = std::getenv("CUSTODIAN_TEST_RESTORE_PAUSE");
  if (at == nullptr) return;
  const std::string spec = at;
  const size_t colon = spec.find(':');
  if (colon == std::string::npos || spec.compare(0, colon, point) != 0) return;
  const std::string file = spec.substr(colon + 1);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) ::close(fd);
  for (int i = 0; i < 1200 && ::access(file.c_str(), F_OK) == 0; ++i) ::usleep(100'000);
}

bool SafeRelative(const std::string& name) {
  if (name.empty() || name[0] == '/') return false;
  std::istringstream parts(name);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return name.back() != '/';
}

bool SafeAbsolute(const std::string& name) {
  return name.size() > 1 && name[0] == '/' && SafeRelative(name.substr(1));
}

// Only these data entries exist: records.db and the files directly in keys/.
bool DataNameAllowed(const std::string& name) {
  if (name == "records.db") return true;
  return name.size() > 5 && name.compare(0, 5, "keys/") == 0 && SafeRelative(name.substr(5)) &&
         name.find('/', 5) == std::string::npos && name[5] != '.';
}

Status Refused(const std::string& name) {
  return PermissionDenied("the backup names " + (name.empty() ? std::string("\"\"") : name) +
                          ", outside this site's configuration and data directory; refused, "
                          "nothing was written");
}

// Where a configuration entry goes, relative to paths.config_dir: the backup's site file
// becomes the current site file, and a file under the backup's configuration directory the
// same file under the current one. Anything else is refused.
Result<std::string> ConfigTarget(const std::string& name, const std::string& backup_site_file,
                                 const RestorePaths& paths) {
  if (!SafeAbsolute(name) || !SafeAbsolute(backup_site_file)) return Refused(name);
  if (name == backup_site_file) return BaseName(paths.site_file);
  const std::string from = DirName(backup_site_file);
  if (from == "/" || !IsUnder(name, from) || name == from) return Refused(name);
  const std::string rel = name.substr(from.size() + 1);
  const std::string target = JoinPath(paths.config_dir, rel);
  if (!SafeRelative(rel) || IsUnder(target, paths.data_dir) || target == paths.site_file) {
    return Refused(name);
  }
  const bool allowed = paths.file_dirs.count(DirName(target)) > 0 ||
                       (paths.any_subdir && std::count(rel.begin(), rel.end(), '/') <= 1);
  if (!allowed) return Refused(name);
  return rel;
}

// Removes name in dirfd and everything under it, never following a link.
Status RemoveTreeAt(int dirfd, const std::string& name) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0) return Status::Ok();
  if (errno == ENOENT) return Status::Ok();
  if (errno != EISDIR && errno != EPERM) return ErrnoStatus("removing " + name, errno);
  int fd = ::openat(dirfd, name.c_str(), kDirFlags);
  if (fd < 0) return ErrnoStatus("opening " + name, errno);
  std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(fd), &::closedir);
  if (!d) {
    ::close(fd);
    return ErrnoStatus("reading " + name, errno);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d.get())) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      names.push_back(e->d_name);
    }
  }
  for (const std::string& n : names) CUSTODIAN_RETURN_IF_ERROR(RemoveTreeAt(::dirfd(d.get()), n));
  d.reset();
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return ErrnoStatus("removing " + name, errno);
  }
  return Status::Ok();
}

// Opens (making it if missing, mode 0750, group of its parent) each directory of rel under
// base; never follows a link.
Result<Fd> OpenDirsUnder(int base, const std::string& rel) {
  Fd cur(::fcntl(base, F_DUPFD_CLOEXEC, 0));
  if (!cur.valid()) return ErrnoStatus("dup", errno);
  std::istringstream parts(rel);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (::mkdirat(cur.get(), part.c_str(), 0750) == 0) {
      struct stat parent {};
      Fd made(::openat(cur.get(), part.c_str(), kDirFlags));
      if (made.valid() && ::geteuid() == 0 && ::fstat(cur.get(), &parent) == 0) {
        (void)::fchown(made.get(), 0, parent.st_gid);
      }
    } else if (errno != EEXIST) {
      return ErrnoStatus("creating " + part, errno);
    }
    Fd next(::openat(cur.get(), part.c_str(), kDirFlags));
    if (!next.valid()) {
      return ErrnoStatus("opening the directory " + part + " (a symbolic link is not followed)",
                         errno);
    }
    cur = std::move(next);
  }
  return cur;
}

// Creates name in dir for writing, refusing a link; a leftover from an earlier restore is
// replaced.
Result<Fd> CreateFileAt(int dir, const std::string& name, mode_t mode) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    Fd fd(::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (fd.valid()) {
      if (::fchmod(fd.get(), mode) != 0) return ErrnoStatus("chmod " + name, errno);
      return fd;
    }
    if (errno != EEXIST || attempt == 1) return ErrnoStatus("creating " + name, errno);
    if (::unlinkat(dir, name.c_str(), 0) != 0) return ErrnoStatus("removing " + name, errno);
  }
  return Internal("unreachable");
}

Status SyncFd(int fd, const std::string& what) {
  if (::fsync(fd) != 0) return ErrnoStatus("fsync " + what, errno);
  return Status::Ok();
}

// A configuration file written beside its target, put in place after the data switch.
struct StagedConfig {
  Fd dir;
  std::string name, partial, shown;
};

// The restored data directory, staged as .<name>.restore-<pid> beside the live one.
struct DataStage {
  Fd parent;            // the data directory's parent
  std::string name;     // the data directory's name in it
  std::string parent_path;
  Fd live;              // the live data directory, if there is one
  struct stat live_st {};
  std::string staged;   // the staging directory's name in parent
  Fd dir, keys;
  bool switched = false;
  Fd records_lock;      // the live records.lock, held exclusively from the last check on
  std::vector<StagedConfig> configs;
  ~DataStage() {
    for (const auto& c : configs) ::unlinkat(c.dir.get(), c.partial.c_str(), 0);
    if (!switched && dir.valid()) (void)RemoveTreeAt(parent.get(), staged);
  }
  std::string StagedPath() const { return JoinPath(parent_path, staged); }
  bool GiveToOwner() const {
    return ::geteuid() == 0 && live.valid() && live_st.st_uid != 0;
  }
};

// Who holds the records, or "" if nobody: the retain service's flock on retention.lock, and
// SQLite's own locks, which every process with records.db open (record, serve, retain, the
// CLI verbs) holds: in WAL mode a read lock on the "DMS" byte (128) of records.db-shm for as
// long as its connection is open, and while it reads, the SHARED lock bytes of records.db.
// records.lock is tested unless the caller holds it already (flock locks belong to an open
// file, so a second open of it by the holder would conflict with the holder itself).
std::string RecordsHolder(int live, bool holding_records_lock) {
  Fd lock(::openat(live, "retention.lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (lock.valid()) {
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) return "the retain service (retention.lock)";
    ::flock(lock.get(), LOCK_UN);
  }
  auto probe = [live](const char* file, off_t start, off_t len) -> std::string {
    Fd fd(::openat(live, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return "";
    struct flock l {};
    l.l_type = F_WRLCK;
    l.l_whence = SEEK_SET;
    l.l_start = start;
    l.l_len = len;
    if (::fcntl(fd.get(), F_GETLK, &l) != 0 || l.l_type == F_UNLCK) return "";
    return "process " + std::to_string(l.l_pid) + " (" + file + ")";
  };
  std::string who = probe("records.db-shm", 128, 1);
  if (who.empty()) who = probe("records.db", 0x40000000, 512);
  if (!who.empty()) return who;  // SQLite's locks name the process; records.lock cannot
  Fd records(holding_records_lock ? -1 : ::openat(live, kRecordsLockName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (records.valid()) {
    if (::flock(records.get(), LOCK_EX | LOCK_NB) != 0) return std::string("a custodian process (") + kRecordsLockName + ")";
    ::flock(records.get(), LOCK_UN);
  }
  return "";
}

Status RefuseIfHeld(const DataStage& stage, const std::string& data_dir) {
  if (!stage.live.valid()) return Status::Ok();
  const std::string who = RecordsHolder(stage.live.get(), stage.records_lock.valid());
  if (who.empty()) return Status::Ok();
  return FailedPrecondition("a custodian service holds the records in " + data_dir + ": " + who +
                            "; stop the custodian services (record, retain, serve) before "
                            "restoring");
}

// Whether the live data directory holds records or keys that a restore would replace.
std::string ExistingData(int live) {
  struct stat st {};
  if (::fstatat(live, "records.db", &st, AT_SYMLINK_NOFOLLOW) == 0) return "records.db";
  int fd = ::openat(live, "keys", kDirFlags);
  if (fd < 0) return "";
  std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(fd), &::closedir);
  if (!d) {
    ::close(fd);
    return "";
  }
  while (dirent* e = ::readdir(d.get())) {
    if (e->d_name[0] != '.') return std::string("keys/") + e->d_name;
  }
  return "";
}

// Finishes what an earlier restore left beside the data directory (and, after the switch,
// the old directory of this one): every entry but the records and keys is moved into the
// live data directory unless it has one of that name, the old records and keys are
// removed, and the directory too once empty. Never follows a link, never overwrites.
Status CollectLeftovers(DataStage& stage, int live) {
  std::vector<std::string> leftovers;
  {
    int fd = ::openat(stage.parent.get(), ".", kDirFlags);
    if (fd < 0) return ErrnoStatus("opening " + stage.parent_path, errno);
    std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(fd), &::closedir);
    if (!d) {
      ::close(fd);
      return ErrnoStatus("reading " + stage.parent_path, errno);
    }
    const std::string a = "." + stage.name + ".restore-", b = "." + stage.name + ".old-";
    while (dirent* e = ::readdir(d.get())) {
      const std::string n = e->d_name;
      if (n.compare(0, a.size(), a) == 0 || n.compare(0, b.size(), b) == 0) leftovers.push_back(n);
    }
  }
  for (const std::string& left : leftovers) {
    if (!stage.switched && left == stage.staged) continue;
    Fd old(::openat(stage.parent.get(), left.c_str(), kDirFlags));
    if (!old.valid()) continue;
    std::vector<std::string> names;
    {
      int fd = ::fcntl(old.get(), F_DUPFD_CLOEXEC, 0);
      std::unique_ptr<DIR, int (*)(DIR*)> d(fd >= 0 ? ::fdopendir(fd) : nullptr, &::closedir);
      if (!d) {
        if (fd >= 0) ::close(fd);
        continue;
      }
      while (dirent* e = ::readdir(d.get())) {
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
          names.push_back(e->d_name);
        }
      }
    }
    bool kept = false;
    for (const std::string& n : names) {
      if (kRestoredNames.count(n)) {
        CUSTODIAN_RETURN_IF_ERROR(RemoveTreeAt(old.get(), n));
      } else if (::renameat2(old.get(), n.c_str(), live, n.c_str(), RENAME_NOREPLACE) == 0) {
        std::printf("kept %s (moved into the restored data directory)\n", n.c_str());
      } else {
        kept = true;
      }
    }
    CUSTODIAN_RETURN_IF_ERROR(SyncFd(live, "the data directory"));
    if (kept || ::unlinkat(stage.parent.get(), left.c_str(), AT_REMOVEDIR) != 0) {
      std::printf("left %s beside the data directory: it holds files the data directory "
                  "also has; move what is needed by hand\n",
                  JoinPath(stage.parent_path, left).c_str());
    }
  }
  return SyncFd(stage.parent.get(), stage.parent_path);
}

// Opens the data directory's parent, the live data directory (refusing a link) and makes
// the staging directory; takes the restore lock so that two restores never interleave.
Status PrepareData(const std::string& data_dir, DataStage* stage, Fd* restore_lock) {
  stage->parent_path = DirName(data_dir);
  stage->name = BaseName(data_dir);
  CUSTODIAN_RETURN_IF_ERROR(PosixFilesystem::Instance().CreateDirs(stage->parent_path));
  stage->parent = Fd(::open(stage->parent_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!stage->parent.valid()) return ErrnoStatus("opening " + stage->parent_path, errno);
  *restore_lock =
      Fd(::openat(stage->parent.get(), ("." + stage->name + ".restore.lock").c_str(),
                  O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!restore_lock->valid()) return ErrnoStatus("creating the restore lock", errno);
  if (::flock(restore_lock->get(), LOCK_EX | LOCK_NB) != 0) {
    return FailedPrecondition("another restore into " + data_dir + " is running");
  }
  stage->live = Fd(::openat(stage->parent.get(), stage->name.c_str(), kDirFlags));
  if (!stage->live.valid() && errno != ENOENT) {
    return ErrnoStatus(data_dir + " is not a directory (a symbolic link is not followed)", errno);
  }
  if (stage->live.valid() && ::fstat(stage->live.get(), &stage->live_st) != 0) {
    return ErrnoStatus("stat " + data_dir, errno);
  }
  return Status::Ok();
}

Status MakeStaging(DataStage* stage) {
  stage->staged = "." + stage->name + ".restore-" + std::to_string(::getpid());
  (void)RemoveTreeAt(stage->parent.get(), stage->staged);
  if (::mkdirat(stage->parent.get(), stage->staged.c_str(), 0700) != 0) {
    return ErrnoStatus("creating " + stage->StagedPath(), errno);
  }
  stage->dir = Fd(::openat(stage->parent.get(), stage->staged.c_str(), kDirFlags));
  if (!stage->dir.valid()) return ErrnoStatus("opening " + stage->StagedPath(), errno);
  return Status::Ok();
}

Status StageData(BackupReader& r, const EntryHeader& h, DataStage* stage) {
  int dir = stage->dir.get();
  std::string file = h.name;
  if (h.name != "records.db") {
    if (!stage->keys.valid()) {
      if (::mkdirat(dir, "keys", kKeysDirMode) != 0 && errno != EEXIST) {
        return ErrnoStatus("creating keys", errno);
      }
      stage->keys = Fd(::openat(dir, "keys", kDirFlags));
      if (!stage->keys.valid()) return ErrnoStatus("opening keys", errno);
      if (::fchmod(stage->keys.get(), kKeysDirMode) != 0) return ErrnoStatus("chmod keys", errno);
      if (stage->GiveToOwner() &&
          ::fchown(stage->keys.get(), stage->live_st.st_uid, stage->live_st.st_gid) != 0) {
        return ErrnoStatus("chown keys", errno);
      }
    }
    dir = stage->keys.get();
    file = h.name.substr(5);
  }
  auto fd = CreateFileAt(dir, file, kDataFileMode);
  if (!fd.ok()) return fd.status();
  if (stage->GiveToOwner() &&
      ::fchown(fd->get(), stage->live_st.st_uid, stage->live_st.st_gid) != 0) {
    return ErrnoStatus("chown " + h.name, errno);
  }
  CUSTODIAN_RETURN_IF_ERROR(ReadEntryData(r, h, fd->get(), nullptr));
  return SyncFd(fd->get(), h.name);
}

Status StageConfig(BackupReader& r, const EntryHeader& h, const std::string& rel,
                   const RestorePaths& paths, DataStage* stage) {
  const std::string target = JoinPath(paths.config_dir, rel);
  CUSTODIAN_RETURN_IF_ERROR(PosixFilesystem::Instance().CreateDirs(paths.config_dir));
  Fd base(::open(paths.config_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!base.valid()) return ErrnoStatus("opening " + paths.config_dir, errno);
  auto dir = OpenDirsUnder(base.get(), rel.find('/') == std::string::npos ? "" : DirName("/" + rel).substr(1));
  if (!dir.ok()) return dir.status();
  StagedConfig c;
  c.name = BaseName(rel);
  c.partial = c.name + ".restore-partial";
  c.shown = target;
  auto fd = CreateFileAt(dir->get(), c.partial, kConfigMode);
  if (!fd.ok()) return fd.status();
  c.dir = std::move(*dir);
  struct stat parent {};
  if (::geteuid() == 0 && ::fstat(c.dir.get(), &parent) == 0 &&
      ::fchown(fd->get(), 0, parent.st_gid) != 0) {
    return ErrnoStatus("chown " + target, errno);
  }
  stage->configs.push_back(std::move(c));
  CUSTODIAN_RETURN_IF_ERROR(ReadEntryData(r, h, fd->get(), nullptr));
  return SyncFd(fd->get(), target);
}

Result<std::string> Sha256At(int dir, const std::string& name) {
  Fd fd(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus("opening " + name, errno);
  Sha256 sum;
  std::vector<char> buf(kCopyBytes);
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("reading " + name, errno);
    if (n == 0) break;
    sum.Update(buf.data(), static_cast<size_t>(n));
  }
  return sum.FinishHex();
}

// Puts each configuration file in place; an existing, different one (or a link) is kept
// beside it as NAME.before-restore.
Status CommitConfigs(DataStage* stage) {
  for (StagedConfig& c : stage->configs) {
    const int dir = c.dir.get();
    struct stat st {};
    if (::fstatat(dir, c.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISREG(st.st_mode)) {
        auto a = Sha256At(dir, c.name), b = Sha256At(dir, c.partial);
        if (a.ok() && b.ok() && *a == *b) {
          ::unlinkat(dir, c.partial.c_str(), 0);
          continue;
        }
      }
      const std::string kept = c.name + ".before-restore";
      if (::renameat(dir, c.name.c_str(), dir, kept.c_str()) != 0) {
        return ErrnoStatus("keeping " + c.shown + " as " + kept, errno);
      }
      std::printf("kept the previous %s as %s.before-restore\n", c.shown.c_str(),
                  c.shown.c_str());
    }
    if (::renameat(dir, c.partial.c_str(), dir, c.name.c_str()) != 0) {
      return ErrnoStatus("putting " + c.shown + " in place", errno);
    }
    CUSTODIAN_RETURN_IF_ERROR(SyncFd(dir, c.shown));
  }
  stage->configs.clear();
  return Status::Ok();
}

// The switch: the staged directory takes the data directory's name in one rename (an
// exchange when there is a live one), then the old directory's footage and exports move
// across and its records and keys are removed.
Status SwitchData(DataStage* stage, const std::string& data_dir) {
  const int parent = stage->parent.get();
  const mode_t mode = stage->live.valid() ? (stage->live_st.st_mode & 07777) : kNewDataDirMode;
  if (::fchmod(stage->dir.get(), mode) != 0) return ErrnoStatus("chmod the staged data", errno);
  if (stage->GiveToOwner() &&
      ::fchown(stage->dir.get(), stage->live_st.st_uid, stage->live_st.st_gid) != 0) {
    return ErrnoStatus("chown the staged data", errno);
  }
  if (stage->keys.valid()) CUSTODIAN_RETURN_IF_ERROR(SyncFd(stage->keys.get(), "keys"));
  CUSTODIAN_RETURN_IF_ERROR(SyncFd(stage->dir.get(), stage->StagedPath()));
  // The services may have been started meanwhile. From here to the end of the restore the
  // records lock is held exclusively: a process starting now waits for it (site_context.h).
  if (stage->live.valid()) {
    stage->records_lock = Fd(::openat(stage->live.get(), kRecordsLockName,
                                      O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!stage->records_lock.valid()) return ErrnoStatus("opening " + data_dir + "/records.lock", errno);
    if (::flock(stage->records_lock.get(), LOCK_EX | LOCK_NB) != 0) {
      return FailedPrecondition("a custodian service holds the records in " + data_dir +
                                " (records.lock); stop the custodian services (record, retain, "
                                "serve) before restoring");
    }
  }
  CUSTODIAN_RETURN_IF_ERROR(RefuseIfHeld(*stage, data_dir));
  PauseForTests("before-switch");
  CrashPointForTests("before-switch");
  const char* from = stage->staged.c_str();
  const char* to = stage->name.c_str();
  if (stage->live.valid()) {
    if (::renameat2(parent, from, parent, to, RENAME_EXCHANGE) != 0) {
      if (errno == EXDEV || errno == EBUSY) {
        return FailedPrecondition(
            data_dir + " is a mount point: restore stages the new data directory beside it and "
            "cannot switch it in across file systems; nothing was changed. Restore with "
            "--target DIR on the same file system and move the files by hand");
      }
      if (errno != EINVAL && errno != ENOSYS) return ErrnoStatus("switching " + data_dir, errno);
      // No atomic exchange on this file system: old aside, new in (a crash between the two
      // leaves the old beside it as .NAME.old-PID, which the next restore collects).
      const std::string old = "." + stage->name + ".old-" + std::to_string(::getpid());
      if (::renameat(parent, to, parent, old.c_str()) != 0) {
        return ErrnoStatus("moving the old " + data_dir + " aside", errno);
      }
      stage->staged = old;
      if (::renameat(parent, from, parent, to) != 0) {
        return ErrnoStatus("switching " + data_dir, errno);
      }
    }
  } else if (::renameat2(parent, from, parent, to, RENAME_NOREPLACE) != 0) {
    return ErrnoStatus("switching " + data_dir, errno);
  }
  stage->switched = true;
  CUSTODIAN_RETURN_IF_ERROR(SyncFd(parent, stage->parent_path));
  CrashPointForTests("after-switch");
  Fd live(::openat(parent, to, kDirFlags));
  if (!live.valid()) return ErrnoStatus("opening " + data_dir, errno);
  return CollectLeftovers(*stage, live.get());
}

Status Restore(const std::string& src, const std::string& passphrase, const RestorePaths* paths,
               bool force) {
  const bool verify_only = paths == nullptr;
  auto r = BackupReader::Open(src, passphrase);
  if (!r.ok()) return r.status();
  auto first = ReadHeader(**r);
  if (!first.ok()) return first.status();
  std::string meta_text;
  if (first->type != 'M') return DataLoss("the backup does not start with its description");
  CUSTODIAN_RETURN_IF_ERROR(ReadEntryData(**r, *first, -1, &meta_text));
  auto meta = ParseMeta(meta_text);
  const std::string backup_site_file = meta["site_file"];
  std::printf("backup of %s made %s by custodian %s\n", backup_site_file.c_str(),
              meta["created_utc"].c_str(), meta["custodian_version"].c_str());

  DataStage stage;
  Fd restore_lock;
  if (!verify_only) {
    CUSTODIAN_RETURN_IF_ERROR(PrepareData(paths->data_dir, &stage, &restore_lock));
    CUSTODIAN_RETURN_IF_ERROR(RefuseIfHeld(stage, paths->data_dir));
    if (stage.live.valid()) {
      const std::string existing = ExistingData(stage.live.get());
      if (!existing.empty() && !force) {
        return FailedPrecondition(paths->data_dir + " already holds records or keys (" +
                                  JoinPath(paths->data_dir, existing) +
                                  "); restore will not overwrite them without --force");
      }
      CUSTODIAN_RETURN_IF_ERROR(CollectLeftovers(stage, stage.live.get()));
    }
    CUSTODIAN_RETURN_IF_ERROR(MakeStaging(&stage));
  }
  int entries = 1;
  bool have_db = false;
  std::set<std::string> seen;
  for (;;) {
    auto h = ReadHeader(**r);
    if (!h.ok()) return h.status();
    if (h->type == 'E') {
      std::string count;
      CUSTODIAN_RETURN_IF_ERROR(ReadEntryData(**r, *h, -1, &count));
      if (count != std::to_string(entries)) return DataLoss("the backup's entry count is wrong");
      break;
    }
    if (!seen.insert(std::string(1, h->type) + h->name).second) {
      return DataLoss("the backup names " + h->name + " twice");
    }
    if (h->type == 'D') {
      if (!DataNameAllowed(h->name)) return Refused(h->name);
      have_db = have_db || h->name == "records.db";
      if (verify_only) {
        CUSTODIAN_RETURN_IF_ERROR(ReadEntryData(**r, *h, -1, nullptr));
      } else {
        CUSTODIAN_RETURN_IF_ERROR(StageData(**r, *h, &stage));
      }
    } else if (h->type == 'C') {
      if (verify_only) {
        if (!SafeAbsolute(h->name)) return Refused(h->name);
        CUSTODIAN_RETURN_IF_ERROR(ReadEntryData(**r, *h, -1, nullptr));
      } else {
        auto rel = ConfigTarget(h->name, backup_site_file, *paths);
        if (!rel.ok()) return rel.status();
        CUSTODIAN_RETURN_IF_ERROR(StageConfig(**r, *h, *rel, *paths, &stage));
      }
    } else {
      return DataLoss("the backup holds a second description");
    }
    ++entries;
  }
  CUSTODIAN_RETURN_IF_ERROR((*r)->ExpectEnd());
  if (!have_db) return DataLoss("the backup holds no records database");
  if (verify_only) {
    std::printf("VERIFIED: %d files decrypt and match their SHA-256; nothing written\n",
                entries - 1);
    return Status::Ok();
  }
  // The staging directory is root's and 0700 until the switch: nobody else can change the
  // database between this check and the switch.
  auto info = records::InspectRecordsFile(JoinPath(stage.StagedPath(), "records.db"));
  if (!info.ok()) return info.status();
  // The head the backup recorded must be the restored log's (backups before it have none).
  const std::string& head = info->access_log_head;
  if (meta.count("access_log_head") && meta["access_log_head"] != head) {
    return DataLoss("the backup's access log ends at entry " + head +
                    " but its description "
                    "records " +
                    meta["access_log_head"]);
  }
  for (const char* extra : {"records.db-wal", "records.db-shm"}) {
    ::unlinkat(stage.dir.get(), extra, 0);
  }
  CUSTODIAN_RETURN_IF_ERROR(SwitchData(&stage, paths->data_dir));
  CUSTODIAN_RETURN_IF_ERROR(CommitConfigs(&stage));
  std::printf(
      "restored %d files; records schema version %d in %s\n"
      "access log head: entry %s\n"
      "Footage is not in backups: recordings made before now are not restored.\n",
      entries - 1, info->schema_version, paths->data_dir.c_str(), head.c_str());
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
  Status st = records::SnapshotRecordsFile(db, snapshot);
  if (!st.ok()) return Fail("backup", st);
  auto info = records::InspectRecordsFile(snapshot);
  if (!info.ok()) return Fail("backup", info.status());
  st = WriteBackup(PosixFilesystem::Instance(), *site, dest, *passphrase, snapshot,
                   info->schema_version, info->access_log_head);
  if (!st.ok()) return Fail("backup", st);
  // The health page and the backup_overdue alarm read when the last backup was made.
  auto records = records::Database::Open(db, SystemClock::Instance());
  Status noted = records.ok() ? (*records)->SetSetting(health::kLastBackupSetting,
                                                       std::to_string(SystemClock::Instance().Now().us),
                                                       std::nullopt)
                              : records.status();
  if (!noted.ok()) {
    std::fprintf(stderr, "custodian: backup: written, but its time is not recorded (%s); the "
                         "health page will call a backup overdue\n", noted.ToString().c_str());
  }
  return kExitOk;
}

int RunRestore(const GlobalOptions& opts, const std::vector<std::string>& args) {
  std::string src, key_file, target;
  bool force = false, verify_only = false;
  if (!ParseCommon(args, &src, &key_file, &force, &verify_only, &target)) {
    std::fputs(kRestoreUsage, stderr);
    return kExitUsage;
  }
  RestorePaths paths;
  if (!verify_only && !target.empty()) {
    // Everything under one new directory: DIR/data and DIR/config.
    std::string dir = target;
    if (dir[0] != '/') {
      char cwd[4096];
      if (::getcwd(cwd, sizeof cwd) == nullptr) return Fail("restore", ErrnoStatus("getcwd", errno));
      dir = JoinPath(cwd, dir);
    }
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    if (!SafeAbsolute(dir)) {
      std::fprintf(stderr, "custodian: restore: --target needs a plain directory path\n");
      return kExitUsage;
    }
    paths.data_dir = JoinPath(dir, "data");
    paths.config_dir = JoinPath(dir, "config");
    paths.site_file = JoinPath(paths.config_dir, "site.yaml");
    paths.any_subdir = true;
  } else if (!verify_only) {
    // Only the paths of the site configuration in force are written.
    auto site = config::LoadSiteConfig(opts.config_path);
    if (!site.ok()) return ReportOpenError(site.status());
    paths.data_dir = site->data_dir;
    paths.site_file = site->path;
    paths.config_dir = DirName(site->path);
    paths.file_dirs.insert(JoinPath(paths.config_dir, "secrets"));
    if (!site->cameras_dir.empty()) paths.file_dirs.insert(site->cameras_dir);
    for (const auto& c : site->cameras) {
      if (!c.password_file.empty()) paths.file_dirs.insert(DirName(c.password_file));
    }
    for (const std::string& f : {site->http.tls_cert, site->http.tls_key}) {
      if (!f.empty()) paths.file_dirs.insert(DirName(f));
    }
    if (!SafeAbsolute(paths.data_dir) || !SafeAbsolute(paths.site_file)) {
      return Fail("restore", InvalidArgument("the site's paths must be plain absolute paths"));
    }
  }
  auto passphrase = ReadPassphrase(key_file, /*twice=*/false);
  if (!passphrase.ok()) return Fail("restore", passphrase.status());
  Status st = Restore(src, *passphrase, verify_only ? nullptr : &paths, force);
  return st.ok() ? kExitOk : Fail("restore", st);
}

}  // namespace custodian
