// `custodian export`: export packages from the command line (docs/design/exports.md).
//   export verify PATH [--pubkey KEY]   checks a package's signature and every file's hash;
//                                       KEY is a .pub file or its base64 line (default: this
//                                       appliance's key when the site file is readable,
//                                       else the copy inside the package, with a warning)
//   export keygen                       makes the signing key if there is none; prints it
//   export pubkey                       prints the public key (minisign format)
//   export build --request ID --user NAME [--originals] [--burned-in]
//                                       queues an export of an approved request and builds
//                                       it now; prints the package's path. --originals adds
//                                       the master copies; --burned-in a working copy with
//                                       the time drawn into the picture (re-encoded)
//   export run                          recovers interrupted jobs, then builds every queued
//                                       export
//   export cancel EXPORT_ID             cancels an export's job
//   export zip EXPORT_ID --user NAME    makes the AES-256 zip for removable media and prints
//                                       its password, once; NAME must be a manager or DPO
// --user names the person on whose behalf the command acts; it is recorded as such.
// Exit codes: 0 ok (verify: the package verifies); 1 failed (verify: it does not);
// 2 usage; 3 bad config.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "app/site_context.h"
#include "base/filesystem.h"
#include "base/log.h"
#include "config/site_config.h"
#include "exports/export_jobs.h"
#include "exports/signing.h"
#include "exports/verify.h"
#include "jobs/export_run.h"
#include "version.h"

namespace custodian {

namespace {

constexpr char kUsage[] =
    "usage: custodian export verify PATH [--pubkey FILE|KEY]\n"
    "       custodian export keygen | pubkey\n"
    "       custodian export build --request ID --user NAME [--originals] [--burned-in]\n"
    "       custodian export run\n"
    "       custodian export cancel EXPORT_ID\n"
    "       custodian export zip EXPORT_ID --user NAME\n";

int Usage() {
  std::fputs(kUsage, stderr);
  return kExitUsage;
}

int Fail(const Status& st) {
  std::fprintf(stderr, "custodian: export: %s\n", st.ToString().c_str());
  return kExitFailure;
}

bool ParseId(const std::string& text, int64_t* out) {
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v <= 0) return false;
  *out = v;
  return true;
}

// A minisign public key file is two short lines.
constexpr uint64_t kMaxKeyFileBytes = 64 * 1024;

// The site's own public key, when the site file and the key can be read.
std::optional<exports::PublicKey> SiteKey(const GlobalOptions& opts) {
  auto site = config::LoadSiteConfig(opts.config_path);
  if (!site.ok()) return std::nullopt;
  auto text = ReadFileToString(PosixFilesystem::Instance(),
                               exports::PublicKeyPath(config::KeysDir(*site)), kMaxKeyFileBytes);
  if (!text.ok()) return std::nullopt;
  auto key = exports::ParsePublicKey(*text);
  if (!key.ok()) return std::nullopt;
  return *key;
}

int Verify(const GlobalOptions& opts, const std::vector<std::string>& args) {
  if (args.size() != 2 && !(args.size() == 4 && args[2] == "--pubkey")) return Usage();
  std::optional<exports::PublicKey> key;
  std::string key_source = "this appliance's signing key";
  if (args.size() == 4) {
    // A file holding the key, or the key itself.
    auto file = ReadFileToString(PosixFilesystem::Instance(), args[3], kMaxKeyFileBytes);
    auto parsed = exports::ParsePublicKey(file.ok() ? *file : args[3]);
    if (!parsed.ok()) return Fail(parsed.status());
    key = *parsed;
    key_source = "the key given with --pubkey";
  } else {
    key = SiteKey(opts);
  }
  auto v = exports::VerifyPackage(args[1], key);
  if (!v.ok()) return Fail(v.status());
  std::printf("package:   %s\n", args[1].c_str());
  if (!v->reference.empty() || !v->created_utc.empty()) {
    std::printf("request:   reference %s, exported %s\n",
                v->reference.empty() ? "(none)" : v->reference.c_str(), v->created_utc.c_str());
  }
  if (v->key_from_package) key_source = "the key inside the package";
  std::printf("signature: %s (key %s, %s)\n", v->signature_ok ? "verified" : "NOT VERIFIED",
              v->key_id.c_str(), key_source.c_str());
  std::printf("files:     %d verified, %lld bytes\n", v->files_checked,
              static_cast<long long>(v->bytes_checked));
  for (const std::string& w : v->warnings) std::printf("warning:   %s\n", w.c_str());
  for (const std::string& p : v->problems) std::printf("PROBLEM:   %s\n", p.c_str());
  std::printf("%s\n", v->ok ? "VERIFIED: the package is as the appliance signed it"
                            : "DOES NOT VERIFY: do not rely on this package");
  return v->ok ? kExitOk : kExitFailure;
}

exports::ExportServiceOptions ServiceOptions(SiteContext& ctx) {
  exports::ExportServiceOptions o;
  o.data_dir = ctx.site.data_dir;
  o.keys_dir = config::KeysDir(ctx.site);
  o.site_name = ctx.site.site_name;
  o.expiry_us = int64_t{ctx.site.retention.export_expiry_days} * kMicrosPerDay;
  o.build.software_version = CUSTODIAN_VERSION;
  o.build.software_revision = CUSTODIAN_GIT_REVISION;
  o.worker = "cli-" + std::to_string(::getpid());
  return o;
}

Result<int64_t> UserId(SiteContext& ctx, const std::string& name) {
  auto u = ctx.db().GetUserByName(name);
  if (!u.ok()) return u.status();
  if (!u->has_value()) return NotFound("no user " + name);
  return (*u)->id;
}

// Runs queued export jobs until none is left; returns the number run.
Result<int> RunQueue(SiteContext& ctx) {
  jobs::ExportJobRunner runner(ctx.db(), ctx.fs(), ctx.clock(), ServiceOptions(ctx));
  auto recovered = runner.RecoverAfterRestart();
  if (!recovered.ok()) return recovered.status();
  int ran = 0;
  for (;;) {
    auto job = runner.RunNext();
    if (!job.ok()) return job.status();
    if (!job->has_value()) return ran;
    ++ran;
  }
}

int Build(SiteContext& ctx, const std::vector<std::string>& args) {
  int64_t request_id = 0;
  std::string user;
  bool originals = false;
  bool burned_in = false;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--request" && i + 1 < args.size() && ParseId(args[i + 1], &request_id)) {
      ++i;
    } else if (args[i] == "--user" && i + 1 < args.size()) {
      user = args[++i];
    } else if (args[i] == "--originals") {
      originals = true;
    } else if (args[i] == "--burned-in") {
      burned_in = true;
    } else {
      return Usage();
    }
  }
  if (request_id == 0 || user.empty()) return Usage();
  auto by = UserId(ctx, user);
  if (!by.ok()) return Fail(by.status());
  auto ticket = exports::RequestExport(ctx.db(), request_id, *by, originals, burned_in);
  if (!ticket.ok()) return Fail(ticket.status());
  auto ran = RunQueue(ctx);
  if (!ran.ok()) return Fail(ran.status());
  auto e = ctx.db().GetExport(ticket->export_id);
  if (!e.ok()) return Fail(e.status());
  if ((*e)->state != records::ExportState::kReady) {
    std::fprintf(stderr, "custodian: export %lld failed: %s\n",
                 static_cast<long long>(ticket->export_id), (*e)->error.value_or("?").c_str());
    return kExitFailure;
  }
  std::printf("export %lld ready: %s/%s/%s\nmanifest sha256 %s\n",
              static_cast<long long>(ticket->export_id), ctx.site.data_dir.c_str(),
              (*e)->path->c_str(), exports::PackageName(ticket->export_id).c_str(),
              (*e)->manifest_sha256->c_str());
  return kExitOk;
}

int PrintKey(SiteContext& ctx, bool create) {
  const std::string dir = config::KeysDir(ctx.site);
  auto key = create ? exports::SigningKey::LoadOrCreate(dir, ctx.fs())
                    : exports::SigningKey::Load(dir, ctx.fs());
  if (!key.ok()) return Fail(key.status());
  std::fputs(key->public_key().FileText().c_str(), stdout);
  std::fprintf(stderr, "(%s; recipients verify with: minisign -Vm manifest.json -P %s)\n",
               exports::PublicKeyPath(dir).c_str(), key->public_key().Base64().c_str());
  return kExitOk;
}

int Zip(SiteContext& ctx, const std::vector<std::string>& args) {
  int64_t export_id = 0;
  if (args.size() != 4 || !ParseId(args[1], &export_id) || args[2] != "--user") return Usage();
  auto by = UserId(ctx, args[3]);
  if (!by.ok()) return Fail(by.status());
  auto copy =
      exports::MakeRemovableMediaCopy(ctx.db(), ctx.fs(), ctx.site.data_dir, export_id, *by);
  if (!copy.ok()) return Fail(copy.status());
  std::printf("zip:      %s\npassword: %s\n", copy->zip_path.c_str(), copy->password.c_str());
  std::printf(
      "The password is shown this once and stored nowhere. Give it to the recipient\n"
      "separately from the media (by phone, or in person).\n");
  return kExitOk;
}

}  // namespace

int RunExport(const GlobalOptions& opts, const std::vector<std::string>& args) {
  if (args.empty()) return Usage();
  const std::string& sub = args[0];
  if (sub == "verify") return Verify(opts, args);
  const bool known = sub == "keygen" || sub == "pubkey" || sub == "build" || sub == "run" ||
                     sub == "cancel" || sub == "zip";
  if (!known) return Usage();
  auto opened = SiteContext::Open(opts);
  if (!opened.ok()) return ReportOpenError(opened.status());
  SiteContext& ctx = **opened;
  if (sub == "keygen" || sub == "pubkey") {
    return args.size() == 1 ? PrintKey(ctx, sub == "keygen") : Usage();
  }
  if (sub == "build") return Build(ctx, args);
  if (sub == "zip") return Zip(ctx, args);
  if (sub == "run") {
    if (args.size() != 1) return Usage();
    auto ran = RunQueue(ctx);
    if (!ran.ok()) return Fail(ran.status());
    std::printf("%d export job(s) run\n", *ran);
    return kExitOk;
  }
  int64_t export_id = 0;
  if (args.size() != 2 || !ParseId(args[1], &export_id)) return Usage();
  auto state = exports::CancelExport(ctx.db(), export_id);
  if (!state.ok()) return Fail(state.status());
  std::printf("export %lld: %s\n", static_cast<long long>(export_id),
              *state == records::JobState::kCancelled ? "cancelled"
                                                      : "cancel requested; the worker stops at "
                                                        "the next segment");
  return kExitOk;
}

}  // namespace custodian
