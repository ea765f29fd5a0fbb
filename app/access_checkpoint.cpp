#include "app/access_checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "base/time.h"
#include "exports/access_checkpoint.h"
#include "exports/signing.h"

namespace custodian {

namespace {

// Writes path with O_EXCL: a checkpoint is never overwritten.
Status WriteNewFile(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("creating " + path, errno);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return ErrnoStatus("writing " + path, err);
    }
    done += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return ErrnoStatus("fsync " + path, errno);
  return Status::Ok();
}

std::string CheckpointsDir(const SiteContext& ctx) {
  return JoinPath(ctx.site.data_dir, "checkpoints");
}

}  // namespace

Result<CheckpointWritten> WriteAccessCheckpoint(SiteContext& ctx, std::string out) {
  auto key = exports::SigningKey::Load(config::KeysDir(ctx.site));
  if (!key.ok()) return key.status();
  const UtcMicros now = ctx.clock().Now();
  auto made = exports::MakeAccessCheckpoint(ctx.db(), *key, ctx.site.site_name, now);
  if (!made.ok()) return made.status();
  CheckpointWritten w;
  w.head = made->head;
  if (out.empty()) {
    CUSTODIAN_RETURN_IF_ERROR(ctx.fs().CreateDirs(CheckpointsDir(ctx)));
    out = JoinPath(CheckpointsDir(ctx), "access-log-" + FormatUtcCompact(now) + ".txt");
  }
  // The signature first: a checkpoint file is never without one.
  CUSTODIAN_RETURN_IF_ERROR(WriteNewFile(out + ".minisig", made->minisig));
  Status st = WriteNewFile(out, made->text);
  if (!st.ok()) {
    ::unlink((out + ".minisig").c_str());
    return st;
  }
  w.path = out;
  return w;
}

Result<std::string> WriteDailyCheckpoint(SiteContext& ctx) {
  const std::string path = JoinPath(
      CheckpointsDir(ctx), "access-log-daily-" + FormatUtcDate(ctx.clock().Now()) + ".txt");
  if (ctx.fs().Exists(path)) return std::string();
  // A signature left without its file by a crash is replaced.
  ::unlink((path + ".minisig").c_str());
  CUSTODIAN_RETURN_IF_ERROR(ctx.fs().CreateDirs(CheckpointsDir(ctx)));
  auto w = WriteAccessCheckpoint(ctx, path);
  if (!w.ok()) return w.status();
  return w->path;
}

}  // namespace custodian
