// `custodian setup` and `custodian migrate`: bringing an appliance to a working state.
//
//   setup [--admin NAME]   makes what a new site needs and is missing: the data
//                          directories, the records database, the HTTPS certificate, the
//                          export-signing key pair and a first admin account with a
//                          one-time password; prints the fingerprints that staff and police
//                          check, and warns when the clock is not synchronised. Running it
//                          again changes nothing that exists: keys and accounts are kept.
//   migrate                applies the records database's pending migrations and prints its
//                          schema version; refuses a database newer than this build.
//
// Run as root on an installed appliance, both switch to the owner of data_dir (the
// `custodian` system user) before touching anything, so that the services can read what
// they make. Exit codes: 0 ok (setup: even with a time-sync warning); 1 failed; 2 usage;
// 3 bad config.
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <memory>
#include <string>

#include "api/passwords.h"
#include "api/tls_cert.h"
#include "app/site_context.h"
#include "base/log.h"
#include "base/sha256.h"
#include "exports/signing.h"

namespace custodian {

namespace {

constexpr char kSetupUsage[] = "usage: custodian setup [--admin NAME]\n";
constexpr char kMigrateUsage[] = "usage: custodian migrate\n";

int Fail(const char* verb, const Status& st) {
  std::fprintf(stderr, "custodian: %s: %s\n", verb, st.ToString().c_str());
  return st.kind() == ErrorKind::kInvalidArgument ? kExitConfig : kExitFailure;
}

// Root switches to the owner of an existing data_dir; anyone else stays who they are.
Status BecomeDataDirOwner(const GlobalOptions& opts) {
  if (::geteuid() != 0) return Status::Ok();
  auto site = config::LoadSiteConfig(opts.config_path);
  if (!site.ok()) return site.status();
  struct stat st {};
  if (::stat(site->data_dir.c_str(), &st) != 0 || st.st_uid == 0) return Status::Ok();
  if (::setgroups(0, nullptr) != 0 || ::setgid(st.st_gid) != 0 || ::setuid(st.st_uid) != 0) {
    return ErrnoStatus("switching to the owner of " + site->data_dir, errno);
  }
  return Status::Ok();
}

// The certificate's fingerprint as browsers show it, or why it cannot be shown.
std::string CertificateFingerprint(Filesystem& fs, const std::string& cert_path) {
  auto pem = ReadFileToString(fs, cert_path, uint64_t{1} << 20);
  if (!pem.ok()) return "(unreadable: " + pem.status().message() + ")";
  auto fingerprint = api::CertificateFingerprint(*pem);
  return fingerprint.ok() ? *fingerprint : "(unreadable)";
}

// SHA-256 of the key's decoded base64 line ("Ed" || key id || key), which anyone can
// recompute from the .pub file: tail -n1 export-signing.pub | base64 -d | sha256sum
std::string SigningKeyFingerprint(const exports::PublicKey& key) {
  std::string raw = "Ed";
  raw.append(reinterpret_cast<const char*>(key.key_id.data()), key.key_id.size());
  raw.append(reinterpret_cast<const char*>(key.pk.data()), key.pk.size());
  return Sha256Hex(raw);
}

Status MakeDataDirs(SiteContext& ctx) {
  CUSTODIAN_RETURN_IF_ERROR(ctx.fs().CreateDirs(config::ExportsDir(ctx.site)));
  const std::string keys = config::KeysDir(ctx.site);
  CUSTODIAN_RETURN_IF_ERROR(ctx.fs().CreateDirs(keys));
  CUSTODIAN_RETURN_IF_ERROR(ctx.fs().Chmod(keys, 0700));
  return Status::Ok();
}

Status SetUpTls(SiteContext& ctx) {
  const config::HttpConfig& http = ctx.site.http;
  auto tls =
      api::EnsureTlsCertificate(config::KeysDir(ctx.site), http.tls_cert, http.tls_key, ctx.fs());
  if (!tls.ok()) return tls.status();
  std::printf("HTTPS certificate  %s %s\n", tls->generated ? "created" : "kept",
              tls->cert_path.c_str());
  std::printf("                   SHA-256 fingerprint %s\n",
              CertificateFingerprint(ctx.fs(), tls->cert_path).c_str());
  return Status::Ok();
}

Status SetUpSigningKey(SiteContext& ctx) {
  const std::string dir = config::KeysDir(ctx.site);
  const bool existed = ctx.fs().Exists(exports::SecretKeyPath(dir));
  auto key = exports::SigningKey::LoadOrCreate(dir, ctx.fs());
  if (!key.ok()) return key.status();
  const exports::PublicKey& pub = key->public_key();
  std::printf("export signing key %s %s\n", existed ? "kept" : "created",
              exports::PublicKeyPath(dir).c_str());
  std::printf("                   public key  %s\n", pub.Base64().c_str());
  std::printf("                   key id      %s\n", pub.KeyIdHex().c_str());
  std::printf("                   fingerprint %s\n", SigningKeyFingerprint(pub).c_str());
  return Status::Ok();
}

// "xxxx-xxxx-xxxx-xxxx": 64 random bits, easy to read out and type once.
std::string OneTimePassword() {
  const std::string hex = api::RandomHex(8);
  return hex.substr(0, 4) + "-" + hex.substr(4, 4) + "-" + hex.substr(8, 4) + "-" +
         hex.substr(12, 4);
}

Status SetUpAdmin(SiteContext& ctx, const std::string& name) {
  auto users = ctx.db().ListUsers();
  if (!users.ok()) return users.status();
  for (const auto& u : *users) {
    if (u.role == records::Role::kAdmin) {
      std::printf("admin account      kept: %s exists (no new account made)\n", u.name.c_str());
      return Status::Ok();
    }
  }
  const std::string password = OneTimePassword();
  auto hash = api::HashPassword(password);
  if (!hash.ok()) return hash.status();
  int64_t id = 0;
  Status st = ctx.db().WithTransaction([&]() -> Status {
    auto created =
        ctx.db().CreateUser({name, records::Role::kAdmin, *hash, /*must_change_password=*/true});
    if (!created.ok()) return created.status();
    id = *created;
    records::AccessEntry e;
    e.user_name = "(console)";
    e.action = "user_create";
    e.client = "console";
    e.detail = "account " + std::to_string(id) + " " + name + " role admin (setup)";
    auto logged = ctx.db().AppendAccess(e);
    return logged.ok() ? Status::Ok() : logged.status();
  });
  if (st.kind() == ErrorKind::kAlreadyExists) {
    return FailedPrecondition("an account named " + name +
                              " exists but is not an admin; choose another with --admin NAME");
  }
  CUSTODIAN_RETURN_IF_ERROR(st);
  std::printf("admin account      created: %s (account %lld)\n", name.c_str(),
              static_cast<long long>(id));
  std::printf("                   one-time password: %s\n", password.c_str());
  std::printf("                   It is shown this once and must be changed at first sign-in.\n");
  return Status::Ok();
}

// The first line a command prints, or "" if it cannot run.
std::string FirstLineOf(const char* command) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(command, "r"), &::pclose);
  if (!p) return "";
  char buf[256];
  if (!std::fgets(buf, sizeof buf, p.get())) return "";
  std::string line = buf;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

// Footage times and the access log are only as good as the clock; say so when it is not
// known to be synchronised. Never fails setup.
void CheckTimeSync() {
  const std::string synced = FirstLineOf("timedatectl show -p NTPSynchronized --value 2>/dev/null");
  if (synced == "yes") {
    std::printf("time sync          ok (the clock is synchronised)\n");
    return;
  }
  const std::string timesyncd = FirstLineOf("systemctl is-active systemd-timesyncd 2>/dev/null");
  if (synced == "no") {
    std::printf(
        "time sync          WARNING: the clock is not synchronised (timesyncd is %s);\n"
        "                   footage times and the access log depend on it. Check NTP:\n"
        "                   timedatectl timesync-status\n",
        timesyncd.empty() ? "unknown" : timesyncd.c_str());
    return;
  }
  std::printf(
      "time sync          WARNING: could not tell whether the clock is synchronised\n"
      "                   (timedatectl unavailable; timesyncd is %s); make sure NTP runs.\n",
      timesyncd.empty() ? "unknown" : timesyncd.c_str());
}

}  // namespace

int RunSetup(const GlobalOptions& opts, const std::vector<std::string>& args) {
  std::string admin = "admin";
  if (args.size() == 2 && args[0] == "--admin" && !args[1].empty() && args[1].size() <= 64) {
    admin = args[1];
  } else if (!args.empty()) {
    std::fputs(kSetupUsage, stderr);
    return kExitUsage;
  }
  Status become = BecomeDataDirOwner(opts);
  if (!become.ok()) return Fail("setup", become);
  auto opened = SiteContext::Open(opts);
  if (!opened.ok()) return ReportOpenError(opened.status());
  SiteContext& ctx = **opened;
  std::printf("site               %s (%s)\n", ctx.site.site_name.c_str(), ctx.site.path.c_str());
  for (auto step : {MakeDataDirs, SetUpTls, SetUpSigningKey}) {
    Status st = step(ctx);
    if (!st.ok()) return Fail("setup", st);
  }
  std::printf("data directory     %s (records schema version %d)\n", ctx.site.data_dir.c_str(),
              ctx.db().SchemaVersion());
  Status st = SetUpAdmin(ctx, admin);
  if (!st.ok()) return Fail("setup", st);
  CheckTimeSync();
  return kExitOk;
}

int RunMigrate(const GlobalOptions& opts, const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::fputs(kMigrateUsage, stderr);
    return kExitUsage;
  }
  Status become = BecomeDataDirOwner(opts);
  if (!become.ok()) return Fail("migrate", become);
  auto opened = SiteContext::Open(opts);
  if (!opened.ok()) return ReportOpenError(opened.status());
  std::printf("%s: schema version %d\n", (*opened)->db().path().c_str(),
              (*opened)->db().SchemaVersion());
  return kExitOk;
}

}  // namespace custodian
