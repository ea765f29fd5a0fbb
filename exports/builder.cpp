#include "exports/builder.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <tuple>

#include "base/sha256.h"
#include "exports/burned_copy.h"
#include "exports/hash_worker.h"
#include "exports/package_writer.h"
#include "exports/player.h"
#include "exports/readme.h"
#include "exports/splicer.h"
#include "exports/step_timer.h"
#include "requests/rules.h"

namespace custodian::exports {

namespace {

using Buffer = std::vector<uint8_t>;

// The burned-in working copy of each spliced file (burned_copy.h), written beside it and
// listed as derived from it and from its source segments.
Status WriteBurnedInCopies(const ExportPlan& plan, PackageWriter& writer, const TimeZone& zone,
                           const CancelFn& cancelled, Manifest& manifest) {
  std::vector<ManifestFile> derived;
  for (const ManifestFile& f : manifest.files) {
    if (f.kind != "video" || !f.from) continue;
    BurnInText text;
    text.origin = *f.from;
    text.end = f.to.value_or(*f.from);
    text.export_id = plan.export_row.id;
    text.camera_name = f.camera_id;
    for (const RangePlan& rp : plan.ranges) {
      if (rp.range.camera_id == f.camera_id) text.camera_name = rp.camera_name;
    }
    const std::string rel = f.path.substr(0, f.path.size() - 4) + "_burned-in.mp4";
    auto out = writer.Open(rel);
    if (!out.ok()) return out.status();
    size_t staged = 0;
    auto sink = [&](const uint8_t* data, size_t size) {
      Status st = writer.Append(*out, data, size);
      // Hand the bytes to the hash worker every few megabytes, so that an hour's copy is
      // never held in memory until the file closes.
      if ((staged += size) >= (8u << 20)) {
        writer.Commit();
        staged = 0;
      }
      return st;
    };
    CUSTODIAN_RETURN_IF_ERROR(
        WriteBurnedInCopy(JoinPath(writer.dir(), f.path), text, zone, sink, cancelled));
    CUSTODIAN_RETURN_IF_ERROR(writer.Close(*out));
    ManifestFile d = f;
    d.path = rel;
    d.kind = "burned_in";
    d.bytes = out->bytes;
    d.video_codec = "avc1";
    d.timed_text_track = 0;
    d.derived_from = f.path;
    derived.push_back(d);
  }
  manifest.files.insert(manifest.files.end(), derived.begin(), derived.end());
  return Status::Ok();
}

ManifestFile SmallFile(const std::string& path, const std::string& kind, int64_t bytes = 0,
                       const std::string& sha256 = "") {
  ManifestFile f;
  f.path = path;
  f.kind = kind;
  f.bytes = bytes;
  f.sha256 = sha256;
  return f;
}

std::string ChecksumsText(const std::vector<ManifestFile>& files) {
  std::string out;
  for (const ManifestFile& f : files) out += f.sha256 + "  " + f.path + "\n";
  return out;
}

Manifest StartManifest(const ExportPlan& plan, const SigningKey& key, const Clock& clock,
                       const BuildOptions& options) {
  Manifest m;
  const records::FootageRequestRow& r = plan.request;
  m.export_id = plan.export_row.id;
  m.site_name = plan.site_name;
  m.request_id = r.id;
  m.request_type = records::Name(r.type);
  m.reference = r.reference;
  m.requester_organisation = r.organisation;
  m.legal_basis = records::Name(r.legal_basis);
  m.legal_basis_text = requests::LegalBasisText(r.legal_basis);
  m.legal_basis_detail = r.legal_basis_detail;
  m.exporter = {plan.export_row.created_by, plan.exporter_name};
  m.approver = {r.decided_by.value_or(0), plan.approver_name};
  m.approved = r.decided;
  m.created = clock.Now();
  m.software_version = options.software_version;
  m.software_revision = options.software_revision;
  m.key_id = key.public_key().KeyIdHex();
  m.redacted = plan.export_row.redacted;
  return m;
}

}  // namespace

std::string WorkingCopyStem(int64_t export_id, const std::string& camera_id, UtcMicros start) {
  return std::string(kWorkingDir) + "/export-" + std::to_string(export_id) + "_" + camera_id +
         "_" + FormatUtcCompact(start);
}

int SourcesBesideOutputEvery(const BuildOptions& options) {
  if (options.sources_beside_output_every > 0) return options.sources_beside_output_every;
  double load = 0;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (::getloadavg(&load, 1) == 1 && load >= static_cast<double>(cores)) return 1;
  return 3;
}

Result<BuildResult> BuildPackage(const ExportPlan& plan, const std::string& data_dir,
                                 const std::string& package_dir, const SigningKey& key,
                                 Filesystem& fs, const Clock& clock, const TimeZone& zone,
                                 const BuildOptions& options, const ProgressFn& progress,
                                 const CancelFn& cancelled) {
  const auto started = std::chrono::steady_clock::now();
  const int64_t cpu_started = ThreadCpuNanos();
  if (fs.Exists(package_dir)) return AlreadyExists("export: " + package_dir + " exists already");
  CUSTODIAN_RETURN_IF_ERROR(fs.CreateDirs(package_dir));
  // Refuse at once rather than fill the disk the recorder needs: the package is about the
  // size of its sources (twice with originals), plus a margin for the small files.
  const int64_t need =
      plan.SourceBytes() * (plan.export_row.include_originals ? 2 : 1) + (16 << 20);
  auto space = fs.Space(package_dir);
  if (space.ok() && space->free_bytes < static_cast<uint64_t>(need)) {
    return ResourceExhausted("export needs about " + std::to_string(need >> 20) + " MB but " +
                             std::to_string(space->free_bytes >> 20) + " MB are free");
  }
  Manifest manifest = StartManifest(plan, key, clock, options);
  PackageWriter writer(fs, package_dir, options.durable);
  BuildSteps& steps = writer.steps();
  {
    Splicer splicer(plan, data_dir, writer, options, zone, manifest);
    Status st = splicer.Run(progress, cancelled);
    Status sources = splicer.CheckSources();
    steps.hash_sources_cpu = splicer.source_hash_cpu_seconds();
    CUSTODIAN_RETURN_IF_ERROR(st);
    CUSTODIAN_RETURN_IF_ERROR(sources);
  }
  if (plan.burned_in_copy) {
    StepTimer timer(steps.burned_in);
    CUSTODIAN_RETURN_IF_ERROR(WriteBurnedInCopies(plan, writer, zone, cancelled, manifest));
  }
  // The small files and the signature (CPU time: the waits for fsync and digests cost none).
  const int64_t signing = ThreadCpuNanos();
  // Videos first, then originals, each by path (the order they were written depends on
  // which range finished first).
  std::stable_sort(manifest.files.begin(), manifest.files.end(),
                   [](const ManifestFile& a, const ManifestFile& b) {
                     return std::tie(b.kind, a.path) < std::tie(a.kind, b.path);
                   });
  std::sort(manifest.segments.begin(), manifest.segments.end(),
            [](const ManifestSegment& a, const ManifestSegment& b) {
              return std::tie(a.camera_id, a.start, a.id) < std::tie(b.camera_id, b.start, b.id);
            });

  CUSTODIAN_RETURN_IF_ERROR(writer.WriteSmall(kPlayerName, PlayerHtml(manifest)));
  manifest.files.push_back(SmallFile(kPlayerName, "player"));
  CUSTODIAN_RETURN_IF_ERROR(writer.WriteSmall(kPublicKeyName, key.public_key().FileText()));
  manifest.files.push_back(SmallFile(kPublicKeyName, "public_key"));
  CUSTODIAN_RETURN_IF_ERROR(
      writer.WriteSmall(kReadmeName, ReadmeText(manifest, key.public_key(), zone)));
  manifest.files.push_back(SmallFile(kReadmeName, "readme"));
  for (ManifestFile& f : manifest.files) f.sha256 = writer.Digest(f.path);
  for (ManifestFile& f : manifest.files) {
    if (f.kind == "public_key" || f.kind == "readme" || f.kind == "player") {
      auto size = fs.FileSize(JoinPath(package_dir, f.path));
      if (!size.ok()) return size.status();
      f.bytes = static_cast<int64_t>(*size);
    }
  }
  const std::string sums = ChecksumsText(manifest.files);
  CUSTODIAN_RETURN_IF_ERROR(writer.WriteSmall(kChecksumsName, sums));
  manifest.files.push_back(
      SmallFile(kChecksumsName, "checksums", static_cast<int64_t>(sums.size()), Sha256Hex(sums)));

  const std::string json = ManifestJson(manifest, zone);
  CUSTODIAN_RETURN_IF_ERROR(writer.WriteSmall(kManifestName, json));
  const std::string trusted =
      "timestamp:" + std::to_string(manifest.created.us / kMicrosPerSecond) +
      "\tfile:" + kManifestName + "\thashed\tcustodian export " +
      std::to_string(plan.export_row.id) + " of request " + std::to_string(plan.request.id);
  CUSTODIAN_RETURN_IF_ERROR(writer.WriteSmall(kSignatureName, key.Sign(json, trusted)));
  CUSTODIAN_RETURN_IF_ERROR(writer.SyncDirs());
  if (progress) progress(1.0);

  const auto now = std::chrono::steady_clock::now();
  steps.sign = static_cast<double>(ThreadCpuNanos() - signing) / 1e9;
  steps.total = std::chrono::duration<double>(now - started).count();
  steps.build_cpu = static_cast<double>(ThreadCpuNanos() - cpu_started) / 1e9;
  steps.hash_output_cpu = writer.hasher().cpu_seconds();
  steps.file_thread_cpu = writer.file_thread_cpu_seconds();
  BuildResult result;
  result.manifest = std::move(manifest);
  result.manifest_sha256 = Sha256Hex(json);
  result.bytes = writer.total_bytes();
  result.steps = steps;
  return result;
}

}  // namespace custodian::exports