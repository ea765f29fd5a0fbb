#include "app/access_checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "base/time.h"
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
  auto v = ctx.db().VerifyAccessLog();
  if (!v.ok()) return v.status();
  if (!v->ok) {
    return DataLoss("the access log does not verify (entry " +
                    std::to_string(v->first_bad_id.value_or(-1)) + ": " + v->reason +
                    "); no checkpoint written");
  }
  auto head = ctx.db().AccessLogHead();
  if (!head.ok()) return head.status();
  CheckpointWritten w;
  w.head = head->value_or(records::AccessLogAnchor{0, records::kGenesisHash});
  const UtcMicros now = ctx.clock().Now();
  if (out.empty()) {
    CUSTODIAN_RETURN_IF_ERROR(ctx.fs().CreateDirs(CheckpointsDir(ctx)));
    out = JoinPath(CheckpointsDir(ctx), "access-log-" + FormatUtcCompact(now) + ".txt");
  }
  std::string site_name = ctx.site.site_name;
  for (char& c : site_name) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  const std::string id = std::to_string(w.head.id);
  const std::string text = std::string(kCheckpointTitle) + "\nsite: " + site_name +
                           "\nentry: " + id + "\nhash: " + w.head.hash +
                           "\nmade_utc: " + FormatUtc(now) + "\n";
  const std::string sig =
      key->Sign(text, "custodian access-log checkpoint: entry " + id + " hash " + w.head.hash);
  // The signature first: a checkpoint file is never without one.
  CUSTODIAN_RETURN_IF_ERROR(WriteNewFile(out + ".minisig", sig));
  Status st = WriteNewFile(out, text);
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
