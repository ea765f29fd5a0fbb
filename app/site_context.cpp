#include "app/site_context.h"

#include <cstdio>

extern "C" {
#include <libavutil/log.h>
}

#include "base/log.h"

namespace custodian {

Result<std::unique_ptr<SiteContext>> SiteContext::Open(const GlobalOptions& opts) {
  auto site = config::LoadSiteConfig(opts.config_path);
  if (!site.ok()) return site.status();
  std::unique_ptr<SiteContext> ctx(new SiteContext());
  ctx->site = std::move(site).value();
  if (!opts.log_level_given) SetLogLevel(ctx->site.log_level);
  // libav's own messages repeat what our log lines say (with less context); show them only
  // when debugging.
  av_log_set_level(GetLogLevel() == LogLevel::kDebug ? AV_LOG_WARNING : AV_LOG_QUIET);
  CUSTODIAN_RETURN_IF_ERROR(ctx->fs().CreateDirs(config::FootageDir(ctx->site)));
  auto db = records::Database::Open(config::RecordsDbPath(ctx->site), ctx->clock());
  if (!db.ok()) return db.status();
  ctx->db_ = std::move(db).value();
  return ctx;
}

int ReportOpenError(const Status& st) {
  // A config error may hold several lines: prefix each.
  std::string msg = st.message();
  size_t start = 0;
  while (start <= msg.size()) {
    size_t end = msg.find('\n', start);
    if (end == std::string::npos) end = msg.size();
    std::fprintf(stderr, "custodian: %s\n", msg.substr(start, end - start).c_str());
    start = end + 1;
  }
  return st.kind() == ErrorKind::kInvalidArgument ? kExitConfig : kExitFailure;
}

}  // namespace custodian
