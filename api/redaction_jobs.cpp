#include "api/redaction_jobs.h"

#include <fstream>
#include <set>
#include <sstream>

#include "base/log.h"
#include "base/sha256.h"
#include "exports/export_jobs.h"
#include "exports/manifest.h"
#include "exports/signing.h"
#include "redaction/redactor.h"

namespace custodian::api {

using nlohmann::json;
using records::JobRow;
using records::JobState;
using RedactionRow = records::Database::RedactionRow;

namespace {

constexpr double kProgressStep = 0.02;
constexpr int64_t kProgressInterval = kMicrosPerSecond / 2;
constexpr size_t kMaxManualRegions = 50;
constexpr size_t kMaxReasonBytes = 2000;

std::string RedactionText(int64_t id) { return "redaction " + std::to_string(id); }

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
  if (it == o.end() || !it->is_number()) return InvalidArgument(where + "." + key + " must be a number");
  const double v = it->get<double>();
  if (!(v >= 0 && v <= 1e7)) return InvalidArgument(where + "." + key + " must be 0 or more seconds");
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

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes a small file durably (temporary name, fsync, rename).
Status WriteSmallFile(Filesystem& fs, const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp";
  auto f = fs.Create(tmp);
  if (!f.ok()) return f.status();
  CUSTODIAN_RETURN_IF_ERROR((*f)->Append(data.data(), data.size()));
  CUSTODIAN_RETURN_IF_ERROR((*f)->Sync());
  CUSTODIAN_RETURN_IF_ERROR((*f)->Close());
  return fs.Rename(tmp, path);
}

json ParseOr(const std::string& text, json fallback) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? fallback : j;
}

std::string ContainerDir(const std::string& data_dir, int64_t export_id) {
  return JoinPath(data_dir, exports::ExportDirRelative(export_id));
}

}  // namespace

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
    json record = {{"state", "queued"}, {"export_id", e.id}, {"requested_by", by},
                   {"request", request}};
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

Result<std::optional<RedactionRow>> SignedOffRedaction(records::Database& db,
                                                       const std::string& data_dir,
                                                       int64_t export_id) {
  auto rows = db.ListRedactionsForExport(export_id);
  if (!rows.ok()) return rows.status();
  for (auto it = rows->rbegin(); it != rows->rend(); ++it) {
    if (!it->signed_off) continue;
    const std::string dir =
        JoinPath(ContainerDir(data_dir, export_id), RedactedPackageName(export_id, it->id));
    std::ifstream probe(JoinPath(dir, kRedactionManifestName));
    if (probe) return std::optional<RedactionRow>(*it);
  }
  return std::optional<RedactionRow>();
}

std::string FlaggedRangeId(size_t file_index, const json& range) {
  return std::to_string(file_index) + ":" + std::to_string(range.value("from_frame", int64_t{0})) +
         "-" + std::to_string(range.value("to_frame", int64_t{0}));
}

namespace {

// The record's flagged ranges against the reviewer's list: every range confirmed, nothing
// confirmed that is not a range (a page showing an older list must not pass).
Result<json> CheckedRanges(const json& record, const std::vector<std::string>& checked,
                           int64_t redaction_id) {
  const std::set<std::string> confirmed(checked.begin(), checked.end());
  std::set<std::string> known;
  json ranges = json::array();
  std::vector<std::string> missing;
  const json files = record.value("files", json::array());
  for (size_t i = 0; i < files.size(); ++i) {
    for (const json& r : files[i].value("flagged", json::array())) {
      const std::string id = FlaggedRangeId(i, r);
      known.insert(id);
      if (!confirmed.count(id)) missing.push_back(id);
      ranges.push_back({{"id", id},
                        {"file", files[i].value("source", "")},
                        {"from_frame", r.value("from_frame", int64_t{0})},
                        {"to_frame", r.value("to_frame", int64_t{0})},
                        {"reason", r.value("reason", "")}});
    }
  }
  for (const std::string& id : confirmed) {
    if (!known.count(id)) {
      return InvalidArgument("checked lists " + id + ", which is not a flagged range of " +
                             RedactionText(redaction_id) +
                             "; reload the redaction and check again");
    }
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 5; ++i) list += (i ? ", " : "") + missing[i];
    if (missing.size() > 5) list += ", ...";
    return InvalidArgument("a sign-off must confirm that every flagged range was checked: " +
                           std::to_string(missing.size()) + " of " + std::to_string(known.size()) +
                           " not confirmed (" + list + ")");
  }
  return ranges;
}

}  // namespace

Status SignOffRedactionPackage(records::Database& db, const std::string& data_dir,
                               const std::string& keys_dir, int64_t redaction_id,
                               const RedactionSignOff& sign_off) {
  const std::string& note = sign_off.note;
  auto got = db.GetRedaction(redaction_id);
  if (!got.ok()) return got.status();
  if (!*got) return NotFound("no " + RedactionText(redaction_id));
  RedactionRow row = **got;
  if (row.signed_off) return FailedPrecondition(RedactionText(row.id) + " is signed off already");
  json record = ParseOr(row.record_json, json::object());
  if (record.value("state", "") != "done" || !row.export_id) {
    return FailedPrecondition(RedactionText(row.id) + " is " + record.value("state", "unknown") +
                              "; only a finished redaction can be signed off");
  }
  if (note.find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidArgument("a sign-off needs a note of what the reviewer checked (the contact "
                           "sheet, each flagged range)");
  }
  auto checked = CheckedRanges(record, sign_off.checked, row.id);
  if (!checked.ok()) return checked.status();
  const json reviewer = {{"user_id", sign_off.reviewer_id},
                         {"name", sign_off.reviewer_name},
                         {"role", records::Name(sign_off.reviewer_role)}};
  const int64_t export_id = *row.export_id;
  auto e = db.GetExport(export_id);
  if (!e.ok()) return e.status();
  if (!*e) return NotFound("no export " + std::to_string(export_id));
  auto key = exports::SigningKey::LoadOrCreate(keys_dir);
  if (!key.ok()) return key.status();

  const std::string package =
      JoinPath(ContainerDir(data_dir, export_id), RedactedPackageName(export_id, row.id));
  json files = json::array();
  for (const json& f : record.value("files", json::array())) {
    for (const char* kind : {"output", "record_file", "contact_sheet"}) {
      if (!f.contains(kind) || !f[kind].is_string()) continue;
      const std::string rel = f[kind].get<std::string>();
      auto sha = Sha256File(JoinPath(package, rel));
      if (!sha.ok()) return sha.status();
      auto text = ReadText(JoinPath(package, rel));
      if (!text.ok()) return text.status();
      json entry = {{"path", rel},
                    {"kind", std::string(kind) == "output"        ? "redacted_video"
                             : std::string(kind) == "record_file" ? "redaction_record"
                                                                  : "contact_sheet"},
                    {"bytes", static_cast<int64_t>(text->size())},
                    {"sha256", *sha}};
      if (std::string(kind) == "output") {
        entry["source"] = f.value("source", "");
        entry["source_sha256"] = f.value("input_sha256", "");
      }
      files.push_back(entry);
    }
  }
  json manifest = {{"format", "custodian-redaction-manifest-1"},
                   {"export_id", export_id},
                   {"request_id", (*e)->request_id},
                   {"redaction_id", row.id},
                   {"source_manifest_sha256", row.input_sha256},
                   {"key_id", key->public_key().KeyIdHex()},
                   {"request", record.value("request", json::object())},
                   {"reviewer", reviewer},
                   {"signed_off", FormatUtc(sign_off.now)},
                   {"note", note},
                   {"flagged_ranges_checked", *checked},
                   {"files", files}};
  const std::string text = manifest.dump(2) + "\n";
  Filesystem& fs = PosixFilesystem::Instance();
  CUSTODIAN_RETURN_IF_ERROR(WriteSmallFile(fs, JoinPath(package, kRedactionManifestName), text));
  CUSTODIAN_RETURN_IF_ERROR(WriteSmallFile(
      fs, JoinPath(package, std::string(kRedactionManifestName) + ".minisig"),
      key->Sign(text, "custodian redaction " + std::to_string(row.id) + " of export " +
                          std::to_string(export_id))));
  CUSTODIAN_RETURN_IF_ERROR(WriteSmallFile(fs, JoinPath(package, exports::kPublicKeyName),
                                           key->public_key().FileText()));
  CUSTODIAN_RETURN_IF_ERROR(fs.SyncDir(package));
  // A tar made for an earlier download would lack the manifest.
  const std::string tar = package + ".tar";
  if (fs.Exists(tar)) CUSTODIAN_RETURN_IF_ERROR(fs.Unlink(tar));

  record["sign_off"] = {{"note", note},
                        {"reviewer", reviewer},
                        {"flagged_ranges_checked", *checked},
                        {"manifest_sha256", Sha256Hex(text)}};
  CUSTODIAN_RETURN_IF_ERROR(db.UpdateRedactionRecord(row.id, row.output_sha256, record.dump()));
  CUSTODIAN_RETURN_IF_ERROR(db.SignOffRedaction(row.id, sign_off.reviewer_id));
  return db.SetExportRedacted(export_id, true);
}

RedactionJobRunner::RedactionJobRunner(records::Database& db, Filesystem& fs, const Clock& clock,
                                       std::string data_dir, std::string worker)
    : db_(db), fs_(fs), clock_(clock), data_dir_(std::move(data_dir)), worker_(std::move(worker)) {}

Result<int> RedactionJobRunner::RecoverAfterRestart() {
  auto requeued = db_.RequeueRunningJobs({kRedactionJobKind});
  if (!requeued.ok()) return requeued.status();
  for (const JobRow& job : *requeued) {
    LogInfo("redaction") << "job " << job.id
                         << " was running when the service stopped; it starts again from scratch";
  }
  return static_cast<int>(requeued->size());
}

Result<std::optional<int64_t>> RedactionJobRunner::RunNext() {
  auto claimed = db_.ClaimNextJob({kRedactionJobKind}, worker_);
  if (!claimed.ok()) return claimed.status();
  if (!claimed->has_value()) return std::optional<int64_t>();
  const JobRow job = **claimed;
  int64_t redaction_id = 0;
  try {
    redaction_id = json::parse(job.params).at("redaction_id").get<int64_t>();
  } catch (const json::exception&) {
    CUSTODIAN_RETURN_IF_ERROR(
        db_.FinishJob(job.id, JobState::kFailed, std::nullopt, "bad job parameters"));
    return std::optional<int64_t>(job.id);
  }
  auto row = db_.GetRedaction(redaction_id);
  if (!row.ok()) return row.status();
  if (!*row) {
    CUSTODIAN_RETURN_IF_ERROR(db_.FinishJob(job.id, JobState::kFailed, std::nullopt,
                                            RedactionText(redaction_id) + " does not exist"));
    return std::optional<int64_t>(job.id);
  }
  CUSTODIAN_RETURN_IF_ERROR(Execute(job, redaction_id));
  return std::optional<int64_t>(job.id);
}

Status RedactionJobRunner::Execute(const JobRow& job, int64_t redaction_id) {
  auto got = db_.GetRedaction(redaction_id);
  if (!got.ok()) return got.status();
  RedactionRow row = **got;
  json record = ParseOr(row.record_json, json::object());
  const int64_t export_id = row.export_id.value_or(0);
  const std::string container = ContainerDir(data_dir_, export_id);
  const std::string name = RedactedPackageName(export_id, row.id);
  const std::string partial = JoinPath(container, name + ".partial");
  const std::string final_dir = JoinPath(container, name);
  LogInfo("redaction") << "redacting export " << export_id << " (" << RedactionText(row.id)
                       << ", job " << job.id << ", attempt " << job.attempts << ")";

  auto options = ParseRedactionRequest(record.value("request", json::object()));
  if (!options.ok()) return Fail(job, row, partial, options.status());
  auto e = db_.GetExport(export_id);
  if (!e.ok()) return e.status();
  if (!*e || (*e)->state != records::ExportState::kReady || !(*e)->path) {
    return Fail(job, row, partial, FailedPrecondition("the export is not ready"));
  }
  // A clean restart: whatever an earlier attempt left goes.
  Status cleared = exports::RemoveTree(fs_, partial);
  if (cleared.ok()) cleared = exports::RemoveTree(fs_, final_dir);
  if (!cleared.ok()) return Fail(job, row, partial, cleared);

  const std::string package = JoinPath(container, exports::PackageName(export_id));
  auto manifest_text = ReadText(JoinPath(package, exports::kManifestName));
  if (!manifest_text.ok()) return Fail(job, row, partial, manifest_text.status());
  auto manifest = exports::ParseManifest(*manifest_text);
  if (!manifest.ok()) return Fail(job, row, partial, manifest.status());
  std::vector<std::string> videos;
  for (const auto& f : manifest->files) {
    if (f.kind == "video") videos.push_back(f.path);
  }
  if (videos.empty()) return Fail(job, row, partial, FailedPrecondition("the export has no video"));

  record["state"] = "running";
  (void)db_.UpdateRedactionRecord(row.id, row.output_sha256, record.dump());

  double reported = 0;
  MonoMicros reported_at = clock_.Monotonic();
  json files = json::array();
  std::string sums;
  int64_t flagged_total = 0;
  for (size_t i = 0; i < videos.size(); ++i) {
    const std::string rel = "redacted/" + videos[i];
    const std::string out = JoinPath(partial, rel);
    Status made = fs_.CreateDirs(DirName(out));
    if (!made.ok()) return Fail(job, row, partial, made);
    redaction::RedactionOptions o = *options;
    o.contact_sheet_path = out + ".contact.jpg";
    auto progress = [&](int64_t done, int64_t total) {
      const double within = total > 0 ? std::min(1.0, static_cast<double>(done) / total) : 0;
      const double f = (static_cast<double>(i) + within) / static_cast<double>(videos.size());
      const MonoMicros now = clock_.Monotonic();
      if (f >= 1.0 || f - reported < kProgressStep || now - reported_at < kProgressInterval)
        return;
      reported = f;
      reported_at = now;
      Status st = db_.SetJobProgress(job.id, f);
      if (!st.ok()) LogWarn("redaction") << "job " << job.id << " progress: " << st.ToString();
    };
    auto r = redaction::RedactVideo(JoinPath(package, videos[i]), out, o, progress);
    if (!r.ok()) return Fail(job, row, partial, r.status());
    Status wrote = redaction::WriteRecordFile(out + ".redaction.json", r->json);
    if (!wrote.ok()) return Fail(job, row, partial, wrote);
    json entry = {{"source", videos[i]},
                  {"output", rel},
                  {"record_file", rel + ".redaction.json"},
                  {"input_sha256", r->input_sha256},
                  {"output_sha256", r->output_sha256},
                  {"frames", r->frames},
                  {"frame_rate", r->json["output"].value("frame_rate", 0.0)},
                  {"frames_masked", r->frames_masked},
                  {"frames_flagged", r->frames_flagged},
                  {"flagged", r->json.value("flagged", json::array())},
                  {"seconds", r->seconds}};
    if (fs_.Exists(o.contact_sheet_path)) entry["contact_sheet"] = rel + ".contact.jpg";
    flagged_total += r->frames_flagged;
    for (const char* k : {"output", "record_file", "contact_sheet"}) {
      if (!entry.contains(k)) continue;
      auto sha = Sha256File(JoinPath(partial, entry[k].get<std::string>()));
      if (!sha.ok()) return Fail(job, row, partial, sha.status());
      sums += *sha + "  " + entry[k].get<std::string>() + "\n";
    }
    files.push_back(entry);
    Status synced = fs_.SyncDir(DirName(out));
    if (!synced.ok()) return Fail(job, row, partial, synced);
  }
  Status st = WriteSmallFile(fs_, JoinPath(partial, exports::kChecksumsName), sums);
  if (st.ok()) st = fs_.SyncDir(partial);
  if (st.ok()) st = fs_.Rename(partial, final_dir);
  if (st.ok()) st = fs_.SyncDir(container);
  if (!st.ok()) return Fail(job, row, partial, st);

  record["state"] = "done";
  record["files"] = files;
  record["frames_flagged"] = flagged_total;
  record["package"] = name;
  record.erase("error");
  const std::string output_sha = Sha256Hex(sums);
  st = db_.WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(db_.UpdateRedactionRecord(row.id, output_sha, record.dump()));
    return db_.FinishJob(job.id, JobState::kSucceeded,
                         json{{"redaction_id", row.id}, {"package", name}}.dump(), std::nullopt);
  });
  if (!st.ok()) return st;
  LogInfo("redaction") << RedactionText(row.id) << " of export " << export_id << " done: "
                       << videos.size() << " file(s), " << flagged_total << " frames flagged";
  return Status::Ok();
}

Status RedactionJobRunner::Fail(const JobRow& job, const RedactionRow& row,
                                const std::string& partial, const Status& why) {
  Status removed = exports::RemoveTree(fs_, partial);
  if (!removed.ok()) {
    LogError("redaction") << RedactionText(row.id) << ": could not remove " << partial << ": "
                          << removed.ToString() << "; the next attempt removes it first";
  }
  LogError("redaction") << RedactionText(row.id) << " failed: " << why.ToString();
  json record = ParseOr(row.record_json, json::object());
  record["state"] = "failed";
  record["error"] = why.ToString();
  return db_.WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(db_.UpdateRedactionRecord(row.id, row.output_sha256, record.dump()));
    return db_.FinishJob(job.id, JobState::kFailed, std::nullopt, why.ToString());
  });
}

}  // namespace custodian::api
