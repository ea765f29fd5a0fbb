// `custodian audit`: the access log's hash chain, and checkpoints of its head.
//
//   audit verify [--checkpoint FILE [--pubkey FILE|KEY]]
//       walks the chain and names the first entry that does not verify (altered, removed
//       or inserted). With --checkpoint, also checks FILE's signature (FILE.minisig, by
//       this appliance's export-signing key unless --pubkey) and that the log still holds
//       the entry FILE records, with the same hash: a log cut at its end, or a chain
//       rebuilt from some point on, verifies on its own but not against a checkpoint.
//   audit checkpoint [--out FILE]
//       writes a checkpoint of the chain's head (entry number and hash) to FILE (default:
//       <data_dir>/checkpoints/access-log-<UTC time>.txt) and its minisign signature, by
//       the export-signing key, to FILE.minisig. `minisign -Vm FILE -P KEY` checks it too.
//       Keep checkpoints off the box: someone who can rewrite the records cannot rewrite
//       a checkpoint they do not hold. The retain service writes one a day too
//       (<data_dir>/checkpoints/access-log-daily-<date>.txt). Format: app/access_checkpoint.h.
// Exit codes: 0 ok; 1 the log does not verify (or the checkpoint is bad); 2 usage;
// 3 bad config.
#include <cstdio>
#include <map>
#include <sstream>

#include "app/access_checkpoint.h"
#include "app/site_context.h"
#include "exports/signing.h"

namespace custodian {

namespace {

constexpr char kUsage[] =
    "usage: custodian audit verify [--checkpoint FILE [--pubkey FILE|KEY]]\n"
    "       custodian audit checkpoint [--out FILE]\n";

Result<std::string> ReadSmallFile(const std::string& path) {
  auto text = ReadFileToString(PosixFilesystem::Instance(), path, 64 * 1024);
  if (text.ok()) return text;
  if (text.status().kind() == ErrorKind::kResourceExhausted) {
    return InvalidArgument(path + " is too large for a checkpoint");
  }
  return NotFound("cannot read " + path);
}

int VerifyLog(SiteContext& ctx, const std::optional<records::AccessLogAnchor>& anchor) {
  auto v = ctx.db().VerifyAccessLog(anchor);
  if (!v.ok()) {
    std::fprintf(stderr, "custodian: audit verify: %s\n", v.status().ToString().c_str());
    return kExitFailure;
  }
  if (v->ok) {
    std::printf("access log verifies: %lld entries, chain intact\n",
                static_cast<long long>(v->entries_checked));
    if (anchor) {
      std::printf("and holds checkpoint entry %lld with the same hash\n",
                  static_cast<long long>(anchor->id));
    }
    return kExitOk;
  }
  std::printf("ACCESS LOG DOES NOT VERIFY: first bad entry %lld: %s (%lld entries checked)\n",
              static_cast<long long>(v->first_bad_id.value_or(-1)), v->reason.c_str(),
              static_cast<long long>(v->entries_checked));
  return kExitFailure;
}

// The head a checkpoint records, once its signature checks.
Result<records::AccessLogAnchor> ReadCheckpoint(SiteContext& ctx, const std::string& path,
                                                const std::string& pubkey) {
  auto text = ReadSmallFile(path);
  if (!text.ok()) return text.status();
  auto sig = ReadSmallFile(path + ".minisig");
  if (!sig.ok()) return NotFound("the checkpoint's signature " + path + ".minisig is missing");
  std::string key_text;
  if (pubkey.empty()) {
    auto k = ReadSmallFile(exports::PublicKeyPath(config::KeysDir(ctx.site)));
    if (!k.ok()) return NotFound("this appliance has no export-signing key; give --pubkey");
    key_text = *k;
  } else {
    auto k = ReadSmallFile(pubkey);
    key_text = k.ok() ? *k : pubkey;
  }
  auto key = exports::ParsePublicKey(key_text);
  if (!key.ok()) return key.status();
  const exports::SignatureCheck check = exports::VerifyMinisign(*key, *text, *sig);
  if (!check.ok) {
    return DataLoss("the checkpoint " + path + " does not verify: " + check.reason);
  }
  std::map<std::string, std::string> fields;
  std::istringstream in(*text);
  std::string line;
  std::getline(in, line);
  if (line != kCheckpointTitle) return InvalidArgument(path + " is not an access-log checkpoint");
  while (std::getline(in, line)) {
    const size_t colon = line.find(": ");
    if (colon != std::string::npos) fields[line.substr(0, colon)] = line.substr(colon + 2);
  }
  records::AccessLogAnchor a;
  const std::string& entry = fields["entry"];
  if (entry.empty() || entry.size() > 18 ||
      entry.find_first_not_of("0123456789") != std::string::npos || fields["hash"].size() != 64) {
    return InvalidArgument(path + " names no entry and hash");
  }
  a.id = std::stoll(entry);
  a.hash = fields["hash"];
  std::printf("checkpoint %s: entry %lld, made %s, signature good (key %s)\n", path.c_str(),
              static_cast<long long>(a.id), fields["made_utc"].c_str(),
              key->KeyIdHex().c_str());
  return a;
}

int Verify(const GlobalOptions& opts, const std::string& checkpoint, const std::string& pubkey) {
  auto opened = SiteContext::Open(opts);
  if (!opened.ok()) return ReportOpenError(opened.status());
  SiteContext& ctx = **opened;
  if (checkpoint.empty()) return VerifyLog(ctx, std::nullopt);
  auto anchor = ReadCheckpoint(ctx, checkpoint, pubkey);
  if (!anchor.ok()) {
    std::fprintf(stderr, "custodian: audit verify: %s\n", anchor.status().ToString().c_str());
    return kExitFailure;
  }
  // Entry 0 is the head of an empty log: nothing to hold.
  if (anchor->id == 0) return VerifyLog(ctx, std::nullopt);
  return VerifyLog(ctx, *anchor);
}

int Checkpoint(const GlobalOptions& opts, const std::string& out) {
  auto opened = SiteContext::Open(opts);
  if (!opened.ok()) return ReportOpenError(opened.status());
  auto w = WriteAccessCheckpoint(**opened, out);
  if (!w.ok()) {
    std::fprintf(stderr, "custodian: audit checkpoint: %s\n", w.status().ToString().c_str());
    return kExitFailure;
  }
  std::printf("checkpoint written: %s (and %s.minisig)\nentry %lld, hash %s\n",
              w->path.c_str(), w->path.c_str(), static_cast<long long>(w->head.id),
              w->head.hash.c_str());
  return kExitOk;
}

}  // namespace

int RunAudit(const GlobalOptions& opts, const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  std::string checkpoint, pubkey, out;
  for (size_t i = 1; i < args.size(); ++i) {
    const bool has_value = i + 1 < args.size();
    if (args[0] == "verify" && args[i] == "--checkpoint" && has_value) {
      checkpoint = args[++i];
    } else if (args[0] == "verify" && args[i] == "--pubkey" && has_value) {
      pubkey = args[++i];
    } else if (args[0] == "checkpoint" && args[i] == "--out" && has_value) {
      out = args[++i];
    } else {
      std::fputs(kUsage, stderr);
      return kExitUsage;
    }
  }
  if (args[0] == "verify") return Verify(opts, checkpoint, pubkey);
  if (args[0] == "checkpoint") return Checkpoint(opts, out);
  std::fputs(kUsage, stderr);
  return kExitUsage;
}

}  // namespace custodian
