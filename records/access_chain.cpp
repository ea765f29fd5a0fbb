// The canonical encoding of an access-log entry and its chained hash. Changing anything
// here invalidates every existing log: add a new version tag instead.
#include <string>
#include <string_view>

#include "base/sha256.h"
#include "records/access_log.h"

namespace custodian::records {

const char kGenesisHash[] = "0000000000000000000000000000000000000000000000000000000000000000";

namespace {

// name=s<length>:<bytes>\n  -- length-prefixed, so any byte may appear in the value.
void TextField(std::string* out, std::string_view name, std::string_view value) {
  out->append(name).append("=s").append(std::to_string(value.size())).append(":");
  out->append(value).append("\n");
}

void OptTextField(std::string* out, std::string_view name,
                  const std::optional<std::string>& value) {
  if (value) return TextField(out, name, *value);
  out->append(name).append("=n\n");
}

// name=i<decimal>\n or name=n\n for null.
void IntField(std::string* out, std::string_view name, std::optional<int64_t> value) {
  if (!value) {
    out->append(name).append("=n\n");
    return;
  }
  out->append(name).append("=i").append(std::to_string(*value)).append("\n");
}

std::optional<int64_t> Micros(const std::optional<UtcMicros>& t) {
  if (!t) return std::nullopt;
  return t->us;
}

}  // namespace

std::string CanonicalAccessBytes(const AccessEntry& e) {
  std::string out = "custodian-access-log-v1\n";
  IntField(&out, "id", e.id);
  IntField(&out, "at_us", e.at.us);
  IntField(&out, "user_id", e.user_id);
  TextField(&out, "user_name", e.user_name);
  TextField(&out, "action", e.action);
  OptTextField(&out, "camera_id", e.camera_id);
  IntField(&out, "from_us", Micros(e.from));
  IntField(&out, "to_us", Micros(e.to));
  TextField(&out, "purpose_category", e.purpose_category);
  TextField(&out, "purpose_text", e.purpose_text);
  TextField(&out, "client", e.client);
  TextField(&out, "result", Name(e.result));
  TextField(&out, "detail", e.detail);
  return out;
}

std::string ComputeAccessHash(const std::string& prev_hash, const AccessEntry& e) {
  Sha256 h;
  h.Update(prev_hash.data(), prev_hash.size());
  const std::string bytes = CanonicalAccessBytes(e);
  h.Update(bytes.data(), bytes.size());
  return h.FinishHex();
}

}  // namespace custodian::records
