// Liveness, metrics, and the web UI's files.
#include <fcntl.h>
#include <sys/stat.h>

#include <memory>
#include <string_view>

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
  // Viewings: a start and an end entry each, however many requests they served.
  r.body +=
      "# HELP custodian_viewing_entries_total Access-log entries of viewings, by start or end.\n"
      "# TYPE custodian_viewing_entries_total counter\n"
      "custodian_viewing_entries_total{entry=\"start\"} " +
      std::to_string(ctx.access_log.viewing_starts()) +
      "\ncustodian_viewing_entries_total{entry=\"end\"} " +
      std::to_string(ctx.access_log.viewing_ends()) + "\n";
  r.body += HealthMetrics(ctx);
  return r;
}

namespace {

// The UI is a few hundred KiB of text; anything bigger in the web root is not ours.
constexpr int64_t kMaxWebAssetBytes = 4 * 1024 * 1024;

const char* WebContentType(std::string_view name) {
  struct Type {
    std::string_view ext;
    const char* type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const Type& t : kTypes) {
    if (name.size() > t.ext.size() && name.substr(name.size() - t.ext.size()) == t.ext) {
      return t.type;
    }
  }
  return nullptr;
}

}  // namespace

// Serves the UI's files from ApiOptions::web_root by the asset name, which the router has
// already confined to letters, digits, - _ . / without ".." or empty segments. Hidden files,
// unknown file types and symlinks (O_NOFOLLOW on the last component) are not served. The
// files are public (no footage, no personal data); the UI asks the API for everything else.
// Cache-Control: no-cache with an ETag, so an upgrade is picked up at the next page load
// while an unchanged file costs a 304.
Result<HttpResponse> HandleWebAsset(ApiContext& ctx, const Call& call) {
  const std::string& asset = call.params.asset;
  if (ctx.options.web_root.empty()) return NotFound("no web UI is configured");
  const char* type = WebContentType(asset);
  if (type == nullptr || asset.front() == '.' || asset.find("/.") != std::string::npos) {
    return NotFound("no such file in the web UI: " + asset);
  }
  std::string path = ctx.options.web_root + "/" + asset;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return NotFound("no such file in the web UI: " + asset);
  auto file = std::make_shared<OpenFile>(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > kMaxWebAssetBytes) {
    return NotFound("no such file in the web UI: " + asset);
  }
  std::string etag = "\"" + std::to_string(st.st_size) + "-" +
                     std::to_string(st.st_mtim.tv_sec) + "." +
                     std::to_string(st.st_mtim.tv_nsec) + "\"";
  HttpResponse r;
  r.content_type = type;
  r.SetHeader("Cache-Control", "no-cache");
  r.SetHeader("ETag", etag);
  const std::string* match = call.request.Header("if-none-match");
  if (match != nullptr && *match == etag) {
    r.status = 304;
    return r;
  }
  r.file = FileSlice{file, 0, static_cast<uint64_t>(st.st_size)};
  return r;
}

}  // namespace custodian::api
