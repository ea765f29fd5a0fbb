// `custodian redact IN OUT [options]`: writes a redacted copy of a video file (faces or
// people masked, re-encoded as H.264 MP4, audio removed unless kept with a reason), its
// redaction record OUT.redaction.json and a contact sheet OUT.contact.jpg for the reviewer.
// The input is never changed; on any failure no OUT is left behind. Needs no site file.
//
// `custodian redact sign-off REDACTION --reviewer NAME --note TEXT [--checked RANGE]...`:
// signs off a finished redaction of an export in the site's records, by the same procedure
// as the web UI (jobs/sign_off.h): the signed manifest in the redacted package, the
// sign-off recorded, and its access-log entry. A redaction is signed off in no other way.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "app/site_context.h"
#include "app/verbs.h"
#include "config/site_config.h"
#include "jobs/redactions.h"
#include "jobs/sign_off.h"
#include "redaction/redactor.h"

namespace custodian {
namespace {

constexpr const char* kUsage =
    "usage: custodian redact IN OUT [--mode faces|keep-subject|keep-region]\n"
    "         [--subject X,Y,W,H@SECONDS] [--region X,Y,W,H] [--manual X,Y,W,H@FROM-TO]...\n"
    "         [--style solid|pixelate|blur] [--keep-audio REASON]\n"
    "         [--reviewer NAME] [--no-contact-sheet] [--export ID]\n"
    "         [--people]  (faces mode: mask whole moving figures, not only heads)\n"
    "--export stores the record against that export in the site's records (needs --config).\n"
    "       custodian redact sign-off REDACTION --reviewer NAME --note TEXT\n"
    "         [--checked FILE:FROM-TO]...  (every flagged range, as the redaction lists them)\n";

int Usage(const std::string& problem) {
  std::fprintf(stderr, "custodian redact: %s\n%s", problem.c_str(), kUsage);
  return kExitUsage;
}

// Prints "redact: N% (done/total frames)" on stderr: in place on a terminal, otherwise a
// line every 10%.
class ProgressLine {
 public:
  ProgressLine() : tty_(isatty(fileno(stderr)) != 0) {}
  void operator()(int64_t done, int64_t total) {
    if (total <= 0) return;
    int pct = static_cast<int>(std::min<int64_t>(100, done * 100 / total));
    if (pct == last_ || (!tty_ && pct / 10 == last_ / 10 && last_ >= 0)) return;
    last_ = pct;
    std::fprintf(stderr, tty_ ? "\rredact: %3d%% (%lld/%lld frames)" : "redact: %d%% (%lld/%lld frames)\n",
                 pct, static_cast<long long>(done), static_cast<long long>(total));
    std::fflush(stderr);
  }
  void Done() {
    if (tty_ && last_ >= 0) std::fprintf(stderr, "\n");
  }

 private:
  bool tty_;
  int last_ = -1;
};

Result<int64_t> PositiveId(const std::string& v, const std::string& what) {
  try {
    size_t used = 0;
    const int64_t id = std::stoll(v, &used);
    if (used == v.size() && id > 0) return id;
  } catch (const std::exception&) {
  }
  return InvalidArgument("bad " + what + " '" + v + "': expected an id");
}

struct SignOffArgs {
  int64_t redaction_id = 0;
  std::string reviewer;
  jobs::RedactionSignOff sign_off;
};

Result<SignOffArgs> ParseSignOff(const std::vector<std::string>& args) {
  SignOffArgs a;
  std::vector<std::string> positional;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--reviewer" || arg == "--note" || arg == "--checked") {
      if (i + 1 >= args.size()) return InvalidArgument(arg + " needs a value");
      const std::string& v = args[++i];
      if (arg == "--reviewer") a.reviewer = v;
      if (arg == "--note") a.sign_off.note = v;
      if (arg == "--checked") a.sign_off.checked.push_back(v);
    } else if (!arg.empty() && arg[0] == '-') {
      return InvalidArgument("unknown option '" + arg + "'");
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() != 1) return InvalidArgument("sign-off needs one REDACTION id");
  auto id = PositiveId(positional[0], "REDACTION");
  if (!id.ok()) return id.status();
  a.redaction_id = *id;
  if (a.reviewer.empty()) return InvalidArgument("sign-off needs --reviewer NAME");
  return a;
}

int RunSignOff(const GlobalOptions& opts, const std::vector<std::string>& args) {
  auto parsed = ParseSignOff(args);
  if (!parsed.ok()) return Usage(parsed.status().message());
  auto opened = SiteContext::Open(opts);
  if (!opened.ok()) return ReportOpenError(opened.status());
  SiteContext& site = **opened;
  auto user = site.db().GetUserByName(parsed->reviewer);
  if (!user.ok() || !*user) {
    std::fprintf(stderr, "custodian redact: no user '%s' in the records\n",
                 parsed->reviewer.c_str());
    return kExitFailure;
  }
  jobs::RedactionSignOff& sign_off = parsed->sign_off;
  sign_off.reviewer_id = (*user)->id;
  sign_off.now = site.clock().Now();
  sign_off.client = "console";
  const jobs::SignOffPaths paths{site.site.data_dir, config::KeysDir(site.site)};
  Status st = jobs::SignOffRedaction(site.db(), site.fs(), paths, parsed->redaction_id, sign_off);
  if (!st.ok()) {
    std::fprintf(stderr, "custodian redact: %s; not signed off\n", st.ToString().c_str());
    return kExitFailure;
  }
  std::printf("%s signed off by %s\n", jobs::RedactionText(parsed->redaction_id).c_str(),
              (*user)->name.c_str());
  return kExitOk;
}

}  // namespace

int RunRedact(const GlobalOptions& opts, const std::vector<std::string>& args) {
  using namespace redaction;
  if (!args.empty() && args[0] == "sign-off") return RunSignOff(opts, args);
  RedactionOptions o;
  std::vector<std::string> positional;
  bool contact_sheet = true;
  std::optional<int64_t> export_id;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    std::string v;
    if (a == "--mode" || a == "--style" || a == "--subject" || a == "--region" ||
        a == "--manual" || a == "--keep-audio" || a == "--reviewer" || a == "--export") {
      if (!value(&v)) return Usage(a + " needs a value");
      Status st;
      if (a == "--mode") {
        auto m = ParseMode(v);
        if (m.ok()) o.mode = *m; else st = m.status();
      } else if (a == "--style") {
        auto s = ParseMaskStyle(v);
        if (s.ok()) o.style = *s; else st = s.status();
      } else if (a == "--subject") {
        auto s = ParseSubject(v);
        if (s.ok()) o.subject = *s; else st = s.status();
      } else if (a == "--region") {
        auto b = ParseBox(v);
        if (b.ok()) o.region = *b; else st = b.status();
      } else if (a == "--manual") {
        auto m = ParseManualRegion(v);
        if (m.ok()) o.manual.push_back(*m); else st = m.status();
      } else if (a == "--keep-audio") {
        o.keep_audio_reason = v;
      } else if (a == "--export") {
        auto id = PositiveId(v, "--export");
        if (id.ok())
          export_id = *id;
        else
          st = id.status();
      } else {
        o.reviewer = v;
      }
      if (!st.ok()) return Usage(st.message());
    } else if (a == "--sign-off") {
      return Usage(
          "--sign-off: a redaction is signed off only with `custodian redact sign-off "
          "REDACTION` or in the web UI, which sign its manifest and log the sign-off");
    } else if (a == "--people") {
      o.mask_people = true;
    } else if (a == "--no-contact-sheet") {
      contact_sheet = false;
    } else if (!a.empty() && a[0] == '-') {
      return Usage("unknown option '" + a + "'");
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 2) return Usage("needs IN and OUT");
  if (Status st = ValidateOptions(o); !st.ok()) return Usage(st.message());
  const std::string& in = positional[0];
  const std::string& out = positional[1];
  if (contact_sheet) o.contact_sheet_path = out + ".contact.jpg";

  // With --export, the records are checked before any work: the export and the reviewer
  // must exist, so that a finished redaction is never left without its record.
  std::unique_ptr<SiteContext> site;
  std::optional<int64_t> reviewer_id;
  if (export_id) {
    auto opened = SiteContext::Open(opts);
    if (!opened.ok()) return ReportOpenError(opened.status());
    site = std::move(opened).value();
    auto ex = site->db().GetExport(*export_id);
    if (!ex.ok() || !*ex) {
      std::fprintf(stderr, "custodian redact: no export %lld in the records\n",
                   static_cast<long long>(*export_id));
      return kExitFailure;
    }
    if (!o.reviewer.empty()) {
      auto user = site->db().GetUserByName(o.reviewer);
      if (!user.ok() || !*user) {
        std::fprintf(stderr, "custodian redact: no user '%s' in the records\n",
                     o.reviewer.c_str());
        return kExitFailure;
      }
      reviewer_id = (*user)->id;
    }
  }

  ProgressLine progress;
  auto rec = RedactVideo(in, out, o, [&](int64_t d, int64_t t) { progress(d, t); });
  progress.Done();
  if (!rec.ok()) {
    std::fprintf(stderr, "custodian redact: %s; no output written\n",
                 rec.status().ToString().c_str());
    return kExitFailure;
  }
  std::string record_path = out + ".redaction.json";
  if (Status st = WriteRecordFile(record_path, rec->json); !st.ok()) {
    std::fprintf(stderr, "custodian redact: %s\n", st.ToString().c_str());
    return kExitFailure;
  }
  if (site) {
    records::Database::RedactionRow row;
    row.export_id = export_id;
    row.input_sha256 = rec->input_sha256;
    row.output_sha256 = rec->output_sha256;
    row.record_json = rec->json.dump();
    row.reviewer_user_id = reviewer_id;
    auto id = site->db().AddRedaction(row);
    if (!id.ok()) {
      std::fprintf(stderr, "custodian redact: the output is written but its record could not "
                   "be stored: %s\n", id.status().ToString().c_str());
      return kExitFailure;
    }
    std::printf("stored as redaction %lld of export %lld\n", static_cast<long long>(*id),
                static_cast<long long>(*export_id));
  }
  std::printf("redacted %s -> %s: %lld frames, %lld masked, %lld flagged for review (%.1f s)\n"
              "record: %s\n",
              in.c_str(), out.c_str(), static_cast<long long>(rec->frames),
              static_cast<long long>(rec->frames_masked),
              static_cast<long long>(rec->frames_flagged), rec->seconds, record_path.c_str());
  if (contact_sheet) std::printf("contact sheet: %s\n", o.contact_sheet_path.c_str());
  return kExitOk;
}

}  // namespace custodian
