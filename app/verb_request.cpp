// `custodian request`: footage-request housekeeping from the command line
// (docs/design/requests.md). Requests themselves are logged and decided through the API.
//   request stats YYYY-MM       prints the anonymised statistics of a UK calendar month as
//                               JSON: counts only, no names, references or ids
//   request release-holds       releases the holds of closed requests whose own retention
//                               has passed (the API's worker does this too)
// Exit codes: 0 ok; 1 failed; 2 usage; 3 bad config.
#include <cstdio>

#include "app/site_context.h"
#include "requests/statistics.h"
#include "requests/workflow.h"

namespace custodian {

namespace {

constexpr char kUsage[] =
    "usage: custodian request stats YYYY-MM\n"
    "       custodian request release-holds\n";

int Fail(const Status& st) {
  std::fprintf(stderr, "custodian: request: %s\n", st.ToString().c_str());
  return kExitFailure;
}

}  // namespace

int RunRequest(const GlobalOptions& opts, const std::vector<std::string>& args) {
  int year = 0, month = 0, used = 0;
  const bool stats = args.size() == 2 && args[0] == "stats" &&
                     std::sscanf(args[1].c_str(), "%4d-%2d%n", &year, &month, &used) == 2 &&
                     used == 7 && args[1].size() == 7 && month >= 1 && month <= 12;
  const bool release = args.size() == 1 && args[0] == "release-holds";
  if (!stats && !release) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  auto opened = SiteContext::Open(opts);
  if (!opened.ok()) return ReportOpenError(opened.status());
  SiteContext& ctx = **opened;
  if (stats) {
    auto s = requests::ComputeMonthlyStatistics(ctx.db(), year, month, ctx.clock().Now());
    if (!s.ok()) return Fail(s.status());
    std::fputs(requests::ToJson(*s).c_str(), stdout);
    return kExitOk;
  }
  requests::Workflow workflow(ctx.db(), ctx.clock());
  auto released = workflow.ReleaseDueHolds();
  if (!released.ok()) return Fail(released.status());
  std::printf("%d hold(s) released\n", *released);
  return kExitOk;
}

}  // namespace custodian
