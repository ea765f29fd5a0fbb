#include "exports/builder.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

#include "base/log.h"
#include "base/mutex.h"
#include "base/sha256.h"
#include "exports/burned_copy.h"
#include "exports/fmp4.h"
#include "exports/hash_worker.h"
#include "exports/player.h"
#include "exports/readme.h"
#include "exports/timed_text.h"
#include "requests/rules.h"

namespace custodian::exports {

namespace {

using Buffer = std::vector<uint8_t>;

// Adds the time of its scope to a step of BuildSteps: the calling thread's CPU time for work,
// wall time for waits (on the disk, on another thread). On a machine busy with other work a
// thread waits for a core as well, so wall time says little about what a step costs.
class StepTimer {
 public:
  enum Kind { kCpu, kWall };
  explicit StepTimer(double& step, Kind kind = kCpu)
      : step_(step), kind_(kind), start_(Now(kind)) {}
  ~StepTimer() { step_ += static_cast<double>(Now(kind_) - start_) / 1e9; }
  StepTimer(const StepTimer&) = delete;
  StepTimer& operator=(const StepTimer&) = delete;

 private:
  static int64_t Now(Kind kind) {
    if (kind == kCpu) return ThreadCpuNanos();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  double& step_;
  const Kind kind_;
  const int64_t start_;
};

// A source segment's bytes, mapped read-only: the kernel's page cache is read in place, so
// the bytes are copied once (into the output file), as `cp` copies them, while the hash
// workers read the same pages. Segments are complete and held while exported; nothing
// truncates a complete segment (recovery trims only `recording` ones), which a mapping
// needs, since reading a truncated mapping raises SIGBUS.
class MappedFile {
 public:
  static Result<std::unique_ptr<MappedFile>> Open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open " + path, errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus("stat " + path, err);
    }
    std::unique_ptr<MappedFile> m(new MappedFile());
    m->size_ = static_cast<size_t>(st.st_size);
    if (m->size_ > 0) {
      void* p = ::mmap(nullptr, m->size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
      if (p == MAP_FAILED) {
        int err = errno;
        ::close(fd);
        return ErrnoStatus("mmap " + path, err);
      }
      m->data_ = static_cast<const uint8_t*>(p);
      ::madvise(p, m->size_, MADV_SEQUENTIAL);
    }
    ::close(fd);
    return m;
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
  }
  const uint8_t* data() const { return data_ ? data_ : reinterpret_cast<const uint8_t*>(""); }
  size_t size() const { return size_; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

using SharedSource = std::shared_ptr<const MappedFile>;

// Asks the kernel to start reading a segment that will be mapped next, so that on a cold
// cache its reading overlaps the splicing of the one before (a hint; errors are ignored).
void Prefetch(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
  ::close(fd);
}

// Bounds how many source segments are in flight (mapped, and still being hashed): Acquire
// blocks while `limit` are out, so the reader never runs far ahead of the hash workers.
class InFlight {
 public:
  explicit InFlight(int limit) : free_(limit), limit_(limit) {}
  // The returned token releases its slot when the last copy goes.
  std::shared_ptr<void> Acquire() {
    MutexLock lock(mu_);
    lock.Wait(cv_, [this]() REQUIRES(mu_) { return free_ > 0; });
    --free_;
    return std::shared_ptr<void>(nullptr, [this](void*) {
      MutexLock l(mu_);
      ++free_;
      cv_.notify_all();
    });
  }
  void Drain() {
    MutexLock lock(mu_);
    lock.Wait(cv_, [this]() REQUIRES(mu_) { return free_ == limit_; });
  }

 private:
  Mutex mu_;
  std::condition_variable cv_;
  int free_ GUARDED_BY(mu_);
  const int limit_;
};

// A mapped source together with its in-flight slot.
struct Source {
  std::unique_ptr<MappedFile> file;
  std::shared_ptr<void> slot;
  const uint8_t* data() const { return file->data(); }
  size_t size() const { return file->size(); }
};
using SharedBuffer = std::shared_ptr<const Source>;

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// One file of the package being written: appended through the Filesystem seam and hashed
// on the HashWorker.
struct OutFile {
  std::string rel;
  std::unique_ptr<WritableFile> file;
  int stream = 0;
  int64_t bytes = 0;
  int64_t not_written_back = 0;  // appended since the last writeback hint
};

// A durable package is fsynced at the end; asking the kernel to start writing back every
// few tens of megabytes overlaps that disk work with the splicing instead of leaving it
// all for the final fsync.
constexpr int64_t kWritebackEvery = 32 << 20;

// Starts the kernel's writeback of output files on a thread of its own: the call blocks
// while the disk is busy, and the splice should go on meanwhile, so that the disk writes
// the package while it is being made rather than all at the final fsync.
class WritebackWorker {
 public:
  WritebackWorker() : thread_([this] { Loop(); }) {
    pthread_setname_np(thread_.native_handle(), "export-wback");
  }
  ~WritebackWorker() {
    {
      MutexLock lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void Submit(WritableFile* file) {
    MutexLock lock(mu_);
    if (pending_.empty() || pending_.back() != file) pending_.push_back(file);
    cv_.notify_all();
  }
  // Waits until no writeback is pending or running (before a file is closed).
  void Barrier() {
    MutexLock lock(mu_);
    lock.Wait(cv_, [this]() REQUIRES(mu_) { return pending_.empty() && !busy_; });
  }
  double cpu_seconds() const { return static_cast<double>(cpu_ns_.load()) / 1e9; }

 private:
  void Loop() {
    MutexLock lock(mu_);
    for (;;) {
      lock.Wait(cv_, [this]() REQUIRES(mu_) { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;
      WritableFile* file = pending_.front();
      pending_.pop_front();
      busy_ = true;
      lock.Unlock();
      const int64_t before = ThreadCpuNanos();
      file->StartWriteback();
      cpu_ns_ += ThreadCpuNanos() - before;
      lock.Lock();
      busy_ = false;
      cv_.notify_all();
    }
  }

  Mutex mu_;
  std::condition_variable cv_;
  std::deque<WritableFile*> pending_ GUARDED_BY(mu_);
  bool busy_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::atomic<int64_t> cpu_ns_{0};
  std::thread thread_;
};

class PackageWriter {
 public:
  PackageWriter(Filesystem& fs, std::string dir, bool durable)
      : fs_(fs), dir_(std::move(dir)), durable_(durable) {}

  Result<OutFile> Open(const std::string& rel) {
    const std::string abs = JoinPath(dir_, rel);
    const std::string parent = DirName(abs);
    if (dirs_.insert(parent).second) CUSTODIAN_RETURN_IF_ERROR(fs_.CreateDirs(parent));
    auto file = fs_.Create(abs);
    if (!file.ok()) return file.status();
    OutFile out;
    out.rel = rel;
    out.file = std::move(file).value();
    out.stream = hasher_.Begin();
    return out;
  }
  // Writes now; the bytes are hashed with the next Commit (or Close), so that a segment's
  // output pieces go to the hash worker as one item. `keep` owns the bytes until then.
  Status Append(OutFile& f, std::shared_ptr<const void> keep, const uint8_t* data, size_t size) {
    CUSTODIAN_RETURN_IF_ERROR(AppendUnhashed(f, data, size));
    if (staged_runs_.empty() || staged_runs_.back().stream != f.stream) {
      staged_runs_.push_back(HashRun{f.stream, {}});
    }
    staged_runs_.back().pieces.push_back(HashPiece{data, size});
    if (keep && (staged_keep_.empty() || staged_keep_.back() != keep)) {
      staged_keep_.push_back(std::move(keep));
    }
    return Status::Ok();
  }
  // Hands the bytes appended since the last commit to the hash worker, with `alongside`
  // (a source segment, owned by `keep`) hashed in the same pass.
  void Commit(HashRun alongside = {}, std::shared_ptr<const void> keep = nullptr) {
    if (staged_runs_.empty() && alongside.stream < 0) return;
    if (keep) staged_keep_.push_back(std::move(keep));
    auto owners = std::make_shared<std::vector<std::shared_ptr<const void>>>(
        std::move(staged_keep_));
    hasher_.Update(std::move(owners), std::move(staged_runs_), std::move(alongside));
    staged_runs_.clear();
    staged_keep_.clear();
  }
  HashWorker& hasher() { return hasher_; }
  // For a file whose bytes are already being hashed elsewhere (an original segment, whose
  // digest the source check computes anyway): written, not hashed again.
  Status AppendUnhashed(OutFile& f, const uint8_t* data, size_t size) {
    {
      StepTimer timer(steps_.write);
      CUSTODIAN_RETURN_IF_ERROR(f.file->Append(data, size));
    }
    f.bytes += static_cast<int64_t>(size);
    total_bytes_ += static_cast<int64_t>(size);
    f.not_written_back += static_cast<int64_t>(size);
    if (durable_ && f.not_written_back >= kWritebackEvery) {
      writeback_.Submit(f.file.get());
      f.not_written_back = 0;
    }
    return Status::Ok();
  }
  // Closes the file; the digest arrives later (Digest(rel)), from this writer's hashing or
  // from `digest` when given.
  Status Close(OutFile& f, std::optional<std::shared_future<std::string>> digest = {}) {
    Commit();
    {
      StepTimer timer(steps_.fsync, StepTimer::kWall);
      writeback_.Barrier();
      if (durable_) CUSTODIAN_RETURN_IF_ERROR(f.file->Sync());
      CUSTODIAN_RETURN_IF_ERROR(f.file->Close());
    }
    std::shared_future<std::string> own = hasher_.Finish(f.stream).share();
    digests_[f.rel] = digest ? *digest : own;
    return Status::Ok();
  }
  // Writes a small file whole.
  Status WriteSmall(const std::string& rel, const std::string& text) {
    auto f = Open(rel);
    if (!f.ok()) return f.status();
    auto keep = std::make_shared<std::string>(text);
    CUSTODIAN_RETURN_IF_ERROR(
        Append(*f, keep, reinterpret_cast<const uint8_t*>(keep->data()), keep->size()));
    return Close(*f);
  }
  std::string Digest(const std::string& rel) {
    StepTimer timer(steps_.hash_wait, StepTimer::kWall);
    return digests_.at(rel).get();
  }
  Status SyncDirs() {
    if (!durable_) return Status::Ok();
    StepTimer timer(steps_.fsync, StepTimer::kWall);
    for (const std::string& d : dirs_) CUSTODIAN_RETURN_IF_ERROR(fs_.SyncDir(d));
    return fs_.SyncDir(dir_);
  }
  int64_t total_bytes() const { return total_bytes_; }
  const std::string& dir() const { return dir_; }
  BuildSteps& steps() { return steps_; }
  double writeback_cpu_seconds() const { return writeback_.cpu_seconds(); }

 private:
  Filesystem& fs_;
  const std::string dir_;
  const bool durable_;
  HashWorker hasher_{"export-hash-out"};
  std::vector<HashRun> staged_runs_;                     // appended, not yet hashed
  std::vector<std::shared_ptr<const void>> staged_keep_;  // owners of their bytes
  WritebackWorker writeback_;
  std::set<std::string> dirs_;
  std::map<std::string, std::shared_future<std::string>> digests_;
  int64_t total_bytes_ = 0;
  BuildSteps steps_;
};

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
        total_bytes_(std::max<int64_t>(1, plan.SourceBytes())) {}

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
  struct PendingSource {
    const records::SegmentRow* row;
    HashRun run;
    SharedBuffer buf;
  };
  std::vector<PendingSource> unhashed_sources_;
  int64_t sources_seen_ = 0;
  std::optional<Part> part_;
  std::vector<std::pair<UtcMicros, UtcMicros>> covered_;  // of the current range
  std::map<int64_t, SourceDigest> sources_;               // by segment id
  std::set<int64_t> originals_copied_;
  std::set<std::string> names_used_;
};

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
    const int64_t every = std::max<int64_t>(1, options_.sources_beside_output_every);
    const bool beside_output =
        hash_source && !plan_.export_row.include_originals && ++sources_seen_ % every == 0;
    if (hash_source && !beside_output) {
      HashSource(seg, shared, /*now=*/plan_.export_row.include_originals);
    }
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
    if (beside_output) {
      HashRun source{writer_.hasher().Begin(), {{shared->data(), shared->size()}}};
      const int stream = source.stream;
      writer_.Commit(std::move(source), shared);
      sources_[seg.id] = SourceDigest{&seg, writer_.hasher().Finish(stream).share()};
    } else {
      writer_.Commit();
    }
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

int64_t WallOffsetUs(uint64_t t, uint64_t origin, uint32_t timescale) {
  return (static_cast<int64_t>(t) - static_cast<int64_t>(origin)) * kMicrosPerSecond /
         static_cast<int64_t>(timescale);
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
    auto moof_buf = std::make_shared<Buffer>(std::move(moof).value());
    CUSTODIAN_RETURN_IF_ERROR(writer_.Append(p.out, moof_buf, moof_buf->data(), moof_buf->size()));
    CUSTODIAN_RETURN_IF_ERROR(
        writer_.Append(p.out, buf, buf->data() + frag.mdat_offset, frag.mdat_size));
    p.end = std::max(p.end, ends[i]);
    if (p.segments.empty() || p.segments.back() != seg.id) p.segments.push_back(seg.id);
    // Cues for the whole seconds the video now reaches; the last part-second at the close.
    CUSTODIAN_RETURN_IF_ERROR(
        WriteWallClock(rp, p, UtcMicros{p.end.us / kMicrosPerSecond * kMicrosPerSecond}));
  }
  return Status::Ok();
}

Status Splicer::WriteWallClock(const RangePlan& rp, Part& p, UtcMicros upto) {
  if (upto <= p.text_end) return Status::Ok();
  std::shared_ptr<Buffer> frag;
  {
    StepTimer timer(writer_.steps().text_track);
    std::vector<TimedTextCue> cues =
        WallClockCues(p.origin, p.text_end, upto, rp.camera_name, zone_);
    p.text_end = upto;
    if (cues.empty()) return Status::Ok();
    frag = std::make_shared<Buffer>(TimedTextFragment(++p.sequence, p.text_track, cues));
  }
  return writer_.Append(p.out, frag, frag->data(), frag->size());
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
  auto header_buf = std::make_shared<Buffer>(std::move(header).value());
  CUSTODIAN_RETURN_IF_ERROR(
      writer_.Append(p.out, header_buf, header_buf->data(), header_buf->size()));
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
  CUSTODIAN_RETURN_IF_ERROR(writer_.AppendUnhashed(*out, buf->data(), buf->size()));
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
      auto copy = std::make_shared<Buffer>(data, data + size);
      Status st = writer.Append(*out, copy, copy->data(), copy->size());
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
  steps.writeback_cpu = writer.writeback_cpu_seconds();
  BuildResult result;
  result.manifest = std::move(manifest);
  result.manifest_sha256 = Sha256Hex(json);
  result.bytes = writer.total_bytes();
  result.steps = steps;
  return result;
}

}  // namespace custodian::exports
