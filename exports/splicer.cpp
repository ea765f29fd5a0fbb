#include "exports/splicer.h"

#include <algorithm>

#include "base/log.h"
#include "exports/step_timer.h"
#include "exports/timed_text.h"

namespace custodian::exports {

namespace {

using Buffer = std::vector<uint8_t>;

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

int64_t WallOffsetUs(uint64_t t, uint64_t origin, uint32_t timescale) {
  return (static_cast<int64_t>(t) - static_cast<int64_t>(origin)) * kMicrosPerSecond /
         static_cast<int64_t>(timescale);
}

}  // namespace

Status Splicer::Run(const ProgressFn& progress, const CancelFn& cancelled) {
  for (const RangePlan& rp : plan_.ranges)
    CUSTODIAN_RETURN_IF_ERROR(RunRange(rp, progress, cancelled));
  return Status::Ok();
}

Status Splicer::RunRange(const RangePlan& rp, const ProgressFn& progress,
                         const CancelFn& cancelled) {
  ManifestRange mr;
  mr.camera_id = rp.range.camera_id;
  mr.camera_name = rp.camera_name;
  mr.camera_make = rp.camera.make;
  mr.camera_model = rp.camera.model;
  mr.camera_firmware = rp.camera.firmware;
  mr.from = rp.range.from;
  mr.to = rp.range.to;
  covered_.clear();
  std::map<int64_t, std::string> unreadable;  // segment id -> why
  for (size_t k = 0; k < rp.segments.size(); ++k) {
    const records::SegmentRow& seg = rp.segments[k];
    if (cancelled && cancelled()) return FailedPrecondition("export cancelled");
    if (k + 1 < rp.segments.size()) Prefetch(JoinPath(data_dir_, rp.segments[k + 1].path));
    if (seg.state != records::SegmentState::kComplete || !seg.sha256 || !seg.end) {
      continue;  // still recording or being deleted: its time shows as a hole
    }
    auto slot = in_flight_.Acquire();
    std::optional<StepTimer> reading(std::in_place, writer_.steps().read);
    auto mapped = MappedFile::Open(JoinPath(data_dir_, seg.path));
    reading.reset();
    if (!mapped.ok()) {
      unreadable[seg.id] = "segment file unreadable (" + mapped.status().message() + ")";
      LogWarn("exports") << "export " << plan_.export_row.id << ": segment " << seg.id << " "
                         << mapped.status().ToString() << "; its time is reported as a gap";
      continue;
    }
    SharedBuffer shared =
        std::make_shared<const Source>(Source{std::move(mapped).value(), std::move(slot)});
    // The mapped segment is read where it lies: by the writes of its spliced fragments, by
    // the output's hash worker, and by a source hash, which checks it against the SHA-256
    // the recorder stored, all from the same pages of the page cache. Every
    // sources_beside_output_every-th source is hashed by the output's worker, interleaved
    // with the output stream over the same bytes, the rest two at a time on the source worker.
    const bool hash_source = options_.verify_sources || plan_.export_row.include_originals;
    const int64_t every = std::max(1, beside_output_every_);
    const bool beside_output =
        hash_source && !plan_.export_row.include_originals && ++sources_seen_ % every == 0;
    if (hash_source && !beside_output) {
      HashSource(seg, shared, /*now=*/plan_.export_row.include_originals);
    }
    if (beside_output) beside_.stream = writer_.hasher().Begin();
    std::optional<StepTimer> parsing(std::in_place, writer_.steps().parse);
    auto layout = ParseFmp4(shared->data(), shared->size());
    parsing.reset();
    NoteSegment(seg, layout.ok() ? &*layout : nullptr);
    Status spliced = Status::Ok();
    if (!layout.ok()) {
      unreadable[seg.id] =
          "segment not readable as fragmented MP4 (" + layout.status().message() + ")";
      LogWarn("exports") << "export " << plan_.export_row.id << ": segment " << seg.id << " "
                         << layout.status().ToString() << "; its time is reported as a gap";
    } else {
      spliced = SpliceSegment(rp, seg, shared, *layout, &mr);
    }
    CommitUpTo(shared, shared->size());
    if (beside_output) {
      sources_[seg.id] = SourceDigest{&seg, writer_.hasher().Finish(beside_.stream).share()};
    }
    beside_ = BesideOutput{};
    CUSTODIAN_RETURN_IF_ERROR(spliced);
    if (plan_.export_row.include_originals) {
      CUSTODIAN_RETURN_IF_ERROR(CopyOriginal(rp, seg, shared, sources_[seg.id].digest));
    }
    done_bytes_ += seg.bytes;
    if (progress) progress(0.95 * static_cast<double>(done_bytes_) / total_bytes_);
  }
  CUSTODIAN_RETURN_IF_ERROR(ClosePart(rp, &mr));
  if (!covered_.empty()) {
    mr.covered_from = covered_.front().first;
    mr.covered_to = covered_.back().second;
  }
  ReportHoles(rp, covered_, unreadable);
  manifest_.ranges.push_back(std::move(mr));
  return Status::Ok();
}

Status Splicer::SpliceSegment(const RangePlan& rp, const records::SegmentRow& seg, SharedBuffer buf,
                              const Fmp4File& layout, ManifestRange* mr) {
  if (layout.fragments.empty()) return Status::Ok();
  const Fmp4Track& video = layout.video();
  const uint64_t v0 = layout.VideoTiming(layout.fragments.front())->decode_time;
  const size_t n = layout.fragments.size();
  std::vector<UtcMicros> starts(n), ends(n);
  for (size_t i = 0; i < n; ++i) {
    const TrafTiming* vt = layout.VideoTiming(layout.fragments[i]);
    starts[i] = seg.start + WallOffsetUs(vt->decode_time, v0, video.timescale);
    ends[i] = starts[i] + static_cast<int64_t>(vt->duration) * kMicrosPerSecond / video.timescale;
  }
  // The first fragment wanted is the one holding the requested start, moved back to a
  // fragment that begins with a keyframe; the last is the one holding the requested end.
  size_t first = 0;
  while (first < n && ends[first] <= rp.range.from) ++first;
  if (first == n) return Status::Ok();
  while (first > 0 && !layout.VideoTiming(layout.fragments[first])->starts_with_sync) --first;
  for (size_t i = first; i < n && starts[i] < rp.range.to; ++i) {
    const Fmp4Fragment& frag = layout.fragments[i];
    if (part_ && ends[i] <= part_->end) continue;  // already written (overlapping segments)
    const bool joinable = part_ && part_->signature == layout.signature &&
                          starts[i] - part_->end <= options_.join_tolerance_us;
    if (!joinable) {
      if (!layout.VideoTiming(frag)->starts_with_sync) continue;  // cannot start a file here
      CUSTODIAN_RETURN_IF_ERROR(ClosePart(rp, mr));
      CUSTODIAN_RETURN_IF_ERROR(OpenPart(rp, layout, buf, starts[i]));
    }
    Part& p = *part_;
    std::vector<uint64_t> times(layout.tracks.size(), 0);
    for (const TrafTiming& t : frag.trafs) {
      size_t k = 0;
      while (layout.tracks[k].track_id != t.track_id) ++k;
      const int64_t ts = layout.tracks[k].timescale;
      int64_t out = (seg.start - p.origin) * ts / kMicrosPerSecond +
                    static_cast<int64_t>(t.decode_time) -
                    static_cast<int64_t>(v0) * ts / static_cast<int64_t>(video.timescale);
      out = std::max(out, p.next_time[k]);
      times[k] = static_cast<uint64_t>(out);
      p.next_time[k] = out + static_cast<int64_t>(t.duration);
    }
    std::optional<StepTimer> patching(std::in_place, writer_.steps().parse);
    auto moof = PatchMoof(buf->data(), frag, layout, ++p.sequence, times);
    patching.reset();
    if (!moof.ok()) return moof.status();
    CUSTODIAN_RETURN_IF_ERROR(writer_.Append(p.out, moof->data(), moof->size()));
    CUSTODIAN_RETURN_IF_ERROR(
        writer_.AppendFromSource(p.out, buf, frag.mdat_offset, frag.mdat_size));
    p.end = std::max(p.end, ends[i]);
    if (p.segments.empty() || p.segments.back() != seg.id) p.segments.push_back(seg.id);
    // Cues for the whole seconds the video now reaches; the last part-second at the close.
    CUSTODIAN_RETURN_IF_ERROR(
        WriteWallClock(rp, p, UtcMicros{p.end.us / kMicrosPerSecond * kMicrosPerSecond}));
    CommitUpTo(buf, frag.mdat_offset + frag.mdat_size);
  }
  return Status::Ok();
}

void Splicer::CommitUpTo(const SharedBuffer& buf, size_t end) {
  if (beside_.stream < 0) {
    writer_.Commit();
    return;
  }
  HashRun source{beside_.stream, {}};
  if (end > beside_.hashed) {
    source.pieces.push_back({buf->data() + beside_.hashed, end - beside_.hashed});
    beside_.hashed = end;
  }
  writer_.Commit(std::move(source), buf);
}

Status Splicer::WriteWallClock(const RangePlan& rp, Part& p, UtcMicros upto) {
  if (upto <= p.text_end) return Status::Ok();
  Buffer frag;
  {
    StepTimer timer(writer_.steps().text_track);
    std::vector<TimedTextCue> cues =
        WallClockCues(p.origin, p.text_end, upto, rp.camera_name, zone_);
    p.text_end = upto;
    if (cues.empty()) return Status::Ok();
    frag = TimedTextFragment(++p.sequence, p.text_track, cues);
  }
  return writer_.Append(p.out, frag.data(), frag.size());
}

Status Splicer::OpenPart(const RangePlan& rp, const Fmp4File& layout, const SharedBuffer& buf,
                         UtcMicros origin) {
  std::string stem = WorkingCopyStem(plan_.export_row.id, rp.range.camera_id, origin);
  std::string rel = stem + ".mp4";
  for (int k = 2; !names_used_.insert(rel).second; ++k)
    rel = stem + "_" + std::to_string(k) + ".mp4";
  auto out = writer_.Open(rel);
  if (!out.ok()) return out.status();
  Part p;
  p.out = std::move(out).value();
  p.signature = layout.signature;
  p.video_codec = layout.video_codec;
  p.width = layout.width;
  p.height = layout.height;
  p.origin = origin;
  p.end = origin;
  p.next_time.assign(layout.tracks.size(), 0);
  p.text_end = origin;
  // The recorded header with the wall-clock text track added; the video track's own boxes
  // are copied as they are.
  std::optional<StepTimer> timer(std::in_place, writer_.steps().text_track);
  auto header = AddTimedTextTrack(buf->data(), layout.header_size, layout.width, layout.height,
                                  &p.text_track);
  timer.reset();
  if (!header.ok()) return header.status();
  CUSTODIAN_RETURN_IF_ERROR(writer_.Append(p.out, header->data(), header->size()));
  part_ = std::move(p);
  return Status::Ok();
}

Status Splicer::ClosePart(const RangePlan& rp, ManifestRange* mr) {
  if (!part_) return Status::Ok();
  Part p = std::move(*part_);
  part_.reset();
  CUSTODIAN_RETURN_IF_ERROR(WriteWallClock(rp, p, p.end));
  CUSTODIAN_RETURN_IF_ERROR(writer_.Close(p.out));
  ManifestFile f;
  f.path = p.out.rel;
  f.kind = "video";
  f.bytes = p.out.bytes;
  f.camera_id = rp.range.camera_id;
  f.from = p.origin;
  f.to = p.end;
  f.video_codec = p.video_codec;
  f.width = p.width;
  f.height = p.height;
  f.source_segments = p.segments;
  f.timed_text_track = p.text_track;
  manifest_.files.push_back(f);
  mr->files.push_back(p.out.rel);
  covered_.push_back({p.origin, p.end});
  return Status::Ok();
}

Status Splicer::CopyOriginal(const RangePlan& rp, const records::SegmentRow& seg,
                             const SharedBuffer& buf,
                             const std::shared_future<std::string>& digest) {
  if (!originals_copied_.insert(seg.id).second) return Status::Ok();
  const std::string rel =
      std::string(kMasterDir) + "/" + rp.range.camera_id + "/" + BaseName(seg.path);
  auto out = writer_.Open(rel);
  if (!out.ok()) return out.status();
  CUSTODIAN_RETURN_IF_ERROR(writer_.AppendUnhashed(*out, *buf));
  CUSTODIAN_RETURN_IF_ERROR(writer_.Close(*out, digest));
  ManifestFile f;
  f.path = rel;
  f.kind = "original";
  f.bytes = out->bytes;
  f.camera_id = rp.range.camera_id;
  f.from = seg.start;
  f.to = seg.end;
  f.video_codec = seg.video_codec;
  f.width = seg.width;
  f.height = seg.height;
  f.source_segments = {seg.id};
  manifest_.files.push_back(f);
  return Status::Ok();
}

void Splicer::NoteSegment(const records::SegmentRow& seg, const Fmp4File* layout) {
  for (const ManifestSegment& m : manifest_.segments) {
    if (m.id == seg.id) return;
  }
  ManifestSegment m;
  m.id = seg.id;
  m.camera_id = seg.camera_id;
  m.file_name = BaseName(seg.path);
  m.start = seg.start;
  m.end = seg.end.value_or(seg.start);
  m.bytes = seg.bytes;
  m.sha256 = seg.sha256.value_or("");
  m.clock_synced = seg.clock_synced;
  m.clock_offset_us = seg.clock_offset_us;
  m.video_codec = seg.video_codec;
  m.width = layout && layout->width ? layout->width : seg.width;
  m.height = layout && layout->height ? layout->height : seg.height;
  manifest_.segments.push_back(m);
}

void Splicer::ReportHoles(const RangePlan& rp,
                          const std::vector<std::pair<UtcMicros, UtcMicros>>& covered,
                          const std::map<int64_t, std::string>& unreadable) {
  auto report = [&](UtcMicros from, UtcMicros to) {
    if (to - from <= options_.join_tolerance_us) return;
    std::set<std::string> reasons;
    for (const records::GapRow& g : rp.gaps) {
      if (g.start < to && g.end > from) {
        reasons.insert(std::string("recorded gap: ") + records::Name(g.reason) +
                       (g.detail.empty() ? "" : " (" + g.detail + ")"));
      }
    }
    for (const records::SegmentRow& s : rp.segments) {
      const UtcMicros end = s.end.value_or(s.start + 1);
      if (s.start >= to || end <= from) continue;
      if (unreadable.count(s.id)) reasons.insert(unreadable.at(s.id));
      if (s.state == records::SegmentState::kRecording) reasons.insert("still being recorded");
      if (s.state == records::SegmentState::kDeleting) reasons.insert("being deleted");
    }
    std::string reason;
    for (const std::string& r : reasons) reason += (reason.empty() ? "" : "; ") + r;
    if (reason.empty()) reason = "no footage recorded";
    manifest_.gaps.push_back({rp.range.camera_id, from, to, reason});
  };
  UtcMicros cursor = rp.range.from;
  for (const auto& [from, to] : covered) {
    if (from > cursor) report(cursor, std::min(from, rp.range.to));
    cursor = std::max(cursor, to);
  }
  if (cursor < rp.range.to) report(cursor, rp.range.to);
}

void Splicer::HashSource(const records::SegmentRow& seg, const SharedBuffer& buf, bool now) {
  unhashed_sources_.push_back(
      PendingSource{&seg, HashRun{source_hasher_.Begin(), {{buf->data(), buf->size()}}}, buf});
  if (now || unhashed_sources_.size() == 2) FlushSourceHashes();
}

void Splicer::FlushSourceHashes() {
  if (unhashed_sources_.empty()) return;
  auto keep = std::make_shared<std::vector<SharedBuffer>>();
  for (const PendingSource& p : unhashed_sources_) keep->push_back(p.buf);
  HashRun alongside = unhashed_sources_.size() > 1 ? unhashed_sources_[1].run : HashRun{};
  source_hasher_.Update(keep, {unhashed_sources_[0].run}, std::move(alongside));
  for (const PendingSource& p : unhashed_sources_) {
    sources_[p.row->id] = SourceDigest{p.row, source_hasher_.Finish(p.run.stream).share()};
  }
  unhashed_sources_.clear();
}

Status Splicer::CheckSources() {
  writer_.Commit();
  FlushSourceHashes();
  StepTimer timer(writer_.steps().hash_wait, StepTimer::kWall);
  std::string bad;
  for (auto& [id, src] : sources_) {
    const std::string got = src.digest.get();
    const bool match = got == src.row->sha256.value_or("");
    for (ManifestSegment& m : manifest_.segments) {
      if (m.id == id) m.sha256_verified = match && options_.verify_sources;
    }
    if (!match) {
      bad += (bad.empty() ? "" : ", ") + std::string("segment ") + std::to_string(id) + " (" +
             src.row->path + ")";
    }
  }
  in_flight_.Drain();
  if (!bad.empty()) {
    return DataLoss("source segments no longer match their recorded SHA-256: " + bad +
                    "; run `custodian check --hashes` and do not export until it is understood");
  }
  return Status::Ok();
}

}  // namespace custodian::exports
