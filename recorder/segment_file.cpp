#include "recorder/segment_file.h"

#include <cstdio>

#include "base/log.h"

namespace custodian::recorder {

std::string SegmentRelativePath(const std::string& camera_id, UtcMicros start) {
  std::string compact = FormatUtcCompact(start);  // 20261125T035752Z
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03d",
                static_cast<int>(((start.us % kMicrosPerSecond) + kMicrosPerSecond) %
                                 kMicrosPerSecond / 1000));
  compact.insert(compact.size() - 1, millis);
  return "footage/" + camera_id + "/" + FormatUtcDate(start) + "/" + compact + ".mp4";
}

Result<std::unique_ptr<SegmentFile>> SegmentFile::Open(records::Database& db, Filesystem& fs,
                                                       const std::string& data_dir,
                                                       const SegmentStart& start,
                                                       const std::vector<media::StreamSpec>& streams) {
  std::unique_ptr<SegmentFile> seg(new SegmentFile());
  seg->db_ = &db;
  seg->fs_ = &fs;
  seg->start_ = start;
  const AVCodecParameters* v = streams.at(0).codecpar;
  seg->video_codec_ = media::CodecName(v->codec_id);
  seg->width_ = v->width;
  seg->height_ = v->height;
  if (streams.size() > 1) seg->audio_codec_ = media::CodecName(streams[1].codecpar->codec_id);

  std::string rel = SegmentRelativePath(start.camera_id, start.start);
  seg->abs_path_ = JoinPath(data_dir, rel);
  CUSTODIAN_RETURN_IF_ERROR(fs.CreateDirs(DirName(seg->abs_path_)));

  records::SegmentRow row;
  row.camera_id = start.camera_id;
  row.start = start.start;
  row.path = rel;
  row.video_codec = seg->video_codec_;
  row.width = seg->width_;
  row.height = seg->height_;
  if (!seg->audio_codec_.empty()) row.audio_codec = seg->audio_codec_;
  if (!start.audio_note.empty()) row.audio_note = start.audio_note;
  row.state = records::SegmentState::kRecording;
  row.clock_synced = start.clock_synced;
  row.clock_offset_us = start.clock_offset_us;
  row.run_id = start.run_id;
  auto id = db.BeginSegment(row);
  if (!id.ok()) return id.status();
  seg->id_ = *id;

  auto file = fs.Create(seg->abs_path_);
  if (!file.ok()) return file.status();
  auto writer = media::FragmentedMp4Writer::Open(std::move(file).value(), streams,
                                                 start.fragments);
  if (!writer.ok()) return writer.status();
  seg->writer_ = std::move(writer).value();
  return seg;
}

SegmentFile::~SegmentFile() {
  if (!closed_) {
    Status st = Close();
    if (!st.ok())
      LogError("recorder") << "segment " << id_ << " of camera " << start_.camera_id
                           << " not finalised: " << st.ToString() << "; recovery will finish it";
  }
}

Status SegmentFile::Close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  CUSTODIAN_RETURN_IF_ERROR(writer_->Finish());
  CUSTODIAN_RETURN_IF_ERROR(fs_->SyncDir(DirName(abs_path_)));
  records::SegmentFinish fin;
  fin.end = end();
  fin.bytes = writer_->bytes();
  fin.duration_us = writer_->duration_us();
  fin.sha256 = writer_->sha256();
  fin.video_codec = video_codec_;
  fin.width = width_;
  fin.height = height_;
  if (!audio_codec_.empty()) fin.audio_codec = audio_codec_;
  if (!start_.audio_note.empty()) fin.audio_note = start_.audio_note;
  return db_->FinishSegment(id_, fin);
}

}  // namespace custodian::recorder
