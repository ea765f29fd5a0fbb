#include "exports/access_checkpoint.h"

namespace custodian::exports {

Result<AccessCheckpoint> MakeAccessCheckpoint(records::Database& db, const SigningKey& key,
                                              const std::string& site_name, UtcMicros now) {
  auto v = db.VerifyAccessLog();
  if (!v.ok()) return v.status();
  if (!v->ok) {
    return DataLoss("the access log does not verify (entry " +
                    std::to_string(v->first_bad_id.value_or(-1)) + ": " + v->reason +
                    "); no checkpoint made");
  }
  auto head = db.AccessLogHead();
  if (!head.ok()) return head.status();
  AccessCheckpoint c;
  c.head = head->value_or(records::AccessLogAnchor{0, records::kGenesisHash});
  std::string site = site_name;
  for (char& ch : site) {
    if (ch == '\n' || ch == '\r') ch = ' ';
  }
  const std::string id = std::to_string(c.head.id);
  c.text = std::string(kCheckpointTitle) + "\nsite: " + site + "\nentry: " + id +
           "\nhash: " + c.head.hash + "\nmade_utc: " + FormatUtc(now) + "\n";
  c.minisig = key.Sign(c.text, "custodian access-log checkpoint: entry " + id + " hash " + c.head.hash);
  return c;
}

Status WriteAccessCheckpointFiles(Filesystem& fs, const std::string& path,
                                  const AccessCheckpoint& checkpoint) {
  constexpr uint32_t kReadableByAll = 0644;  // a checkpoint is meant to be copied off the box
  const std::string signature = path + ".minisig";
  CUSTODIAN_RETURN_IF_ERROR(
      WriteNewFileAtomically(fs, signature, checkpoint.minisig, kReadableByAll));
  Status st = WriteNewFileAtomically(fs, path, checkpoint.text, kReadableByAll);
  if (!st.ok()) (void)fs.Unlink(signature);
  return st;
}

}  // namespace custodian::exports
