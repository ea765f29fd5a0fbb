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

// What `custodian redact IN OUT [options]` was asked to do.
struct RedactArgs {
  redaction::RedactionOptions options;
  std::string in, out;
  bool contact_sheet = true;
  std::optional<int64_t> export_id;
};

bool TakesValue(const std::string& a) {
  return a == "--mode" || a == "--style" || a == "--subject" || a == "--region" ||
         a == "--manual" || a == "--keep-audio" || a == "--reviewer" || a == "--export";
}

// Applies one option that takes a value (TakesValue).
Status ApplyValuedOption(const std::string& a, const std::string& v, RedactArgs* r) {
  using namespace redaction;
  RedactionOptions& o = r->options;
  if (a == "--mode") {
    auto m = ParseMode(v);
    if (!m.ok()) return m.status();
    o.mode = *m;
  } else if (a == "--style") {
    auto s = ParseMaskStyle(v);
    if (!s.ok()) return s.status();
    o.style = *s;
  } else if (a == "--subject") {
    auto s = ParseSubject(v);
    if (!s.ok()) return s.status();
    o.subject = *s;
  } else if (a == "--region") {
    auto b = ParseBox(v);
    if (!b.ok()) return b.status();
    o.region = *b;
  } else if (a == "--manual") {
    auto m = ParseManualRegion(v);
    if (!m.ok()) return m.status();
    o.manual.push_back(*m);
  } else if (a == "--keep-audio") {
    o.keep_audio_reason = v;
  } else if (a == "--export") {
    auto id = PositiveId(v, "--export");
    if (!id.ok()) return id.status();
    r->export_id = *id;
  } else {
    o.reviewer = v;
  }
  return Status::Ok();
}

// The command line; an error's message is the usage problem to print.
Result<RedactArgs> ParseRedact(const std::vector<std::string>& args) {
  RedactArgs r;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (TakesValue(a)) {
      if (i + 1 >= args.size()) return InvalidArgument(a + " needs a value");
      CUSTODIAN_RETURN_IF_ERROR(ApplyValuedOption(a, args[++i], &r));
    } else if (a == "--sign-off") {
      return InvalidArgument(
          "--sign-off: a redaction is signed off only with `custodian redact sign-off "
          "REDACTION` or in the web UI, which sign its manifest and log the sign-off");
    } else if (a == "--people") {
      r.options.mask_people = true;
    } else if (a == "--no-contact-sheet") {
      r.contact_sheet = false;
    } else if (!a.empty() && a[0] == '-') {
      return InvalidArgument("unknown option '" + a + "'");
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 2) return InvalidArgument("needs IN and OUT");
  CUSTODIAN_RETURN_IF_ERROR(redaction::ValidateOptions(r.options));
  r.in = positional[0];
  r.out = positional[1];
  if (r.contact_sheet) r.options.contact_sheet_path = r.out + ".contact.jpg";
  return r;
}

// The records a redaction of an export is stored in, checked before any work: the export
// and the reviewer must exist, so that a finished redaction is never left without its
// record.
struct ExportRecords {
  std::unique_ptr<SiteContext> site;
  std::optional<int64_t> reviewer_id;
};

// kExitOk with *into filled, or the exit status after saying what is missing.
int OpenExportRecords(const GlobalOptions& opts, const RedactArgs& r, ExportRecords* into) {
  auto opened = SiteContext::Open(opts);
  if (!opened.ok()) return ReportOpenError(opened.status());
  into->site = std::move(opened).value();
  auto ex = into->site->db().GetExport(*r.export_id);
  if (!ex.ok() || !*ex) {
    std::fprintf(stderr, "custodian redact: no export %lld in the records\n",
                 static_cast<long long>(*r.export_id));
    return kExitFailure;
  }
  if (r.options.reviewer.empty()) return kExitOk;
  auto user = into->site->db().GetUserByName(r.options.reviewer);
  if (!user.ok() || !*user) {
    std::fprintf(stderr, "custodian redact: no user '%s' in the records\n",
                 r.options.reviewer.c_str());
    return kExitFailure;
  }
  into->reviewer_id = (*user)->id;
  return kExitOk;
}

int StoreRedaction(ExportRecords& into, int64_t export_id, const redaction::RedactionRecord& rec) {
  records::Database::RedactionRow row;
  row.export_id = export_id;
  row.input_sha256 = rec.input_sha256;
  row.output_sha256 = rec.output_sha256;
  row.record_json = rec.json.dump();
  row.reviewer_user_id = into.reviewer_id;
  auto id = into.site->db().AddRedaction(row);
  if (!id.ok()) {
    std::fprintf(stderr,
                 "custodian redact: the output is written but its record could not "
                 "be stored: %s\n",
                 id.status().ToString().c_str());
    return kExitFailure;
  }
  std::printf("stored as redaction %lld of export %lld\n", static_cast<long long>(*id),
              static_cast<long long>(export_id));
  return kExitOk;
}

}  // namespace

int RunRedact(const GlobalOptions& opts, const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "sign-off") return RunSignOff(opts, args);
  auto parsed = ParseRedact(args);
  if (!parsed.ok()) return Usage(parsed.status().message());
  const RedactArgs& r = *parsed;
  ExportRecords into;
  if (r.export_id) {
    if (int exit = OpenExportRecords(opts, r, &into); exit != kExitOk) return exit;
  }

  ProgressLine progress;
  auto rec =
      redaction::RedactVideo(r.in, r.out, r.options, [&](int64_t d, int64_t t) { progress(d, t); });
  progress.Done();
  if (!rec.ok()) {
    std::fprintf(stderr, "custodian redact: %s; no output written\n",
                 rec.status().ToString().c_str());
    return kExitFailure;
  }
  const std::string record_path = r.out + ".redaction.json";
  if (Status st = redaction::WriteRecordFile(record_path, rec->json); !st.ok()) {
    std::fprintf(stderr, "custodian redact: %s\n", st.ToString().c_str());
    return kExitFailure;
  }
  if (into.site) {
    if (int exit = StoreRedaction(into, *r.export_id, *rec); exit != kExitOk) return exit;
  }
  std::printf(
      "redacted %s -> %s: %lld frames, %lld masked, %lld flagged for review (%.1f s)\n"
      "record: %s\n",
      r.in.c_str(), r.out.c_str(), static_cast<long long>(rec->frames),
      static_cast<long long>(rec->frames_masked), static_cast<long long>(rec->frames_flagged),
      rec->seconds, record_path.c_str());
  if (r.contact_sheet) std::printf("contact sheet: %s\n", r.options.contact_sheet_path.c_str());
  return kExitOk;
}

}  // namespace custodian
