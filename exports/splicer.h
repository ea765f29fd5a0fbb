// Splicer: the first step of BuildPackage, turning each requested camera range into working
// copies without transcoding (docs/design/exports.md, "Splicing without transcoding").
//
// For each range, every complete segment overlapping it is mapped (source_file.h), parsed
// (fmp4.h) and its wanted fragments written into the current part through the PackageWriter:
// the `moof` with its sequence number and decode times rewritten, the `mdat` copied byte for
// byte, and after it the wall-clock text track's cues (timed_text.h). A part closes where
// the init signature changes or the footage has a hole longer than the join tolerance, and
// is listed in the manifest; the range's holes go into the manifest's gaps with their
// reasons; with include_originals each segment is also copied whole into master/.
//
// Each source is also hashed (on its own worker, two at a time, or beside the output) and
// CheckSources compares every digest with the recorded SHA-256: kDataLoss names each one that
// differs. Run: kFailedPrecondition "export cancelled" when cancelled() returns true between
// segments; the writer's errors otherwise. A segment that cannot be mapped or parsed is a gap,
// not an error. Not thread-safe; one Splicer per build, used by the building thread.
#pragma once

#include <cstdint>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/zoneinfo.h"
#include "exports/builder.h"
#include "exports/fmp4.h"
#include "exports/hash_worker.h"
#include "exports/manifest.h"
#include "exports/package_writer.h"
#include "exports/plan.h"
#include "exports/source_file.h"

namespace custodian::exports {

// One output MP4 being spliced.
struct Part {
  OutFile out;
  std::string signature;
  std::string video_codec;
  int width = 0, height = 0;
  UtcMicros origin;                // wall time of media time 0
  UtcMicros end;                   // wall time just past the last fragment written
  std::vector<int64_t> next_time;  // per track: where the next fragment may start
  uint32_t sequence = 0;
  std::vector<int64_t> segments;
  uint32_t text_track = 0;  // the wall-clock timed-text track (timed_text.h)
  UtcMicros text_end;       // wall time up to which its cues are written
};

struct SourceDigest {
  const records::SegmentRow* row = nullptr;
  std::shared_future<std::string> digest;
};

class Splicer {
 public:
  Splicer(const ExportPlan& plan, const std::string& data_dir, PackageWriter& writer,
          const BuildOptions& options, const TimeZone& zone, Manifest& manifest)
      : plan_(plan),
        data_dir_(data_dir),
        writer_(writer),
        options_(options),
        zone_(zone),
        manifest_(manifest),
        total_bytes_(std::max<int64_t>(1, plan.SourceBytes())),
        beside_output_every_(SourcesBesideOutputEvery(options)) {}

  Status Run(const ProgressFn& progress, const CancelFn& cancelled);
  // Waits for the source digests; kDataLoss naming every segment that does not match.
  Status CheckSources();
  double source_hash_cpu_seconds() const { return source_hasher_.cpu_seconds(); }

 private:
  Status RunRange(const RangePlan& rp, const ProgressFn& progress, const CancelFn& cancelled);
  Status SpliceSegment(const RangePlan& rp, const records::SegmentRow& seg, SharedBuffer buf,
                       const Fmp4File& layout, ManifestRange* mr);
  Status OpenPart(const RangePlan& rp, const Fmp4File& layout, const SharedBuffer& buf,
                  UtcMicros origin);
  Status ClosePart(const RangePlan& rp, ManifestRange* mr);
  Status WriteWallClock(const RangePlan& rp, Part& p, UtcMicros upto);
  Status CopyOriginal(const RangePlan& rp, const records::SegmentRow& seg, const SharedBuffer& buf,
                      const std::shared_future<std::string>& digest);
  // Hands the output bytes written since the last call to the output's hash worker, with
  // the source's bytes up to `end` beside them when the source is hashed there.
  void CommitUpTo(const SharedBuffer& buf, size_t end);
  void NoteSegment(const records::SegmentRow& seg, const Fmp4File* layout);
  void HashSource(const records::SegmentRow& seg, const SharedBuffer& buf, bool now);
  void FlushSourceHashes();
  void ReportHoles(const RangePlan& rp, const std::vector<std::pair<UtcMicros, UtcMicros>>& covered,
                   const std::map<int64_t, std::string>& unreadable);

  const ExportPlan& plan_;
  const std::string& data_dir_;
  PackageWriter& writer_;
  const BuildOptions& options_;
  const TimeZone& zone_;
  Manifest& manifest_;
  const int64_t total_bytes_;
  int64_t done_bytes_ = 0;
  InFlight in_flight_{8};
  // Sources not hashed beside the output are hashed on a worker of their own, two segments
  // at a time (SHA-NI runs two independent streams for much less than twice the cost of one);
  // the output's single stream, which cannot be split, runs on the writer's worker with
  // every BuildOptions::sources_beside_output_every-th source beside it.
  HashWorker source_hasher_{"export-hash-src"};
  const int beside_output_every_;  // SourcesBesideOutputEvery(options), fixed for the build
  struct PendingSource {
    const records::SegmentRow* row;
    HashRun run;
    SharedBuffer buf;
  };
  std::vector<PendingSource> unhashed_sources_;
  // The source being spliced when it is hashed beside the output: its stream on the
  // output's worker and how much of it has been handed over, fragment by fragment with the
  // output bytes made from it, so that both streams are hashed in one pass over the same
  // bytes while the writer's buffers are still recycled as the splice goes.
  struct BesideOutput {
    int stream = -1;
    size_t hashed = 0;
  };
  BesideOutput beside_;
  int64_t sources_seen_ = 0;
  std::optional<Part> part_;
  std::vector<std::pair<UtcMicros, UtcMicros>> covered_;  // of the current range
  std::map<int64_t, SourceDigest> sources_;               // by segment id
  std::set<int64_t> originals_copied_;
  std::set<std::string> names_used_;
};

}  // namespace custodian::exports
