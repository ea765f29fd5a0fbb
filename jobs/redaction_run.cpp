#include "jobs/redaction_run.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <tuple>

#include "base/log.h"
#include "base/sha256.h"
#include "exports/export_jobs.h"
#include "exports/manifest.h"
#include "exports/player.h"
#include "exports/timed_text.h"
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

constexpr char kRedactedDir[] = "redacted/";

// The export's manifest and its video files (the working copies).
struct SourcePackage {
  exports::ManifestSummary manifest;
  std::vector<exports::ManifestFile> videos;
};

Result<SourcePackage> ReadSource(Filesystem& fs, const std::string& package) {
  auto text = ReadFileToString(fs, JoinPath(package, exports::kManifestName));
  if (!text.ok()) return text.status();
  auto manifest = exports::ParseManifest(*text);
  if (!manifest.ok()) return manifest.status();
  SourcePackage source{std::move(manifest).value(), {}};
  for (const auto& f : source.manifest.files) {
    if (f.kind == "video") source.videos.push_back(f);
  }
  if (source.videos.empty()) return FailedPrecondition("the export has no video");
  return source;
}

std::string CameraName(const exports::ManifestSummary& m, const std::string& camera_id) {
  for (const exports::ManifestRange& r : m.ranges) {
    if (r.camera_id == camera_id && !r.camera_name.empty()) return r.camera_name;
  }
  return camera_id;
}

// The working copy's wall-clock cues (exports/timed_text.h), to be added to its redacted
// copy: the same UK local time, once a second, from the working copy's start, whose media
// time 0 is the first frame's, as it is in the redacted copy. None when the manifest does
// not give the copy's times.
std::optional<redaction::TextTrack> WallClockTrack(const exports::ManifestSummary& m,
                                                   const exports::ManifestFile& video,
                                                   const TimeZone& zone) {
  if (!video.from || !video.to) return std::nullopt;
  redaction::TextTrack track;
  track.sample_description = exports::TimedTextSampleDescription();
  for (const exports::TimedTextCue& c : exports::WallClockCues(
           *video.from, *video.from, *video.to, CameraName(m, video.camera_id), zone)) {
    track.cues.push_back({static_cast<int64_t>(c.start) * 1000 / exports::kTimedTextTimescale,
                          static_cast<int64_t>(c.duration) * 1000 / exports::kTimedTextTimescale,
                          exports::TimedTextSample(c.text)});
  }
  return track;
}

// The redacted package's player.html (exports/player.h): its redacted copies on one
// timeline, checked against the redaction manifest the sign-off writes.
std::string RedactedPlayer(const SourcePackage& source) {
  exports::Manifest m;
  m.export_id = source.manifest.export_id;
  m.site_name = source.manifest.site_name;
  m.reference = source.manifest.reference;
  m.redacted = true;
  m.ranges = source.manifest.ranges;
  for (exports::ManifestFile f : source.videos) {
    f.path = kRedactedDir + f.path;
    f.video_codec = "avc1";  // the redactor encodes H.264
    m.files.push_back(f);
  }
  return exports::PlayerHtml(m, kRedactionManifestName);
}

// "2026-01-15 09:00:00 GMT".
std::string LocalText(const TimeZone& zone, UtcMicros t) {
  const LocalTime l = zone.ToLocal(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s %02d:%02d:%02d %s", FormatCivilDate(l.date).c_str(), l.hour,
                l.minute, l.second, l.abbreviation.c_str());
  return buf;
}

// README.txt of the redacted package: what the recipient has, how to play and check it.
std::string RedactedReadme(const SourcePackage& source, const TimeZone& zone) {
  const exports::ManifestSummary& m = source.manifest;
  std::string o;
  o += "REDACTED CCTV FOOTAGE\n\n";
  o += "Export " + std::to_string(m.export_id) +
       (m.site_name.empty() ? "" : " from " + m.site_name) +
       (m.reference.empty() ? "" : ", reference " + m.reference) + ".\n\n";
  o += "WHAT THIS FOLDER HOLDS\n";
  o += "  redacted/working/*.mp4   the footage, with people other than the requester masked.\n"
       "                           The video was re-encoded (H.264) to mask it, so these files\n"
       "                           are not the recorded bytes; the recording itself stays with\n"
       "                           the organisation that exported it.\n"
       "  *.redaction.json         what was masked in each file, and how.\n"
       "  *.contact.jpg            a sheet of stills from each file, as the reviewer saw it.\n"
       "  player.html              a player for this folder: open it in a web browser.\n"
       "  redaction-manifest.json  every file's size and SHA-256, who reviewed the redaction\n"
       "                           and when; signed (redaction-manifest.json.minisig) with the\n"
       "                           key in custodian-export.pub.\n"
       "  SHA256SUMS               the files' SHA-256, for sha256sum.\n\n";
  o += "TIME\n"
       "  Every video carries a subtitle track giving the UK local date and time (GMT or BST)\n"
       "  and the camera, once a second: turn subtitles on in VLC or another player, or use\n"
       "  player.html, which shows the time beside each picture. The times are the recording\n"
       "  appliance's clock. The files cover:\n";
  for (const exports::ManifestFile& f : source.videos) {
    o += "    " + std::string(kRedactedDir) + f.path + ": " + CameraName(m, f.camera_id);
    if (f.from && f.to) o += ", " + LocalText(zone, *f.from) + " to " + LocalText(zone, *f.to);
    o += "\n";
  }
  o += "\nPLAYING\n"
       "  Open player.html in a current web browser (Chrome, Edge, Firefox or Safari). It plays\n"
       "  every camera on one timeline, at slower or faster speeds and a frame at a time, and\n"
       "  can save stills with the time drawn in. Nothing is sent anywhere. The videos also\n"
       "  play in VLC (videolan.org) and most media players.\n\n";
  o += "CHECKING\n"
       "  In player.html, choose this folder under \"Check the files\": it compares every file\n"
       "  with redaction-manifest.json and checks the signature, and says PASSED or FAILED.\n"
       "  Or, with minisign and sha256sum:\n"
       "    minisign -Vm redaction-manifest.json -p custodian-export.pub\n"
       "    sha256sum -c SHA256SUMS\n"
       "  The key in this folder travels with it: compare its key id with the one the\n"
       "  organisation publishes, or ask them for it.\n";
  return o;
}

}  // namespace

RedactionJobRunner::RedactionJobRunner(records::Database& db, Filesystem& fs, const Clock& clock,
                                       std::string data_dir, std::string worker,
                                       const TimeZone& zone)
    : JobRunner(db, kRedactionJobKind, "redaction_id", std::move(worker)),
      fs_(fs),
      clock_(clock),
      data_dir_(std::move(data_dir)),
      zone_(zone) {}

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
  auto source = ReadSource(fs_, work.original);
  if (!source.ok()) return Fail(work, source.status());
  const std::vector<exports::ManifestFile>& videos = source->videos;

  record["state"] = "running";
  (void)db_.UpdateRedactionRecord(row.id, row.output_sha256, record.dump());
  ProgressThrottle progress(db_, clock_, job.id, kProgressStep, kProgressInterval);
  json files = json::array();
  std::string sums;
  for (size_t i = 0; i < videos.size(); ++i) {
    redaction::RedactionOptions o = *options;
    o.text_track = WallClockTrack(source->manifest, videos[i], zone_);
    Status st = RedactOne(work, o, videos[i].path, i, videos.size(), progress, &files, &sums);
    if (!st.ok()) return Fail(work, st);
  }
  // The recipient's player and README, hashed into SHA256SUMS and listed in the record for
  // the sign-off's manifest.
  json package_files = json::array();
  for (const auto& [rel, kind, text] :
       {std::tuple<const char*, const char*, std::string>{exports::kPlayerName, "player",
                                                          RedactedPlayer(*source)},
        {exports::kReadmeName, "readme", RedactedReadme(*source, zone_)}}) {
    Status st = WriteFileAtomically(fs_, JoinPath(work.partial, rel), text);
    if (!st.ok()) return Fail(work, st);
    sums += Sha256Hex(text) + "  " + rel + "\n";
    package_files.push_back({{"path", rel}, {"kind", kind}});
  }
  package_files.push_back({{"path", exports::kChecksumsName}, {"kind", "checksums"}});
  record["package_files"] = package_files;
  Status st = WriteFileAtomically(fs_, JoinPath(work.partial, exports::kChecksumsName), sums);
  if (st.ok()) st = fs_.SyncDir(work.partial);
  if (st.ok()) st = fs_.Rename(work.partial, work.final_dir);
  if (st.ok()) st = fs_.SyncDir(container);
  if (!st.ok()) return Fail(work, st);
  return Finish(work, std::move(record), files, sums, videos.size());
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
  if (o.text_track) {
    entry["timed_text"] = {
        {"format", "mov_text (MP4 tx3g)"},
        {"shows", "UK local date and time (GMT or BST) and camera name, once a second"},
        {"cues", o.text_track->cues.size()}};
  }
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
