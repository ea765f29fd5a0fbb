// setup, migrate, backup and restore, driven through the real custodian binary on a real
// records database, as an administrator would use them.
#include <signal.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "api/passwords.h"
#include "app/backup_archive.h"
#include "base/clock.h"
#include "base/sha256.h"
#include "base/testing/temp_dir.h"
#include "records/database.h"
#include "tests/appliance/service_process.h"

using namespace custodian;
using custodian::testing::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr char kPassphrase[] = "correct horse battery staple";

// Runs `sh -c "custodian ARGS"` with the given shell redirections (and environment
// variables, "NAME=VALUE ..."); returns the exit code.
int Run(const std::string& args, std::string* out = nullptr, const std::string& env = "") {
  const std::string cmd = (env.empty() ? "" : "env " + env + " ") +
                          std::string(CUSTODIAN_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
  int status = pclose(p);
  if (out) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A site in a temp dir: site.yaml, a camera file and its password file, data/ once set up.
struct Site {
  TempDir dir{"appliance"};
  Site() {
    fs::create_directories(dir.File("cameras"));
    fs::create_directories(dir.File("secrets"));
    std::ofstream(dir.File("site.yaml")) << "site: { name: \"Backup House\" }\n"
                                            "data_dir: data\n"
                                            "cameras_dir: cameras\n";
    std::ofstream(dir.File("cameras/door.yaml")) << "id: door\n"
                                                    "url: rtsp://127.0.0.1:8554/door\n"
                                                    "username: viewer\n"
                                                    "password_file: ../secrets/door\n";
    std::ofstream(dir.File("secrets/door")) << "camera-secret\n";
    std::ofstream(dir.File("pass")) << kPassphrase << "\n";
  }
  std::string cfg() const { return "--config " + dir.File("site.yaml") + " "; }
  std::string data(const std::string& name = "") const {
    return dir.File(name.empty() ? "data" : "data/" + name);
  }
  std::unique_ptr<records::Database> Open() const {
    auto db = records::Database::Open(data("records.db"), SystemClock::Instance());
    REQUIRE(db.ok());
    return std::move(db).value();
  }
};

void Append(records::Database& db, int i) {
  records::AccessEntry e;
  e.user_name = "writer";
  e.action = "segment.view";
  e.purpose_category = "incident_review";
  e.purpose_text = "row " + std::to_string(i);
  e.client = "127.0.0.1";
  e.result = records::AccessResult::kOk;
  REQUIRE(db.AppendAccess(e).ok());
}

int64_t AccessCount(records::Database& db) {
  auto v = db.VerifyAccessLog();
  REQUIRE(v.ok());
  REQUIRE(v->ok);
  return v->entries_checked;
}

bool AnyPartialLeft(const std::string& dir) {
  if (!fs::exists(dir)) return false;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    // Partial configuration files, and the staging directory beside the data directory.
    if (e.path().string().find(".restore-") != std::string::npos) return true;
  }
  return false;
}

// A backup file as an attacker would make one: any entries, each with its SHA-256, in the
// real format (app/verb_backup.cpp), encrypted with kPassphrase at the cheapest cost.
struct CraftedEntry {
  char type;
  std::string name;
  std::string data;
  uint32_t mode = 0600;
};

void WriteCrafted(const std::string& path, const std::vector<CraftedEntry>& entries) {
  auto w = BackupWriter::Create(path, kPassphrase,
                                {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN});
  REQUIRE(w.ok());
  auto put = [&](const CraftedEntry& e) {
    std::string b(1, e.type);
    b += static_cast<char>(e.name.size() >> 8);
    b += static_cast<char>(e.name.size() & 0xff);
    b += e.name;
    for (int i = 3; i >= 0; --i) b += static_cast<char>((e.mode >> (8 * i)) & 0xff);
    const uint64_t size = e.data.size();
    for (int i = 7; i >= 0; --i) b += static_cast<char>((size >> (8 * i)) & 0xff);
    b += e.data;
    b += Sha256Hex(e.data);
    REQUIRE((*w)->Write(b.data(), b.size()).ok());
  };
  for (const auto& e : entries) put(e);
  put({'E', "", std::to_string(entries.size())});
  REQUIRE((*w)->Finish().ok());
}

// A self-contained copy of the site's records database (its WAL folded in).
std::string RecordsBytes(const Site& site) {
  const std::string copy = site.dir.File("copy-" + std::to_string(::getpid()) + ".db");
  fs::remove(copy);
  const std::string sql = std::string(CUSTODIAN_SQLITE3_CLI) + " " + site.data("records.db") +
                          " \"VACUUM INTO '" + copy + "'\"";
  REQUIRE(std::system(sql.c_str()) == 0);
  std::string bytes = Slurp(copy);
  fs::remove(copy);
  return bytes;
}

bool LeftoverBeside(const Site& site) {
  for (const auto& e : fs::directory_iterator(site.dir.path())) {
    const std::string n = e.path().filename().string();
    if (n.rfind(".data.restore-", 0) == 0 || n.rfind(".data.old-", 0) == 0) return true;
  }
  return false;
}

using testing::NotifySocket;

pid_t StartService(const std::string& config, const std::string& verb, const std::string& notify,
                   const std::string& log) {
  return testing::StartService(CUSTODIAN_BINARY, config, verb, notify, log);
}

}  // namespace

TEST_CASE("setup makes keys and a must-change admin once, and a second run keeps them") {
  Site site;
  std::string out;
  REQUIRE(Run(site.cfg() + "setup", &out) == 0);
  std::smatch m;
  REQUIRE(std::regex_search(out, m, std::regex("one-time password: ([0-9a-f-]+)")));
  const std::string password = m[1];
  REQUIRE(out.find("time sync") != std::string::npos);
  REQUIRE(std::regex_search(out, m, std::regex("fingerprint ([0-9a-f]{64})")));
  // The printed fingerprint is what a recipient recomputes from the .pub file.
  const std::string pub = Slurp(site.data("keys/export-signing.pub"));
  const std::string line = pub.substr(pub.find('\n') + 1, pub.size() - pub.find('\n') - 2);
  std::string cmd = "printf '%s' '" + line + "' | base64 -d | sha256sum";
  FILE* p = popen(cmd.c_str(), "r");
  char sum[65] = {};
  REQUIRE(fread(sum, 1, 64, p) == 64);
  pclose(p);
  REQUIRE(std::string(sum) == std::string(m[1]));

  for (const char* f : {"keys/https-cert.pem", "keys/https-key.pem", "keys/export-signing.key",
                        "footage", "exports"}) {
    REQUIRE(fs::exists(site.data(f)));
  }
  REQUIRE((fs::status(site.data("keys")).permissions() & fs::perms::group_all) == fs::perms::none);
  const std::string key_before = Slurp(site.data("keys/export-signing.key"));
  const std::string cert_before = Slurp(site.data("keys/https-cert.pem"));
  {
    auto db = site.Open();
    auto admin = db->GetUserByName("admin");
    REQUIRE(admin.ok());
    REQUIRE(admin->has_value());
    CHECK((*admin)->role == records::Role::kAdmin);
    CHECK((*admin)->must_change_password);
    CHECK(api::VerifyPassword((*admin)->password_hash, password));
  }

  REQUIRE(Run(site.cfg() + "setup", &out) == 0);
  CHECK(out.find("one-time password") == std::string::npos);
  CHECK(out.find("admin account      kept") != std::string::npos);
  CHECK(Slurp(site.data("keys/export-signing.key")) == key_before);
  CHECK(Slurp(site.data("keys/https-cert.pem")) == cert_before);
  auto db = site.Open();
  auto users = db->ListUsers();
  REQUIRE(users.ok());
  CHECK(users->size() == 1);
}

TEST_CASE("migrate refuses a records database newer than the program, saying so") {
  Site site;
  std::string out;
  REQUIRE(Run(site.cfg() + "migrate", &out) == 0);
  REQUIRE(out.find("schema version") != std::string::npos);
  const std::string sql = std::string(CUSTODIAN_SQLITE3_CLI) + " " + site.data("records.db") +
                          " \"INSERT INTO schema_version VALUES (99, 0, 'from the future')\"";
  REQUIRE(std::system(sql.c_str()) == 0);
  REQUIRE(Run(site.cfg() + "migrate", &out) == 1);
  CHECK(out.find("records.db is schema version 99 but this custodian knows up to") !=
        std::string::npos);
  CHECK(out.find("upgrade custodian") != std::string::npos);
  // Every service refuses the same way rather than writing to a schema it does not know.
  REQUIRE(Run(site.cfg() + "retain --once", &out) == 1);
  CHECK(out.find("records.db is schema version 99") != std::string::npos);
}

TEST_CASE("a backup taken while rows are written restores into a fresh data dir") {
  Site site;
  REQUIRE(Run(site.cfg() + "setup") == 0);
  auto writer_db = site.Open();
  for (int i = 0; i < 50; ++i) Append(*writer_db, i);
  std::atomic<bool> stop{false};
  std::atomic<int> written{50};
  std::thread writer([&] {
    while (!stop) Append(*writer_db, written++);
  });
  std::string out;
  const int rc = Run(
      site.cfg() + "backup " + site.dir.File("site.bak") + " --key-file " + site.dir.File("pass"),
      &out);
  const int during = written.load();
  stop = true;
  writer.join();
  REQUIRE(rc == 0);
  INFO(out);
  REQUIRE(written.load() > 50);
  const int64_t live = AccessCount(*writer_db);
  writer_db.reset();
  const std::string key = Slurp(site.data("keys/export-signing.key"));
  const std::string camera_file = Slurp(site.dir.File("cameras/door.yaml"));

  // A fresh appliance: nothing of the site is left.
  fs::remove_all(site.data());
  fs::remove_all(site.dir.File("cameras"));
  fs::remove_all(site.dir.File("secrets"));
  fs::remove(site.dir.File("site.yaml"));
  // The package's default site file: restore writes only into its paths.
  fs::create_directories(site.dir.File("cameras"));
  std::ofstream(site.dir.File("site.yaml")) << "site: { name: \"Default\" }\n"
                                               "data_dir: data\n"
                                               "cameras_dir: cameras\n";
  REQUIRE(Run(site.cfg() + "restore " + site.dir.File("site.bak") + " --key-file " +
                  site.dir.File("pass"),
              &out) == 0);
  INFO(out);
  CHECK(Slurp(site.dir.File("site.yaml.before-restore")).find("Default") != std::string::npos);
  CHECK(Slurp(site.dir.File("site.yaml")).find("Backup House") != std::string::npos);
  CHECK((fs::status(site.dir.File("secrets/door")).permissions() & fs::perms::others_all) ==
        fs::perms::none);
  CHECK(Slurp(site.data("keys/export-signing.key")) == key);
  CHECK((fs::status(site.data("keys")).permissions() & fs::perms::group_all) == fs::perms::none);
  CHECK((fs::status(site.data("keys/export-signing.key")).permissions() & fs::perms::others_all) ==
        fs::perms::none);
  CHECK(Slurp(site.dir.File("cameras/door.yaml")) == camera_file);
  CHECK(Slurp(site.dir.File("secrets/door")) == "camera-secret\n");
  auto restored = site.Open();
  // A consistent snapshot: the hash chain verifies, and holds the rows written before the
  // backup began and none that did not exist by the time it ended.
  const int64_t count = AccessCount(*restored);
  CHECK(count >= 51);  // the setup's admin entry and the first 50 rows
  CHECK(count <= during + 1);
  CHECK(count <= live);
  auto admin = restored->GetUserByName("admin");
  REQUIRE(admin.ok());
  CHECK(admin->has_value());
  REQUIRE(Run(site.cfg() + "check", &out) == 0);
}

TEST_CASE("restore refuses a data dir holding records unless forced, and replaces its log") {
  Site site;
  REQUIRE(Run(site.cfg() + "setup") == 0);
  const std::string bak = site.dir.File("site.bak");
  // The passphrase may come on stdin, as from a script.
  REQUIRE(Run(site.cfg() + "backup " + bak + " < " + site.dir.File("pass")) == 0);
  { Append(*site.Open(), 1); }  // a row the backup does not have
  std::string out;
  REQUIRE(Run(site.cfg() + "restore " + bak + " < " + site.dir.File("pass"), &out) == 1);
  CHECK(out.find("will not overwrite them without --force") != std::string::npos);
  CHECK(AccessCount(*site.Open()) == 2);
  REQUIRE(Run(site.cfg() + "restore " + bak + " --force < " + site.dir.File("pass"), &out) == 0);
  CHECK(AccessCount(*site.Open()) == 1);
  // The backup itself is never overwritten.
  REQUIRE(Run(site.cfg() + "backup " + bak + " < " + site.dir.File("pass"), &out) == 1);
  CHECK(out.find("exists") != std::string::npos);
}

TEST_CASE("a wrong passphrase or a tampered backup fails cleanly and writes nothing") {
  Site site;
  REQUIRE(Run(site.cfg() + "setup") == 0);
  const std::string bak = site.dir.File("site.bak");
  REQUIRE(Run(site.cfg() + "backup " + bak + " --key-file " + site.dir.File("pass")) == 0);
  fs::remove_all(site.data());
  std::string out;

  std::ofstream(site.dir.File("wrong")) << "not the passphrase\n";
  REQUIRE(Run(site.cfg() + "restore " + bak + " --key-file " + site.dir.File("wrong"), &out) == 1);
  CHECK(out.find("wrong passphrase, or the file is damaged") != std::string::npos);
  CHECK_FALSE(fs::exists(site.data("records.db")));

  std::string bytes = Slurp(bak);
  const std::string tampered = site.dir.File("tampered.bak");
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x01;
  std::ofstream(tampered, std::ios::binary) << flipped;
  REQUIRE(Run(site.cfg() + "restore " + tampered + " --key-file " + site.dir.File("pass"), &out) == 1);
  CHECK(out.find("data_loss") != std::string::npos);
  CHECK(out.find("damaged") != std::string::npos);
  CHECK_FALSE(fs::exists(site.data("records.db")));
  CHECK_FALSE(AnyPartialLeft(site.dir.path()));

  const std::string cut = site.dir.File("cut.bak");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() - 100);
  REQUIRE(Run("restore " + cut + " --key-file " + site.dir.File("pass") + " --verify-only", &out) ==
          1);
  CHECK(out.find("data_loss") != std::string::npos);
  REQUIRE(Run(site.cfg() + "restore " + cut + " --key-file " + site.dir.File("pass"), &out) == 1);
  CHECK_FALSE(fs::exists(site.data("records.db")));
  CHECK_FALSE(AnyPartialLeft(site.dir.path()));

  // The header is authenticated too: a changed salt or cost does not decrypt.
  std::string header = bytes;
  header[40] ^= 0x01;
  std::ofstream(tampered, std::ios::binary | std::ios::trunc) << header;
  REQUIRE(Run(site.cfg() + "restore " + tampered + " --key-file " + site.dir.File("pass"), &out) == 1);
  CHECK_FALSE(fs::exists(site.data("records.db")));

  REQUIRE(Run("restore " + bak + " --key-file " + site.dir.File("pass") + " --verify-only", &out) ==
          0);
  CHECK(out.find("VERIFIED") != std::string::npos);
  CHECK_FALSE(fs::exists(site.data("records.db")));
}

TEST_CASE("run by root, setup and restore leave their files to the data directory's owner") {
  if (::geteuid() != 0) {
    WARN("not root: cannot check the switch to the data directory's owner");
    return;
  }
  // nobody:nogroup stands in for the package's custodian user.
  const uid_t uid = 65534;
  const gid_t gid = 65534;
  Site site;
  fs::permissions(site.dir.path(), fs::perms::owner_all | fs::perms::group_read |
                                       fs::perms::group_exec | fs::perms::others_read |
                                       fs::perms::others_exec);
  fs::create_directories(site.data());
  REQUIRE(::chown(site.data().c_str(), uid, gid) == 0);
  std::string out;
  REQUIRE(Run(site.cfg() + "setup", &out) == 0);
  INFO(out);
  struct stat st {};
  for (const char* f : {"records.db", "keys", "keys/export-signing.key", "keys/https-key.pem"}) {
    REQUIRE(::stat(site.data(f).c_str(), &st) == 0);
    CHECK(st.st_uid == uid);
  }
  const std::string bak = site.dir.File("site.bak");
  REQUIRE(Run(site.cfg() + "backup " + bak + " --key-file " + site.dir.File("pass")) == 0);
  for (const char* f : {"records.db", "keys"}) fs::remove_all(site.data(f));
  REQUIRE(Run(site.cfg() + "restore " + bak + " --key-file " + site.dir.File("pass"), &out) == 0);
  for (const char* f : {"records.db", "keys", "keys/export-signing.key"}) {
    REQUIRE(::stat(site.data(f).c_str(), &st) == 0);
    CHECK(st.st_uid == uid);
  }
  // The configuration stays root's.
  REQUIRE(::stat(site.dir.File("site.yaml").c_str(), &st) == 0);
  CHECK(st.st_uid == 0);
}

TEST_CASE("restore: an archive naming a path outside the data directory is refused") {
  Site site;
  REQUIRE(Run(site.cfg() + "setup") == 0);
  const std::string db = RecordsBytes(site);
  const std::string site_file = site.dir.File("site.yaml");
  const std::string site_text = Slurp(site_file);
  fs::create_directories(site.dir.File("outside"));
  // The description names another data directory; only the configuration in force counts.
  const CraftedEntry meta{'M', "meta",
                          "custodian_version=0\nsite_file=" + site_file +
                              "\ndata_dir=" + site.dir.File("elsewhere") + "\n"};
  const std::string bak = site.dir.File("crafted.bak");
  const std::string restore = site.cfg() + "restore " + bak + " --force --key-file " +
                              site.dir.File("pass");
  const std::vector<CraftedEntry> bad = {
      {'C', site.dir.File("outside/planted"), "x"},               // absolute, elsewhere
      {'C', "/tmp/custodian-restore-planted", "x"},                // absolute, elsewhere
      {'C', site.dir.File("cameras/../outside/planted"), "x"},    // ..
      {'C', site.dir.File("data/keys/planted"), "x"},             // the data dir, as config
      {'C', "cameras/planted", "x"},                               // relative
      {'D', "../outside/planted", "x"},                            // .. out of the data dir
      {'D', "footage/planted", "x"},                               // not records or keys
      {'D', "keys/sub/planted", "x"},                              // not directly in keys/
  };
  std::string out;
  for (const CraftedEntry& e : bad) {
    INFO(e.name);
    fs::remove(bak);
    WriteCrafted(bak, {meta, {'C', site_file, site_text + "# v2\n"}, {'D', "records.db", db}, e});
    REQUIRE(Run(restore, &out) == 1);
    INFO(out);
    CHECK(out.find("refused") != std::string::npos);
    CHECK(fs::is_empty(site.dir.File("outside")));
    CHECK_FALSE(fs::exists("/tmp/custodian-restore-planted"));
    CHECK_FALSE(fs::exists(site.data("keys/planted")));
    CHECK_FALSE(fs::exists(site.dir.File("elsewhere")));
    CHECK_FALSE(AnyPartialLeft(site.dir.path()));
  }
  fs::remove("/tmp/custodian-restore-planted");

  // A well-formed archive goes into the configuration's paths, with restore's own modes.
  fs::remove(bak);
  WriteCrafted(bak, {meta,
                     {'C', site_file, site_text + "# restored\n", 04777},
                     {'C', site.dir.File("secrets/door"), "from the backup\n", 0666},
                     {'D', "records.db", db, 0666},
                     {'D', "keys/export-signing.key", "key", 06777}});
  REQUIRE(Run(restore, &out) == 0);
  INFO(out);
  CHECK_FALSE(fs::exists(site.dir.File("elsewhere")));
  CHECK(Slurp(site.data("keys/export-signing.key")) == "key");
  auto mode = [](const std::string& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
  };
  CHECK(mode(site.data("keys/export-signing.key")) == 0600);
  CHECK(mode(site.data("records.db")) == 0600);
  CHECK(mode(site.data("keys")) == 0700);
  CHECK(mode(site.dir.File("secrets/door")) == 0640);
  CHECK(Slurp(site.dir.File("secrets/door")) == "from the backup\n");
  CHECK(mode(site_file) == 0640);
  CHECK(AccessCount(*site.Open()) == 1);
}

TEST_CASE("restore: a symlink planted in the data directory is not followed") {
  Site site;
  REQUIRE(Run(site.cfg() + "setup") == 0);
  const std::string bak = site.dir.File("site.bak");
  REQUIRE(Run(site.cfg() + "backup " + bak + " --key-file " + site.dir.File("pass")) == 0);
  const bool root = ::geteuid() == 0;
  if (root) {
    // The data directory belongs to the service account, which plants the links.
    for (const auto& e : fs::recursive_directory_iterator(site.data())) {
      REQUIRE(::lchown(e.path().c_str(), 65534, 65534) == 0);
    }
    REQUIRE(::chown(site.data().c_str(), 65534, 65534) == 0);
  }
  // Files of root's that the links point at.
  const std::string victim = site.dir.File("victim");
  std::ofstream(victim) << "precious";
  fs::permissions(victim, fs::perms::owner_read | fs::perms::owner_write);
  const std::string victim_dir = site.dir.File("victim-dir");
  fs::create_directories(victim_dir);
  fs::remove_all(site.data("keys"));
  fs::create_directory_symlink(victim_dir, site.data("keys"));
  for (const char* name : {"records.db.restore-partial", "records.db-wal", "records.db-shm"}) {
    fs::remove(site.data(name));
    fs::create_symlink(victim, site.data(name));
  }

  std::string out;
  REQUIRE(Run(site.cfg() + "restore " + bak + " --force --key-file " + site.dir.File("pass"),
              &out) == 0);
  INFO(out);
  CHECK(Slurp(victim) == "precious");
  CHECK(fs::is_empty(victim_dir));
  struct stat st {};
  REQUIRE(::stat(victim.c_str(), &st) == 0);
  CHECK(st.st_uid == ::geteuid());
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(victim_dir.c_str(), &st) == 0);
  CHECK(st.st_uid == ::geteuid());
  CHECK(fs::is_directory(fs::symlink_status(site.data("keys"))));
  CHECK(fs::is_regular_file(fs::symlink_status(site.data("records.db"))));
  CHECK(fs::exists(site.data("keys/export-signing.key")));
  if (root) {
    REQUIRE(::lstat(site.data("keys/export-signing.key").c_str(), &st) == 0);
    CHECK(st.st_uid == 65534u);
  }
  CHECK(AccessCount(*site.Open()) == 1);

  // The data directory itself replaced by a link: refused.
  const std::string real = site.dir.File("real-data");
  fs::rename(site.data(), real);
  fs::create_directory_symlink(real, site.data());
  REQUIRE(Run(site.cfg() + "restore " + bak + " --force --key-file " + site.dir.File("pass"),
              &out) == 1);
  CHECK(out.find("symbolic link") != std::string::npos);
  CHECK(fs::is_symlink(site.data()));
}

TEST_CASE("restore: a crash before the switch leaves the old data directory whole") {
  Site site;
  REQUIRE(Run(site.cfg() + "setup") == 0);
  const std::string bak = site.dir.File("site.bak");
  REQUIRE(Run(site.cfg() + "backup " + bak + " --key-file " + site.dir.File("pass")) == 0);
  { Append(*site.Open(), 1); }  // a row the backup does not have
  fs::create_directories(site.data("footage/door"));
  std::ofstream(site.data("footage/door/segment.mp4")) << "frames";
  const std::string key = Slurp(site.data("keys/export-signing.key"));
  const std::string restore =
      site.cfg() + "restore " + bak + " --force --key-file " + site.dir.File("pass");
  std::string out;

  // Killed there, as by a power cut (the shell may report it as 128 + SIGKILL).
  const int crashed = Run(restore, &out, "CUSTODIAN_TEST_RESTORE_CRASH=before-switch");
  REQUIRE((crashed == -1 || crashed == 128 + SIGKILL));
  INFO(out);
  // The old directory is whole: its records (the extra row too), keys and footage.
  CHECK(AccessCount(*site.Open()) == 2);
  CHECK(Slurp(site.data("keys/export-signing.key")) == key);
  CHECK(Slurp(site.data("footage/door/segment.mp4")) == "frames");

  // The next restore clears what the crash left and completes.
  REQUIRE(Run(restore, &out) == 0);
  CHECK(AccessCount(*site.Open()) == 1);
  CHECK(Slurp(site.data("footage/door/segment.mp4")) == "frames");
  CHECK_FALSE(LeftoverBeside(site));
  CHECK_FALSE(AnyPartialLeft(site.dir.path()));
}

TEST_CASE("restore: a crash after the switch loses no footage, and the next restore completes it") {
  Site site;
  REQUIRE(Run(site.cfg() + "setup") == 0);
  const std::string bak = site.dir.File("site.bak");
  REQUIRE(Run(site.cfg() + "backup " + bak + " --key-file " + site.dir.File("pass")) == 0);
  { Append(*site.Open(), 1); }
  fs::create_directories(site.data("footage/door"));
  std::ofstream(site.data("footage/door/segment.mp4")) << "frames";
  const std::string restore =
      site.cfg() + "restore " + bak + " --force --key-file " + site.dir.File("pass");
  std::string out;
  // Killed there, as by a power cut (the shell may report it as 128 + SIGKILL).
  const int crashed = Run(restore, &out, "CUSTODIAN_TEST_RESTORE_CRASH=after-switch");
  REQUIRE((crashed == -1 || crashed == 128 + SIGKILL));
  // The switch is whole: the restored records and keys, not a mix.
  CHECK(AccessCount(*site.Open()) == 1);
  CHECK(LeftoverBeside(site));
  REQUIRE(Run(restore, &out) == 0);
  INFO(out);
  CHECK(Slurp(site.data("footage/door/segment.mp4")) == "frames");
  CHECK_FALSE(LeftoverBeside(site));
}

TEST_CASE("restore is refused while serve holds the records") {
  Site site;
  const int port = 40000 + static_cast<int>(::getpid() % 20000);
  std::ofstream(site.dir.File("site.yaml"), std::ios::app)
      << "http: { listen: \"127.0.0.1:" << port << "\" }\n";
  REQUIRE(Run(site.cfg() + "setup") == 0);
  const std::string bak = site.dir.File("site.bak");
  REQUIRE(Run(site.cfg() + "backup " + bak + " --key-file " + site.dir.File("pass")) == 0);
  { Append(*site.Open(), 1); }
  const std::string restore =
      site.cfg() + "restore " + bak + " --force --key-file " + site.dir.File("pass");
  std::string out;

  SECTION("serve") {
    NotifySocket systemd(site.dir.File("serve.notify"));
    pid_t pid = StartService(site.dir.File("site.yaml"), "serve", systemd.path(),
                             site.dir.File("serve.log"));
    REQUIRE(systemd.Next(60) == "READY=1");
    CHECK(Run(restore, &out) == 1);
    CHECK(out.find("a custodian service holds the records") != std::string::npos);
    CHECK(out.find("process " + std::to_string(pid)) != std::string::npos);
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  SECTION("any process with the records open, as record and retain keep them") {
    auto db = site.Open();
    CHECK(Run(restore, &out) == 1);
    CHECK(out.find("a custodian service holds the records") != std::string::npos);
  }
  CHECK(AccessCount(*site.Open()) == 2);
  CHECK_FALSE(LeftoverBeside(site));
  // Stopped, the same restore goes ahead.
  REQUIRE(Run(restore, &out) == 0);
  CHECK(AccessCount(*site.Open()) == 1);
}

TEST_CASE("restore: a process started just before the switch waits for it, then opens the restored records") {
  Site site;
  REQUIRE(Run(site.cfg() + "setup") == 0);
  const std::string bak = site.dir.File("site.bak");
  REQUIRE(Run(site.cfg() + "backup " + bak + " --key-file " + site.dir.File("pass")) == 0);
  { Append(*site.Open(), 1); }
  REQUIRE(Run(site.cfg() + "audit verify") == 0);  // makes records.lock, as any verb does
  // The restore stops after its last check, just before the switch, until `pause` is gone.
  const std::string pause = site.dir.File("restore.pause");
  const std::string restore_cmd = "env CUSTODIAN_TEST_RESTORE_PAUSE=before-switch:" + pause + " " +
                                  CUSTODIAN_BINARY + " " + site.cfg() + "restore " + bak +
                                  " --force --key-file " + site.dir.File("pass") + " > " +
                                  site.dir.File("restore.out") + " 2>&1";
  auto spawn = [](const std::string& cmd) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return pid;
  };
  const pid_t restore = spawn(restore_cmd);
  for (int i = 0; i < 600 && !std::filesystem::exists(pause); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO(Slurp(site.dir.File("restore.out")));
  REQUIRE(std::filesystem::exists(pause));
  // A service (here `audit verify`, which opens the records as every service does) started
  // now must not read the records that the restore is about to replace.
  const pid_t reader = spawn(std::string(CUSTODIAN_BINARY) + " " + site.cfg() + "audit verify > " +
                             site.dir.File("reader.out") + " 2>&1");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  int status = 0;
  CHECK(::waitpid(reader, &status, WNOHANG) == 0);  // still waiting for the restore
  std::filesystem::remove(pause);
  REQUIRE(::waitpid(restore, &status, 0) == restore);
  INFO(Slurp(site.dir.File("restore.out")));
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  REQUIRE(::waitpid(reader, &status, 0) == reader);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  // It read the restored log (the backup's one entry), not the replaced one (two).
  const std::string read = Slurp(site.dir.File("reader.out"));
  INFO(read);
  CHECK(read.find("access log verifies: 1 entries") != std::string::npos);
  CHECK(AccessCount(*site.Open()) == 1);
}

// --- Access-log checkpoints ---------------------------------------------------------------

namespace {

// Appends n rows; the log then has the setup's entry and these.
void AppendRows(const Site& site, int n) {
  auto db = site.Open();
  for (int i = 0; i < n; ++i) Append(*db, i);
}

void Sql(const Site& site, const std::string& sql) {
  const std::string cmd = std::string(CUSTODIAN_SQLITE3_CLI) + " " + site.data("records.db") +
                          " \"" + sql + "\"";
  REQUIRE(std::system(cmd.c_str()) == 0);
}

}  // namespace

TEST_CASE("audit checkpoint signs the log's head, and a good log passes audit verify --checkpoint") {
  Site site;
  REQUIRE(Run(site.cfg() + "setup") == 0);
  AppendRows(site, 5);
  const std::string cp = site.dir.File("checkpoint.txt");
  std::string out;
  REQUIRE(Run(site.cfg() + "audit checkpoint --out " + cp, &out) == 0);
  INFO(out);
  const std::string text = Slurp(cp);
  CHECK(text.find("entry: 6\n") != std::string::npos);
  const std::string sig = Slurp(cp + ".minisig");
  CHECK(sig.find("trusted comment: custodian access-log checkpoint: entry 6 hash ") !=
        std::string::npos);
  // Never overwritten.
  REQUIRE(Run(site.cfg() + "audit checkpoint --out " + cp, &out) == 1);
  // minisign itself checks it with the published key.
  if (fs::exists("/usr/bin/minisign")) {
    const std::string cmd = "/usr/bin/minisign -Vm " + cp + " -p " +
                            site.data("keys/export-signing.pub") + " > /dev/null";
    CHECK(std::system(cmd.c_str()) == 0);
  }

  REQUIRE(Run(site.cfg() + "audit verify --checkpoint " + cp, &out) == 0);
  CHECK(out.find("signature good") != std::string::npos);
  CHECK(out.find("holds checkpoint entry 6 with the same hash") != std::string::npos);
  // The log goes on growing past a checkpoint.
  AppendRows(site, 3);
  REQUIRE(Run(site.cfg() + "audit verify --checkpoint " + cp, &out) == 0);
  // The public key may be given as published.
  REQUIRE(Run(site.cfg() + "audit verify --checkpoint " + cp + " --pubkey " +
                  site.data("keys/export-signing.pub"),
              &out) == 0);

  // A checkpoint edited after signing does not verify.
  std::string edited = text;
  edited.replace(edited.find("entry: 6"), 8, "entry: 2");
  const std::string forged = site.dir.File("forged.txt");
  std::ofstream(forged) << edited;
  fs::copy_file(cp + ".minisig", forged + ".minisig");
  REQUIRE(Run(site.cfg() + "audit verify --checkpoint " + forged, &out) == 1);
  CHECK(out.find("does not verify") != std::string::npos);

  // By default checkpoints go into the data directory's checkpoints/.
  REQUIRE(Run(site.cfg() + "audit checkpoint", &out) == 0);
  std::smatch m;
  REQUIRE(std::regex_search(out, m, std::regex("checkpoint written: (\\S+\\.txt)")));
  CHECK(m[1].str().find(site.data("checkpoints/access-log-")) == 0);
  REQUIRE(Run(site.cfg() + "audit verify --checkpoint " + m[1].str(), &out) == 0);

  // Every backup records the head too.
  REQUIRE(Run(site.cfg() + "backup " + site.dir.File("site.bak") + " --key-file " +
                  site.dir.File("pass"),
              &out) == 0);
  CHECK(out.find("access log head: entry 9 ") != std::string::npos);
}

TEST_CASE("audit verify --checkpoint detects a log cut at its end") {
  Site site;
  REQUIRE(Run(site.cfg() + "setup") == 0);
  AppendRows(site, 5);
  const std::string cp = site.dir.File("checkpoint.txt");
  std::string out;
  REQUIRE(Run(site.cfg() + "audit checkpoint --out " + cp, &out) == 0);
  // Someone with write access to records.db removes the last entries.
  Sql(site, "DROP TRIGGER access_log_no_delete; DELETE FROM access_log WHERE id > 3;");
  REQUIRE(Run(site.cfg() + "audit verify", &out) == 0);  // the chain alone cannot tell
  REQUIRE(Run(site.cfg() + "audit verify --checkpoint " + cp, &out) == 1);
  INFO(out);
  CHECK(out.find("ACCESS LOG DOES NOT VERIFY") != std::string::npos);
  CHECK(out.find("the log ends at entry 3 but the anchor records entry 6") != std::string::npos);
}

TEST_CASE("audit verify --checkpoint detects a rebuilt chain") {
  Site site;
  REQUIRE(Run(site.cfg() + "setup") == 0);
  AppendRows(site, 5);
  const std::string cp = site.dir.File("checkpoint.txt");
  std::string out;
  REQUIRE(Run(site.cfg() + "audit checkpoint --out " + cp, &out) == 0);
  // A new records database whose chain is whole and longer, but not the one checkpointed.
  for (const char* f : {"records.db", "records.db-wal", "records.db-shm"}) {
    fs::remove(site.data(f));
  }
  REQUIRE(Run(site.cfg() + "setup", &out) == 0);
  AppendRows(site, 8);
  REQUIRE(Run(site.cfg() + "audit verify", &out) == 0);
  REQUIRE(Run(site.cfg() + "audit verify --checkpoint " + cp, &out) == 1);
  INFO(out);
  CHECK(out.find("entry 6 is not the entry the anchor recorded: the chain was rebuilt") !=
        std::string::npos);
}

TEST_CASE("the retain service writes the day's access-log checkpoint, which audit verify accepts") {
  Site site;
  REQUIRE(Run(site.cfg() + "setup") == 0);
  AppendRows(site, 2);
  {
    NotifySocket systemd(site.dir.File("retain.notify"));
    pid_t pid = StartService(site.dir.File("site.yaml"), "retain", systemd.path(),
                             site.dir.File("retain.log"));
    // Written in the service's first turn, which ends with its first watchdog ping.
    REQUIRE(systemd.Next(60) == "READY=1");
    CHECK(systemd.Next(60) == "WATCHDOG=1");
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
  }
  std::vector<std::string> daily;
  for (const auto& e : fs::directory_iterator(site.data("checkpoints"))) {
    const std::string n = e.path().filename().string();
    if (n.rfind("access-log-daily-", 0) == 0 && n.size() > 4 && n.substr(n.size() - 4) == ".txt") {
      daily.push_back(e.path().string());
    }
  }
  REQUIRE(daily.size() == 1);
  CHECK(Slurp(daily[0]).find("entry: 3\n") != std::string::npos);
  std::string out;
  REQUIRE(Run(site.cfg() + "audit verify --checkpoint " + daily[0], &out) == 0);
  // A log cut afterwards does not pass against it.
  Sql(site, "DROP TRIGGER access_log_no_delete; DELETE FROM access_log WHERE id > 1;");
  REQUIRE(Run(site.cfg() + "audit verify --checkpoint " + daily[0], &out) == 1);
  CHECK(out.find("entries were removed from the end") != std::string::npos);
}
