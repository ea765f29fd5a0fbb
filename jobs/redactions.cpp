#include "jobs/redactions.h"

#include "base/log.h"
#include "exports/export_jobs.h"

namespace custodian::jobs {

using nlohmann::json;
using RedactionRow = records::Database::RedactionRow;

namespace {

constexpr size_t kMaxManualRegions = 50;
constexpr size_t kMaxReasonBytes = 2000;

Result<int> IntMember(const json& o, const char* key, const std::string& where, int min) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number_integer())
    return InvalidArgument(where + "." + key + " must be an integer");
  const int64_t v = it->get<int64_t>();
  if (v < min || v > 100000)
    return InvalidArgument(where + "." + key + " must be between " + std::to_string(min) +
                           " and 100000");
  return static_cast<int>(v);
}

Result<double> SecondsMember(const json& o, const char* key, const std::string& where) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number())
    return InvalidArgument(where + "." + key + " must be a number");
  const double v = it->get<double>();
  if (!(v >= 0 && v <= 1e7))
    return InvalidArgument(where + "." + key + " must be 0 or more seconds");
  return v;
}

Result<redaction::Box> BoxMember(const json& o, const std::string& where) {
  if (!o.is_object()) return InvalidArgument(where + " must be an object {x, y, w, h}");
  redaction::Box b;
  auto x = IntMember(o, "x", where, 0);
  if (!x.ok()) return x.status();
  auto y = IntMember(o, "y", where, 0);
  if (!y.ok()) return y.status();
  auto w = IntMember(o, "w", where, 1);
  if (!w.ok()) return w.status();
  auto h = IntMember(o, "h", where, 1);
  if (!h.ok()) return h.status();
  b.x = *x;
  b.y = *y;
  b.w = *w;
  b.h = *h;
  return b;
}

}  // namespace

std::string RedactionText(int64_t id) { return "redaction " + std::to_string(id); }

Result<redaction::RedactionOptions> ParseRedactionRequest(const json& body) {
  redaction::RedactionOptions o;
  if (!body.is_object()) return InvalidArgument("the body must be a JSON object");
  if (auto it = body.find("mode"); it != body.end()) {
    if (!it->is_string()) return InvalidArgument("mode must be faces, keep-subject or keep-region");
    auto m = redaction::ParseMode(it->get<std::string>());
    if (!m.ok()) return InvalidArgument("mode must be faces, keep-subject or keep-region");
    o.mode = *m;
  }
  if (auto it = body.find("style"); it != body.end()) {
    if (!it->is_string()) return InvalidArgument("style must be solid, pixelate or blur");
    auto s = redaction::ParseMaskStyle(it->get<std::string>());
    if (!s.ok()) return InvalidArgument("style must be solid, pixelate or blur");
    o.style = *s;
  }
  if (auto it = body.find("subject"); it != body.end() && !it->is_null()) {
    auto b = BoxMember(*it, "subject");
    if (!b.ok()) return b.status();
    auto at = SecondsMember(*it, "at", "subject");
    if (!at.ok()) return at.status();
    o.subject = redaction::SubjectPick{*b, *at};
  }
  if (auto it = body.find("region"); it != body.end() && !it->is_null()) {
    auto b = BoxMember(*it, "region");
    if (!b.ok()) return b.status();
    o.region = *b;
  }
  if (auto it = body.find("manual"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) return InvalidArgument("manual must be an array of regions");
    if (it->size() > kMaxManualRegions)
      return InvalidArgument("at most " + std::to_string(kMaxManualRegions) + " manual regions");
    for (size_t i = 0; i < it->size(); ++i) {
      const std::string where = "manual[" + std::to_string(i) + "]";
      auto b = BoxMember((*it)[i], where);
      if (!b.ok()) return b.status();
      auto from = SecondsMember((*it)[i], "from", where);
      if (!from.ok()) return from.status();
      auto to = SecondsMember((*it)[i], "to", where);
      if (!to.ok()) return to.status();
      if (*to <= *from) return InvalidArgument(where + ".to must be after its from");
      o.manual.push_back({*b, *from, *to});
    }
  }
  if (auto it = body.find("keep_audio_reason"); it != body.end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>().empty() ||
        it->get<std::string>().size() > kMaxReasonBytes) {
      return InvalidArgument("keep_audio_reason must be a non-empty string");
    }
    o.keep_audio_reason = it->get<std::string>();
  }
  Status valid = redaction::ValidateOptions(o);
  if (!valid.ok()) return InvalidArgument(valid.message());
  return o;
}

std::string RedactedPackageName(int64_t export_id, int64_t redaction_id) {
  return exports::PackageName(export_id) + "-redaction-" + std::to_string(redaction_id);
}

std::string RedactedPackageDir(const std::string& data_dir, int64_t export_id,
                               int64_t redaction_id) {
  return JoinPath(JoinPath(data_dir, exports::ExportDirRelative(export_id)),
                  RedactedPackageName(export_id, redaction_id));
}

json RedactionRecord(const RedactionRow& row) {
  json j = json::parse(row.record_json, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : json::object();
}

Result<RedactionTicket> QueueRedaction(records::Database& db, const records::ExportRow& e,
                                       const json& body, int64_t by) {
  if (e.state != records::ExportState::kReady || !e.manifest_sha256) {
    return FailedPrecondition("export " + std::to_string(e.id) + " is " + records::Name(e.state) +
                              "; only a ready export can be redacted");
  }
  RedactionTicket t;
  Status st = db.WithTransaction([&]() -> Status {
    RedactionRow row;
    row.export_id = e.id;
    row.input_sha256 = *e.manifest_sha256;
    row.output_sha256 = std::string(64, '0');  // filled in when the job is done
    // Only the members ParseRedactionRequest reads are kept.
    json request = json::object();
    for (const char* key : {"mode", "style", "subject", "region", "manual", "keep_audio_reason"}) {
      if (body.contains(key)) request[key] = body[key];
    }
    json record = {
        {"state", "queued"}, {"export_id", e.id}, {"requested_by", by}, {"request", request}};
    row.record_json = record.dump();
    auto id = db.AddRedaction(row);
    if (!id.ok()) return id.status();
    t.redaction_id = *id;
    auto job = db.EnqueueJob(kRedactionJobKind, json{{"redaction_id", *id}}.dump(), by);
    if (!job.ok()) return job.status();
    t.job_id = *job;
    record["job_id"] = *job;
    return db.UpdateRedactionRecord(*id, row.output_sha256, record.dump());
  });
  if (!st.ok()) return st;
  LogInfo("redaction") << RedactionText(t.redaction_id) << " of export " << e.id
                       << " queued as job " << t.job_id;
  return t;
}

Result<std::optional<RedactionRow>> SignedOffRedaction(records::Database& db, Filesystem& fs,
                                                       const std::string& data_dir,
                                                       int64_t export_id) {
  auto rows = db.ListRedactionsForExport(export_id);
  if (!rows.ok()) return rows.status();
  for (auto it = rows->rbegin(); it != rows->rend(); ++it) {
    if (!it->signed_off) continue;
    const std::string dir = RedactedPackageDir(data_dir, export_id, it->id);
    if (fs.Exists(JoinPath(dir, kRedactionManifestName))) return std::optional<RedactionRow>(*it);
  }
  return std::optional<RedactionRow>();
}

std::string FlaggedRangeId(size_t file_index, const json& range) {
  return std::to_string(file_index) + ":" + std::to_string(range.value("from_frame", int64_t{0})) +
         "-" + std::to_string(range.value("to_frame", int64_t{0}));
}

}  // namespace custodian::jobs
