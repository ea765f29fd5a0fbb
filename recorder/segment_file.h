// SegmentFile: the lifecycle of one recorded segment, in the order that survives a crash
// (docs/design/recording.md):
//   1. Open: a row is inserted in state `recording`, then the file is created and the MP4
//      header written.
//   2. Write: packets are appended; each GOP reaches the kernel as one fragment.
//   3. Close: trailer written, file fsynced, directory fsynced, then the row is finalised
//      (end time, bytes, duration, codec, resolution, SHA-256) in state `complete`.
// A crash between 1 and 3 leaves a `recording` row, which recovery finishes from the file.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/filesystem.h"
#include "media/fmp4_writer.h"
#include "records/database.h"

namespace custodian::recorder {

struct SegmentStart {
  std::string camera_id;
  UtcMicros start;                 // wall-clock UTC of the first packet
  int64_t first_pts_us = 0;        // stream (presentation) time of the first packet
  std::optional<int64_t> run_id;
  bool clock_synced = false;
  std::optional<int64_t> clock_offset_us;
  std::string audio_note;          // why the camera's audio is not in the file, if it is not
  media::FragmentOptions fragments;  // fragment length limit and first fragment number
};

class SegmentFile {
 public:
  // The file goes under <data_dir>/footage/; the row's path is relative to data_dir.
  static Result<std::unique_ptr<SegmentFile>> Open(records::Database& db, Filesystem& fs,
                                                   const std::string& data_dir,
                                                   const SegmentStart& start,
                                                   const std::vector<media::StreamSpec>& streams);
  ~SegmentFile();

  Status Write(const AVPacket& pkt) { return writer_->Write(pkt); }
  // Finishes the file and the row. After an error the row stays `recording` for recovery.
  Status Close();

  const SegmentStart& start() const { return start_; }
  int64_t id() const { return id_; }
  const std::string& abs_path() const { return abs_path_; }
  int64_t duration_us() const { return writer_->duration_us(); }
  uint64_t bytes() const { return writer_->bytes(); }
  UtcMicros end() const { return start_.start + writer_->duration_us(); }
  // The number the next file's first fragment takes to continue this file's sequence
  // (final once closed).
  uint32_t next_fragment_number() const { return writer_->next_fragment_number(); }

 private:
  SegmentFile() = default;
  records::Database* db_ = nullptr;
  Filesystem* fs_ = nullptr;
  std::string abs_path_;
  SegmentStart start_;
  int64_t id_ = 0;
  std::string video_codec_, audio_codec_;
  int width_ = 0, height_ = 0;
  std::unique_ptr<media::FragmentedMp4Writer> writer_;
  bool closed_ = false;
};

// "footage/lobby/2026-11-25/20261125T035752.123Z.mp4": where a segment starting at `start`
// lives, relative to the data directory.
std::string SegmentRelativePath(const std::string& camera_id, UtcMicros start);

}  // namespace custodian::recorder
