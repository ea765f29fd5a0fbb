// `custodian audit verify`: walks the access log's hash chain and names the first entry
// that does not verify (altered, removed or inserted). Exits 0 when the chain verifies.
#include <cstdio>

#include "app/site_context.h"

namespace custodian {

int RunAudit(const GlobalOptions& opts, const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0] != "verify") {
    std::fprintf(stderr, "usage: custodian audit verify\n");
    return kExitUsage;
  }
  auto opened = SiteContext::Open(opts);
  if (!opened.ok()) return ReportOpenError(opened.status());
  SiteContext* ctx = opened->get();
  auto v = ctx->db().VerifyAccessLog();
  if (!v.ok()) {
    std::fprintf(stderr, "custodian: audit verify: %s\n", v.status().ToString().c_str());
    return kExitFailure;
  }
  if (v->ok) {
    std::printf("access log verifies: %lld entries, chain intact\n",
                static_cast<long long>(v->entries_checked));
    return kExitOk;
  }
  std::printf("ACCESS LOG DOES NOT VERIFY: first bad entry %lld: %s (%lld entries checked)\n",
              static_cast<long long>(v->first_bad_id.value_or(-1)), v->reason.c_str(),
              static_cast<long long>(v->entries_checked));
  return kExitFailure;
}

}  // namespace custodian
