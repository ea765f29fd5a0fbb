#include "app/site_context.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

extern "C" {
#include <libavutil/log.h>
}

#include "base/log.h"

namespace custodian {

Result<int> TakeRecordsLock(const std::string& data_dir) {
  const std::string path = JoinPath(data_dir, kRecordsLockName);
  bool told = false;
  for (int attempt = 0; attempt < 100; ++attempt) {
    // Readable by all (it holds nothing): made by root's CLI, the service account opens it.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("opening " + path, errno);
    if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK) {
        const int err = errno;
        ::close(fd);
        return ErrnoStatus("locking " + path, err);
      }
      if (!told) LogInfo("app") << "waiting for a restore of " << data_dir << " to finish";
      told = true;
      int r;
      do r = ::flock(fd, LOCK_SH);
      while (r != 0 && errno == EINTR);
      if (r != 0) {
        const int err = errno;
        ::close(fd);
        return ErrnoStatus("locking " + path, err);
      }
    }
    struct stat held {}, now {};
    if (::fstat(fd, &held) == 0 && ::stat(path.c_str(), &now) == 0 && held.st_dev == now.st_dev &&
        held.st_ino == now.st_ino) {
      return fd;
    }
    ::close(fd);  // the directory was switched while this waited: lock the new one's
  }
  return Unavailable("cannot hold " + path + ": it keeps being replaced");
}

SiteContext::~SiteContext() {
  db_.reset();
  if (records_lock_ >= 0) ::close(records_lock_);
}

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
  auto lock = TakeRecordsLock(ctx->site.data_dir);
  if (!lock.ok()) return lock.status();
  ctx->records_lock_ = *lock;
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
