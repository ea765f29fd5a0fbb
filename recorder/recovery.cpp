#include "recorder/recovery.h"

#include <map>
#include <set>

#include "activity/activity_file.h"
#include "activity/footage_index.h"
#include "base/log.h"
#include "base/sha256.h"
#include "media/mp4_scan.h"
#include "media/probe.h"
#include "recorder/footage_layout.h"

namespace custodian::recorder {

namespace {

struct SalvagedFile {
  bool playable = false;
  int64_t duration_us = 0;
  uint64_t bytes = 0;
  int64_t trimmed = 0;
  std::string sha256;
  media::FileProbe probe;
};

// Trims a segment file to its last whole fragment and reads what it holds.
Result<SalvagedFile> Salvage(Filesystem& fs, const std::string& path) {
  SalvagedFile out;
  auto layout = media::ScanFragmentedMp4(path);
  if (!layout.ok()) return layout.status();
  if (!layout->has_header || (layout->fragments == 0 && !layout->complete)) return out;
  if (layout->valid_end < layout->file_size) {
    CUSTODIAN_RETURN_IF_ERROR(fs.Truncate(path, layout->valid_end));
    out.trimmed = static_cast<int64_t>(layout->file_size - layout->valid_end);
  }
  auto probe = media::ProbeFile(path);
  if (!probe.ok() || probe->video_frames == 0) return out;
  auto sha = Sha256File(path);
  if (!sha.ok()) return sha.status();
  out.playable = true;
  out.probe = *probe;
  out.duration_us = probe->duration_us;
  out.bytes = layout->valid_end;
  out.sha256 = *sha;
  return out;
}

// Moves data_dir/rel to data_dir/footage/quarantine/, flattening its path into the name.
Status Quarantine(Filesystem& fs, const std::string& data_dir, const std::string& rel) {
  std::string qdir = JoinPath(data_dir, "footage/quarantine");
  CUSTODIAN_RETURN_IF_ERROR(fs.CreateDirs(qdir));
  std::string flat = rel;
  for (char& c : flat)
    if (c == '/') c = '_';
  return fs.Rename(JoinPath(data_dir, rel), JoinPath(qdir, flat));
}

records::SegmentFinish FinishFrom(const SalvagedFile& f, UtcMicros start) {
  records::SegmentFinish fin;
  fin.end = start + f.duration_us;
  fin.bytes = static_cast<int64_t>(f.bytes);
  fin.duration_us = f.duration_us;
  fin.sha256 = f.sha256;
  fin.video_codec = f.probe.video_codec;
  fin.width = f.probe.width;
  fin.height = f.probe.height;
  if (!f.probe.audio_codec.empty()) fin.audio_codec = f.probe.audio_codec;
  return fin;
}

// Indexes a playable file that has no row (registering its camera if unknown).
Result<int64_t> Adopt(records::Database& db, const FootageFile& file, UtcMicros start,
                      const SalvagedFile& f) {
  auto existing = db.ListCameras();
  if (!existing.ok()) return existing.status();
  bool have_camera = false;
  for (const auto& c : *existing) have_camera |= c.id == file.camera;
  if (!have_camera) {
    records::CameraRow camera;
    camera.id = file.camera;
    camera.name = file.camera;
    CUSTODIAN_RETURN_IF_ERROR(db.UpsertCamera(camera));
  }
  records::SegmentRow row;
  row.camera_id = file.camera;
  row.start = start;
  row.path = file.rel;
  row.video_codec = f.probe.video_codec;
  row.width = f.probe.width;
  row.height = f.probe.height;
  if (!f.probe.audio_codec.empty()) row.audio_codec = f.probe.audio_codec;
  row.state = records::SegmentState::kRecording;
  auto id = db.BeginSegment(row);
  if (!id.ok()) return id.status();
  CUSTODIAN_RETURN_IF_ERROR(db.FinishSegment(*id, FinishFrom(f, start)));
  return *id;
}

// Step 3 for one segment: an index that reads is left alone; else one is built from the
// file and written beside it (the segment is already finalised, so the index never exists
// for footage that does not).
void RebuildActivity(Filesystem& fs, const std::string& data_dir, const records::SegmentRow& row,
                     RecoveryReport* report) {
  const std::string path = JoinPath(data_dir, row.path);
  const std::string index_path = activity::ActivityPathFor(path);
  if (activity::ReadActivityFile(fs, index_path).ok()) return;
  auto index = activity::IndexFootageFile(path, row.duration_us);
  Status st = index.ok() ? activity::WriteActivityFile(fs, index_path, *index) : index.status();
  if (!st.ok()) {
    report->notes.push_back("segment " + std::to_string(row.id) + " of camera " + row.camera_id +
                            ": activity index not rebuilt (" + st.ToString() +
                            "); its footage is kept, its activity cannot be searched");
    return;
  }
  ++report->indexed;
  report->notes.push_back("segment " + std::to_string(row.id) + " of camera " + row.camera_id +
                          ": activity index rebuilt from its footage (" +
                          std::to_string(index->scores.size()) + " s)");
}

// Step 3: the segments recovery finished or adopted, and each camera's newest complete one.
Status RebuildIndexes(records::Database& db, Filesystem& fs, const std::string& data_dir,
                      const std::set<int64_t>& recovered, RecoveryReport* report) {
  auto all = db.ListAllSegments();
  if (!all.ok()) return all.status();
  std::map<std::string, const records::SegmentRow*> newest;
  for (const records::SegmentRow& s : *all) {
    if (s.state != records::SegmentState::kComplete) continue;
    const records::SegmentRow*& n = newest[s.camera_id];
    if (!n || s.start > n->start) n = &s;
  }
  std::set<int64_t> ids = recovered;
  for (const auto& [camera, row] : newest) ids.insert(row->id);
  for (const records::SegmentRow& s : *all) {
    if (ids.count(s.id) && s.state == records::SegmentState::kComplete)
      RebuildActivity(fs, data_dir, s, report);
  }
  return Status::Ok();
}

}  // namespace

bool ParseSegmentFileName(const std::string& name, UtcMicros* start) {
  // 20261125T035752.123Z.mp4 -> 2026-11-25T03:57:52.123Z
  if (name.size() < 20 || name.substr(name.size() - 4) != ".mp4") return false;
  std::string base = name.substr(0, name.size() - 4);
  if (base.size() < 16 || base[8] != 'T') return false;
  std::string iso = base.substr(0, 4) + "-" + base.substr(4, 2) + "-" + base.substr(6, 2) + "T" +
                    base.substr(9, 2) + ":" + base.substr(11, 2) + ":" + base.substr(13);
  return ParseUtc(iso, start);
}

Result<RecoveryReport> RecoverFootage(records::Database& db, Filesystem& fs,
                                      const std::string& data_dir, const RecoveryOptions& options) {
  RecoveryReport report;
  std::set<int64_t> to_index;  // segments of step 3
  auto open_rows = db.ListSegmentsInState(records::SegmentState::kRecording);
  if (!open_rows.ok()) return open_rows.status();
  for (const records::SegmentRow& row : *open_rows) {
    std::string path = JoinPath(data_dir, row.path);
    const bool had_file = fs.Exists(path);
    SalvagedFile f;
    if (had_file) {
      auto salvaged = Salvage(fs, path);
      if (!salvaged.ok()) return salvaged.status();
      f = *salvaged;
    }
    if (f.playable) {
      CUSTODIAN_RETURN_IF_ERROR(db.FinishSegment(row.id, FinishFrom(f, row.start)));
      to_index.insert(row.id);
      ++report.finished;
      report.trimmed_bytes += f.trimmed;
      report.notes.push_back("segment " + std::to_string(row.id) + " of camera " + row.camera_id +
                             " finished after a crash: " + std::to_string(f.duration_us / 1000) +
                             " ms kept, " + std::to_string(f.trimmed) + " torn bytes trimmed");
      continue;
    }
    if (had_file) {
      CUSTODIAN_RETURN_IF_ERROR(Quarantine(fs, data_dir, row.path));
      ++report.quarantined;
    }
    CUSTODIAN_RETURN_IF_ERROR(db.RemoveSegment(row.id));
    ++report.emptied;
    report.notes.push_back("segment " + std::to_string(row.id) + " of camera " + row.camera_id +
                           " held no whole fragment; row removed" +
                           (had_file ? ", file quarantined" : " (it had no file)"));
  }

  // Files without rows.
  auto all = db.ListAllSegments();
  if (!all.ok()) return all.status();
  std::set<std::string> known;
  for (const auto& s : *all) known.insert(s.path);
  std::vector<FootageFile> files;
  std::vector<std::string> quarantined;
  ListFootageFiles(fs, data_dir, &files, &quarantined);
  for (const FootageFile& file : files) {
    if (known.count(file.rel)) continue;
    UtcMicros start;
    SalvagedFile f;
    bool named = ParseSegmentFileName(file.name, &start);
    if (named) {
      auto salvaged = Salvage(fs, JoinPath(data_dir, file.rel));
      if (salvaged.ok()) f = *salvaged;
    }
    if (!named || !f.playable) {
      CUSTODIAN_RETURN_IF_ERROR(Quarantine(fs, data_dir, file.rel));
      ++report.quarantined;
      report.notes.push_back("unindexed file " + file.rel + " does not play; moved to quarantine");
      continue;
    }
    auto id = Adopt(db, file, start, f);
    if (!id.ok()) return id.status();
    to_index.insert(*id);
    ++report.adopted;
    report.notes.push_back("unindexed file " + file.rel + " adopted as segment " + std::to_string(*id));
  }
  if (options.activity_index)
    CUSTODIAN_RETURN_IF_ERROR(RebuildIndexes(db, fs, data_dir, to_index, &report));
  for (const std::string& n : report.notes) LogWarn("recovery") << n;
  return report;
}

}  // namespace custodian::recorder
