#include "app/access_checkpoint.h"

#include "base/time.h"
#include "exports/access_checkpoint.h"
#include "exports/signing.h"

namespace custodian {

namespace {

std::string CheckpointsDir(const SiteContext& ctx) {
  return JoinPath(ctx.site.data_dir, "checkpoints");
}

}  // namespace

Result<CheckpointWritten> WriteAccessCheckpoint(SiteContext& ctx, std::string out) {
  auto key = exports::SigningKey::Load(config::KeysDir(ctx.site), ctx.fs());
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
  CUSTODIAN_RETURN_IF_ERROR(exports::WriteAccessCheckpointFiles(ctx.fs(), out, *made));
  w.path = out;
  return w;
}

Result<std::string> WriteDailyCheckpoint(SiteContext& ctx) {
  const std::string path = JoinPath(
      CheckpointsDir(ctx), "access-log-daily-" + FormatUtcDate(ctx.clock().Now()) + ".txt");
  if (ctx.fs().Exists(path)) return std::string();
  // A signature left without its file by a crash is replaced.
  (void)ctx.fs().Unlink(path + ".minisig");
  CUSTODIAN_RETURN_IF_ERROR(ctx.fs().CreateDirs(CheckpointsDir(ctx)));
  auto w = WriteAccessCheckpoint(ctx, path);
  if (!w.ok()) return w.status();
  return w->path;
}

}  // namespace custodian
