// setup, migrate, backup and restore, driven through the real custodian binary on a real
// records database, as an administrator would use them.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "api/passwords.h"
#include "base/clock.h"
#include "base/sha256.h"
#include "base/testing/temp_dir.h"
#include "records/database.h"

using namespace custodian;
using custodian::testing::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr char kPassphrase[] = "correct horse battery staple";

// Runs `sh -c "custodian ARGS"` with the given shell redirections; returns the exit code.
int Run(const std::string& args, std::string* out = nullptr) {
  const std::string cmd = std::string(CUSTODIAN_BINARY) + " " + args + " 2>&1";
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
    if (e.path().string().find(".restore-partial") != std::string::npos) return true;
  }
  return false;
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
  REQUIRE(Run("restore " + site.dir.File("site.bak") + " --key-file " + site.dir.File("pass"),
              &out) == 0);
  INFO(out);
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
  REQUIRE(Run("restore " + bak + " < " + site.dir.File("pass"), &out) == 1);
  CHECK(out.find("will not overwrite them without --force") != std::string::npos);
  CHECK(AccessCount(*site.Open()) == 2);
  REQUIRE(Run("restore " + bak + " --force < " + site.dir.File("pass"), &out) == 0);
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
  REQUIRE(Run("restore " + bak + " --key-file " + site.dir.File("wrong"), &out) == 1);
  CHECK(out.find("wrong passphrase, or the file is damaged") != std::string::npos);
  CHECK_FALSE(fs::exists(site.data("records.db")));

  std::string bytes = Slurp(bak);
  const std::string tampered = site.dir.File("tampered.bak");
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x01;
  std::ofstream(tampered, std::ios::binary) << flipped;
  REQUIRE(Run("restore " + tampered + " --key-file " + site.dir.File("pass"), &out) == 1);
  CHECK(out.find("data_loss") != std::string::npos);
  CHECK(out.find("damaged") != std::string::npos);
  CHECK_FALSE(fs::exists(site.data("records.db")));
  CHECK_FALSE(AnyPartialLeft(site.dir.path()));

  const std::string cut = site.dir.File("cut.bak");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() - 100);
  REQUIRE(Run("restore " + cut + " --key-file " + site.dir.File("pass") + " --verify-only", &out) ==
          1);
  CHECK(out.find("data_loss") != std::string::npos);
  REQUIRE(Run("restore " + cut + " --key-file " + site.dir.File("pass"), &out) == 1);
  CHECK_FALSE(fs::exists(site.data("records.db")));
  CHECK_FALSE(AnyPartialLeft(site.dir.path()));

  // The header is authenticated too: a changed salt or cost does not decrypt.
  std::string header = bytes;
  header[40] ^= 0x01;
  std::ofstream(tampered, std::ios::binary | std::ios::trunc) << header;
  REQUIRE(Run("restore " + tampered + " --key-file " + site.dir.File("pass"), &out) == 1);
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
  REQUIRE(Run("restore " + bak + " --key-file " + site.dir.File("pass"), &out) == 0);
  for (const char* f : {"records.db", "keys", "keys/export-signing.key"}) {
    REQUIRE(::stat(site.data(f).c_str(), &st) == 0);
    CHECK(st.st_uid == uid);
  }
  // The configuration stays root's.
  REQUIRE(::stat(site.dir.File("site.yaml").c_str(), &st) == 0);
  CHECK(st.st_uid == 0);
}
