#include "jobs/redaction_run.h"

#include <algorithm>

#include "base/log.h"
#include "base/sha256.h"
#include "exports/export_jobs.h"
#include "exports/manifest.h"
#include "jobs/redactions.h"
#include "redaction/redactor.h"

namespace custodian::jobs {

using nlohmann::json;
using records::JobRow;
using records::JobState;
using RedactionRow = records::Database::RedactionRow;

namespace {

constexpr double kProgressStep = 0.02;
constexpr int64_t kProgressInterval = kMicrosPerSecond / 2;

// The video files of an export's package, from its manifest.
Result<std::vector<std::string>> VideosOf(Filesystem& fs, const std::string& package) {
  auto text = ReadFileToString(fs, JoinPath(package, exports::kManifestName));
  if (!text.ok()) return text.status();
  auto manifest = exports::ParseManifest(*text);
  if (!manifest.ok()) return manifest.status();
  std::vector<std::string> videos;
  for (const auto& f : manifest->files) {
    if (f.kind == "video") videos.push_back(f.path);
  }
  if (videos.empty()) return FailedPrecondition("the export has no video");
  return videos;
}

}  // namespace

RedactionJobRunner::RedactionJobRunner(records::Database& db, Filesystem& fs, const Clock& clock,
                                       std::string data_dir, std::string worker)
    : JobRunner(db, kRedactionJobKind, "redaction_id", std::move(worker)),
      fs_(fs),
      clock_(clock),
      data_dir_(std::move(data_dir)) {}

Status RedactionJobRunner::Run(const JobRow& job, int64_t redaction_id) {
  auto got = db_.GetRedaction(redaction_id);
  if (!got.ok()) return got.status();
  if (!*got) {
    return db_.FinishJob(job.id, JobState::kFailed, std::nullopt,
                         RedactionText(redaction_id) + " does not exist");
  }
  const RedactionRow row = **got;
  json record = RedactionRecord(row);
  const int64_t export_id = row.export_id.value_or(0);
  const std::string container = JoinPath(data_dir_, exports::ExportDirRelative(export_id));
  const std::string name = RedactedPackageName(export_id, row.id);
  const Work work{job, row, JoinPath(container, exports::PackageName(export_id)),
                  JoinPath(container, name + ".partial"), JoinPath(container, name)};
  LogInfo("redaction") << "redacting export " << export_id << " (" << RedactionText(row.id)
                       << ", job " << job.id << ", attempt " << job.attempts << ")";

  auto options = ParseRedactionRequest(record.value("request", json::object()));
  if (!options.ok()) return Fail(work, options.status());
  auto e = db_.GetExport(export_id);
  if (!e.ok()) return e.status();
  if (!*e || (*e)->state != records::ExportState::kReady || !(*e)->path) {
    return Fail(work, FailedPrecondition("the export is not ready"));
  }
  // A clean restart: whatever an earlier attempt left goes.
  Status cleared = exports::RemoveTree(fs_, work.partial);
  if (cleared.ok()) cleared = exports::RemoveTree(fs_, work.final_dir);
  if (!cleared.ok()) return Fail(work, cleared);
  auto videos = VideosOf(fs_, work.original);
  if (!videos.ok()) return Fail(work, videos.status());

  record["state"] = "running";
  (void)db_.UpdateRedactionRecord(row.id, row.output_sha256, record.dump());
  ProgressThrottle progress(db_, clock_, job.id, kProgressStep, kProgressInterval);
  json files = json::array();
  std::string sums;
  for (size_t i = 0; i < videos->size(); ++i) {
    Status st = RedactOne(work, *options, (*videos)[i], i, videos->size(), progress, &files, &sums);
    if (!st.ok()) return Fail(work, st);
  }
  Status st = WriteFileAtomically(fs_, JoinPath(work.partial, exports::kChecksumsName), sums);
  if (st.ok()) st = fs_.SyncDir(work.partial);
  if (st.ok()) st = fs_.Rename(work.partial, work.final_dir);
  if (st.ok()) st = fs_.SyncDir(container);
  if (!st.ok()) return Fail(work, st);
  return Finish(work, std::move(record), files, sums, videos->size());
}

Status RedactionJobRunner::RedactOne(const Work& work, const redaction::RedactionOptions& options,
                                     const std::string& video, size_t index, size_t count,
                                     ProgressThrottle& progress, json* files, std::string* sums) {
  const std::string rel = "redacted/" + video;
  const std::string out = JoinPath(work.partial, rel);
  CUSTODIAN_RETURN_IF_ERROR(fs_.CreateDirs(DirName(out)));
  redaction::RedactionOptions o = options;
  o.contact_sheet_path = out + ".contact.jpg";
  auto report = [&](int64_t done, int64_t total) {
    const double within = total > 0 ? std::min(1.0, static_cast<double>(done) / total) : 0;
    progress.Report((static_cast<double>(index) + within) / static_cast<double>(count));
  };
  auto r = redaction::RedactVideo(JoinPath(work.original, video), out, o, report);
  if (!r.ok()) return r.status();
  CUSTODIAN_RETURN_IF_ERROR(redaction::WriteRecordFile(out + ".redaction.json", r->json, fs_));
  json entry = {{"source", video},
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
  for (const char* k : {"output", "record_file", "contact_sheet"}) {
    if (!entry.contains(k)) continue;
    auto digest = DigestFile(fs_, JoinPath(work.partial, entry[k].get<std::string>()));
    if (!digest.ok()) return digest.status();
    *sums += digest->sha256 + "  " + entry[k].get<std::string>() + "\n";
  }
  files->push_back(entry);
  return fs_.SyncDir(DirName(out));
}

Status RedactionJobRunner::Finish(const Work& work, json record, const json& files,
                                  const std::string& sums, size_t videos) {
  int64_t flagged_total = 0;
  for (const json& f : files) flagged_total += f.value("frames_flagged", int64_t{0});
  const std::string name = RedactedPackageName(work.row.export_id.value_or(0), work.row.id);
  record["state"] = "done";
  record["files"] = files;
  record["frames_flagged"] = flagged_total;
  record["package"] = name;
  record.erase("error");
  const std::string output_sha = Sha256Hex(sums);
  Status st = db_.WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(db_.UpdateRedactionRecord(work.row.id, output_sha, record.dump()));
    return db_.FinishJob(work.job.id, JobState::kSucceeded,
                         json{{"redaction_id", work.row.id}, {"package", name}}.dump(),
                         std::nullopt);
  });
  if (!st.ok()) return st;
  LogInfo("redaction") << RedactionText(work.row.id) << " of export "
                       << work.row.export_id.value_or(0) << " done: " << videos << " file(s), "
                       << flagged_total << " frames flagged";
  return Status::Ok();
}

Status RedactionJobRunner::Fail(const Work& work, const Status& why) {
  Status removed = exports::RemoveTree(fs_, work.partial);
  if (!removed.ok()) {
    LogError("redaction") << RedactionText(work.row.id) << ": could not remove " << work.partial
                          << ": " << removed.ToString() << "; the next attempt removes it first";
  }
  LogError("redaction") << RedactionText(work.row.id) << " failed: " << why.ToString();
  json record = RedactionRecord(work.row);
  record["state"] = "failed";
  record["error"] = why.ToString();
  return db_.WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(
        db_.UpdateRedactionRecord(work.row.id, work.row.output_sha256, record.dump()));
    return db_.FinishJob(work.job.id, JobState::kFailed, std::nullopt, why.ToString());
  });
}

}  // namespace custodian::jobs
