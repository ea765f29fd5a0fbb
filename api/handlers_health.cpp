// Liveness, metrics, and the hook where the web UI (issue 9) will be served.
#include "api/handlers.h"

namespace custodian::api {

Result<HttpResponse> HandleHealthz(ApiContext& ctx, const Call&) {
  // A cheap read proves that the records open and answer.
  auto head = ctx.db.AccessLogHead();
  if (!head.ok()) return FromRecords(head.status(), "read the records");
  return Json({{"status", "ok"}, {"schema_version", ctx.db.SchemaVersion()}});
}

Result<HttpResponse> HandleMetrics(ApiContext& ctx, const Call&) {
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = ctx.metrics.Render();
  // Entries per batch shows how well group commit is amortising the fsyncs.
  r.body +=
      "# HELP custodian_access_log_commits_total Access-log group commits (one fsync each).\n"
      "# TYPE custodian_access_log_commits_total counter\n"
      "custodian_access_log_commits_total " +
      std::to_string(ctx.access_log.batches_committed()) + "\n";
  return r;
}

// The web UI is not built yet. When it is, this serves files from the installed web/
// directory, looked up by the already-checked asset name, never by a raw path.
Result<HttpResponse> HandleWebAsset(ApiContext&, const Call& call) {
  return NotFound("no web UI is installed (asked for " + call.params.asset + ")");
}

}  // namespace custodian::api
