// `custodian check [--hashes]`: validates the site file, then compares the records with the
// footage on disk. Exits 0 when all agree, 3 for a bad config, 1 for any mismatch.
#include <cstdio>

#include "app/site_context.h"
#include "recorder/footage_check.h"

namespace custodian {

int RunCheck(const GlobalOptions& opts, const std::vector<std::string>& args) {
  bool hashes = false;
  for (const std::string& a : args) {
    if (a == "--hashes") {
      hashes = true;
    } else {
      std::fprintf(stderr, "usage: custodian check [--hashes]\n");
      return kExitUsage;
    }
  }
  auto opened = SiteContext::Open(opts);
  if (!opened.ok()) return ReportOpenError(opened.status());
  SiteContext* ctx = opened->get();
  std::printf("config: %s is valid (%zu camera(s))\n", ctx->site.path.c_str(), ctx->site.cameras.size());

  auto report = recorder::CheckFootage(ctx->db(), ctx->fs(), ctx->site.data_dir, hashes);
  if (!report.ok()) {
    std::fprintf(stderr, "custodian: check failed: %s\n", report.status().ToString().c_str());
    return kExitFailure;
  }
  for (const std::string& n : report->notes) std::printf("note: %s\n", n.c_str());
  for (const std::string& p : report->problems) std::printf("MISMATCH: %s\n", p.c_str());
  std::printf("footage: %lld segment row(s), %lld file(s), %zu mismatch(es)%s\n",
              static_cast<long long>(report->segments), static_cast<long long>(report->files),
              report->problems.size(), hashes ? ", hashes verified" : "");
  return report->problems.empty() ? kExitOk : kExitFailure;
}

}  // namespace custodian
