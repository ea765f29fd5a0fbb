#include "redaction/redactor.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <future>
#include <thread>

#include <opencv2/imgproc.hpp>

#include "base/log.h"
#include "base/sha256.h"
#include "redaction/contact_sheet.h"
#include "redaction/detector.h"
#include "redaction/frame_queue.h"
#include "redaction/mask.h"
#include "redaction/tracker.h"
#include "redaction/video_io.h"

namespace custodian::redaction {
namespace {

constexpr size_t kQueueFrames = 8;
// Frames analysed and waiting for the encoder: enough that a frame with a long detection (a
// thorough scan, dlib on one core) does not leave the encoder idle. ~3 MB each at 1080p.
constexpr size_t kAnalysedQueueFrames = 32;
// Flagged ranges beyond this many get no thumbnail of their own (~230 kB each in memory);
// the record says which ranges are on the sheet.
constexpr size_t kMaxFlaggedThumbnails = 360;

struct Item {
  Frame frame;
  int64_t index = 0;
  std::vector<Packet> audio;
  std::vector<MaskBoxAt> boxes;
};

// The first error of any thread; it closes every queue so that all threads stop.
class RunState {
 public:
  void Fail(Status st) {
    MutexLock lock(mu_);
    if (status_.ok()) status_ = std::move(st);
    failed_ = true;
  }
  bool failed() const { return failed_; }
  Status status() {
    MutexLock lock(mu_);
    return status_;
  }

 private:
  Mutex mu_;
  Status status_ GUARDED_BY(mu_);
  std::atomic<bool> failed_{false};
};

Status SyncPath(const std::string& path, bool dir) {
  int fd = ::open(path.c_str(), (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status::Ok() : ErrnoStatus("fsync " + path, err);
}

std::string DirOf(const std::string& path) {
  std::string d = std::filesystem::path(path).parent_path().string();
  return d.empty() ? "." : d;
}

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json BoxJson(const Box& b) { return {b.x, b.y, b.w, b.h}; }

struct FlagRange {
  int64_t from, to;
  std::string reason;
};

// Flags of one reason at most `gap` frames apart form one range: some are raised at
// detection frames only (a person with no face), and the frames between two of them are as
// doubtful as the two; a reviewer checks one stretch instead of a checkbox per detection.
std::vector<FlagRange> ToRanges(const std::vector<Flag>& flags, int64_t frames, int64_t gap) {
  std::vector<FlagRange> out;
  for (const Flag& f : flags) {
    if (f.frame >= frames) continue;
    bool joined = false;
    for (FlagRange& r : out) {
      if (r.reason == f.reason && f.frame >= r.from && f.frame <= r.to + gap) {
        r.to = std::max(r.to, f.frame);
        joined = true;
        break;
      }
    }
    if (!joined) out.push_back({f.frame, f.frame, f.reason});
  }
  return out;
}

class Pipeline {
 public:
  Pipeline(const std::string& input, const std::string& output, const RedactionOptions& o,
           const ProgressFn& progress)
      : input_(input), output_(output), o_(o), progress_(progress) {}

  Result<RedactionRecord> Run();

 private:
  // Run's steps, in order.
  Status OpenReader(std::unique_ptr<VideoReader>* reader);
  Result<int64_t> PickSubject();
  // The writer on a temporary name beside the output (temp_), and the contact sheet.
  Status OpenOutput(const VideoReader& reader);
  // Decodes, analyses and encodes every frame on their own threads; the first error of any.
  Status Process(VideoReader* reader);
  // The audio after the last frame, the remaining cues and the trailer, then fsync.
  Status FinishOutput();
  // The redaction record (docs/design/redaction.md) of the finished run.
  nlohmann::json RecordJson(const RedactionRecord& rec, int64_t subject_frame, nlohmann::json flags,
                            bool input_has_audio) const;
  void DecodeLoop(VideoReader* reader, BoundedQueue<Item>* out);
  void AnalyseLoop(BoundedQueue<Item>* in, BoundedQueue<Item>* out);
  Status AnalyseOnly();  // keep-subject's first pass
  Status EncodeLoop(BoundedQueue<Item>* in, bool boxes_from_tracker);
  // The review, once the output is complete: the flagged ranges as the record lists them,
  // the first frame of each added to the contact sheet (read back from the output), the
  // sheet written. *flagged_frames counts the frames in all ranges.
  Result<nlohmann::json> Review(int64_t* flagged_frames);
  Status AddSheetFrames(const std::vector<int64_t>& wanted);
  void Analyse(const Item& item);
  double SecondsOf(const AVFrame* f) const { return f->pts * av_q2d(info_.time_base); }
  // Flags of one reason this many frames apart or closer are one range to review: a second
  // (a busy scene's doubts come in stretches, and a reviewer checks stretches, not frames).
  int64_t FlagJoinFrames() const {
    return std::max<int64_t>(p_.detect_every, std::lround(av_q2d(info_.frame_rate)));
  }

  std::string input_, output_, temp_;
  RedactionOptions o_;
  DetectionParams p_;  // o_.detection resolved for the frame rate
  cv::Mat i420_, rgb_;  // the analysis thread's frame in colour
  ProgressFn progress_;
  VideoInfo info_;
  const AVStream* audio_ = nullptr;
  std::unique_ptr<VideoReader> audio_reader_;  // keeps the audio stream alive
  std::unique_ptr<Detectors> detectors_;
  std::unique_ptr<Tracker> tracker_;
  std::unique_ptr<VideoWriter> writer_;
  std::unique_ptr<ContactSheet> sheet_;
  // The outlines of every encoded frame, for thumbnails added after the run.
  struct SheetBoxes {
    std::vector<Box> masks, kept;
  };
  std::vector<SheetBoxes> sheet_boxes_;
  RunState state_;
  std::vector<Packet> trailing_audio_;
  size_t next_cue_ = 0;  // of o_.text_track
  // Writes the text track's cues that start at or before `until_ms` (all: INT64_MAX).
  Status WriteCues(int64_t until_ms);
  std::vector<double> frame_seconds_;
  // keep-subject: frames where the subject is (partly) masked between two frames where it is
  // kept visible: its track was lost there, or another face's mask lies over it. Flagged for
  // review as "subject masked"; `unkept_` holds frames since the subject was last kept.
  void NoteSubject(int64_t index, const FrameMasks& m);
  std::vector<Flag> subject_flags_;
  std::vector<int64_t> unkept_;
  bool subject_seen_ = false;
  int64_t frames_ = 0, frames_masked_ = 0;
};

void Pipeline::NoteSubject(int64_t index, const FrameMasks& m) {
  if (m.kept.empty()) {
    if (subject_seen_) unkept_.push_back(index);
    return;
  }
  subject_seen_ = true;
  for (int64_t f : unkept_) subject_flags_.push_back({f, "subject masked"});
  unkept_.clear();
  bool covered = false;
  for (const Box& k : m.kept) {
    for (const Box& o : m.faces_over) covered = covered || Intersect(k, o).area() > 0;
  }
  if (covered) subject_flags_.push_back({index, "subject masked"});
}

Status Pipeline::OpenReader(std::unique_ptr<VideoReader>* reader) {
  auto r = VideoReader::Open(input_, o_.keep_audio_reason.has_value());
  if (!r.ok()) return r.status();
  *reader = std::move(r).value();
  return Status::Ok();
}

void Pipeline::DecodeLoop(VideoReader* reader, BoundedQueue<Item>* out) {
  for (int64_t index = 0; !state_.failed(); ++index) {
    auto f = reader->Next();
    if (!f.ok()) {
      state_.Fail(f.status());
      break;
    }
    Item item;
    item.audio = reader->TakeAudio();
    if (!*f) {
      trailing_audio_ = std::move(item.audio);
      break;
    }
    item.frame = std::move(f).value();
    item.index = index;
    if (!out->Push(std::move(item))) break;
  }
  out->Close();
}

void Pipeline::Analyse(const Item& item) {
  if (item.index % p_.detect_every != 0) return;
  AVFrame* f = item.frame.get();
  cv::Mat luma(f->height, f->width, CV_8UC1, f->data[0], static_cast<size_t>(f->linesize[0]));
  // The face network wants colour: the planes copied into one I420 image, converted.
  int w = f->width, h = f->height, cw = (w + 1) / 2, ch = (h + 1) / 2;
  i420_.create(h + h / 2, w, CV_8UC1);  // I420: Y, then U and V of a quarter each
  for (int y = 0; y < h; ++y) std::memcpy(i420_.ptr(y), f->data[0] + y * f->linesize[0], static_cast<size_t>(w));
  uint8_t* u = i420_.ptr(h);
  uint8_t* v = u + static_cast<size_t>(cw) * ch;
  for (int y = 0; y < ch; ++y) {
    std::memcpy(u + static_cast<size_t>(y) * cw, f->data[1] + y * f->linesize[1], static_cast<size_t>(cw));
    std::memcpy(v + static_cast<size_t>(y) * cw, f->data[2] + y * f->linesize[2], static_cast<size_t>(cw));
  }
  if (w % 2 == 0 && h % 2 == 0) {
    cv::cvtColor(i420_, rgb_, cv::COLOR_YUV2RGB_I420);
  } else {
    // Odd sizes: OpenCV's converter needs even ones; grey is enough for the odd edge case.
    cv::cvtColor(luma, rgb_, cv::COLOR_GRAY2RGB);
  }
  auto found = detectors_->Detect(luma, rgb_, item.index, tracker_->LiveBoxes(item.index));
  if (detectors_->last_was_cut()) tracker_->Cut(item.index);
  tracker_->Add(item.index, std::move(found));
}

void Pipeline::AnalyseLoop(BoundedQueue<Item>* in, BoundedQueue<Item>* out) {
  std::deque<Item> pending;
  size_t lookahead = static_cast<size_t>(tracker_->Lookahead());
  auto emit = [&]() {
    Item item = std::move(pending.front());
    pending.pop_front();
    item.boxes = tracker_->BoxesAt(item.index);
    return out->Push(std::move(item));
  };
  bool open = true;
  while (open) {
    auto item = in->Pop();
    if (!item) break;
    try {
      Analyse(*item);
    } catch (const std::exception& e) {
      state_.Fail(Internal(std::string("detection failed: ") + e.what()));
      break;
    }
    pending.push_back(std::move(*item));
    while (pending.size() > lookahead && open) open = emit();
  }
  while (!pending.empty() && open && !state_.failed()) open = emit();
  out->Close();
  in->Close();
}

Status Pipeline::AnalyseOnly() {
  std::unique_ptr<VideoReader> reader;
  CUSTODIAN_RETURN_IF_ERROR(OpenReader(&reader));
  BoundedQueue<Item> decoded(kQueueFrames);
  std::thread decoder([&] { DecodeLoop(reader.get(), &decoded); });
  int64_t total = info_.estimated_frames;
  while (auto item = decoded.Pop()) {
    try {
      Analyse(*item);
    } catch (const std::exception& e) {
      state_.Fail(Internal(std::string("detection failed: ") + e.what()));
      break;
    }
    frame_seconds_.push_back(SecondsOf(item->frame.get()));
    // The analysis is the first half of the work in this mode.
    if (progress_) progress_(item->index / 2, total);
  }
  decoded.Close();
  decoder.join();
  return state_.status();
}

Status Pipeline::EncodeLoop(BoundedQueue<Item>* in, bool boxes_from_tracker) {
  int64_t total = info_.estimated_frames;
  while (auto item = in->Pop()) {
    if (state_.failed()) break;
    AVFrame* f = item->frame.get();
    for (Packet& a : item->audio) {
      Status st = writer_->WriteAudio(a.get());
      if (!st.ok()) return st;
    }
    if (boxes_from_tracker) item->boxes = tracker_->BoxesAt(item->index);
    double t = SecondsOf(f);
    FrameMasks m = ComposeMasks(o_, item->boxes, t);
    ApplyMasks(f, o_, m);
    if (o_.mode == Mode::kKeepSubject) NoteSubject(item->index, m);
    if (!m.masks.empty() || m.outside_region) ++frames_masked_;
    if (sheet_) {
      if (sheet_->Wants(item->index)) sheet_->Add(item->index, t, f, m.masks, m.kept);
      sheet_boxes_.push_back({m.masks, m.kept});
    }
    Status st = WriteCues(static_cast<int64_t>(std::floor(t * 1000)));
    if (st.ok()) st = writer_->WriteFrame(f);
    if (!st.ok()) return st;
    ++frames_;
    if (progress_) {
      int64_t done = o_.mode == Mode::kKeepSubject ? (total + frames_) / 2 : frames_;
      progress_(done, total);
    }
  }
  return state_.status();
}

Status Pipeline::WriteCues(int64_t until_ms) {
  if (!o_.text_track) return Status::Ok();
  const std::vector<TextCue>& cues = o_.text_track->cues;
  for (; next_cue_ < cues.size() && cues[next_cue_].start_ms <= until_ms; ++next_cue_) {
    CUSTODIAN_RETURN_IF_ERROR(writer_->WriteText(cues[next_cue_]));
  }
  return Status::Ok();
}

// keep-subject: the first pass over the whole input, then the subject marked in the frame
// shown at o_.subject->at_s; returns that frame's index.
Result<int64_t> Pipeline::PickSubject() {
  CUSTODIAN_RETURN_IF_ERROR(AnalyseOnly());
  int64_t frame = 0;
  while (frame + 1 < static_cast<int64_t>(frame_seconds_.size()) &&
         frame_seconds_[frame + 1] <= o_.subject->at_s + 1e-6) {
    ++frame;
  }
  if (tracker_->MarkSubject(frame, o_.subject->box) == 0) {
    return FailedPrecondition("no face or person was found in the subject box at " +
                              std::to_string(o_.subject->at_s) +
                              " s; pick the subject at another moment or draw a larger box");
  }
  return frame;
}

Status Pipeline::OpenOutput(const VideoReader& reader) {
  temp_ = output_ + ".partial-" + std::to_string(::getpid());
  auto writer = VideoWriter::Open(temp_, info_, reader.audio_stream(),
                                  o_.text_track ? &*o_.text_track : nullptr);
  if (!writer.ok()) {
    std::error_code ec;
    std::filesystem::remove(temp_, ec);
    return writer.status();
  }
  writer_ = std::move(writer).value();
  if (!o_.contact_sheet_path.empty()) {
    int count = o_.contact_sheet_frames > 0 ? o_.contact_sheet_frames
                                            : ContactSheetFrames(info_.duration_s);
    sheet_ = std::make_unique<ContactSheet>(count, info_.estimated_frames);
  }
  return Status::Ok();
}

Status Pipeline::Process(VideoReader* reader) {
  BoundedQueue<Item> decoded(kQueueFrames), analysed(kAnalysedQueueFrames);
  std::thread decoder([&] { DecodeLoop(reader, &decoded); });
  std::thread analyser;
  bool two_pass = o_.mode == Mode::kKeepSubject;
  if (!two_pass) analyser = std::thread([&] { AnalyseLoop(&decoded, &analysed); });
  Status run = EncodeLoop(two_pass ? &decoded : &analysed, two_pass);
  if (!run.ok()) state_.Fail(run);
  decoded.Close();
  analysed.Close();
  decoder.join();
  if (analyser.joinable()) analyser.join();
  return state_.status();
}

Status Pipeline::FinishOutput() {
  for (Packet& a : trailing_audio_) CUSTODIAN_RETURN_IF_ERROR(writer_->WriteAudio(a.get()));
  CUSTODIAN_RETURN_IF_ERROR(WriteCues(INT64_MAX));
  CUSTODIAN_RETURN_IF_ERROR(writer_->Finish());
  if (frames_ == 0) return DataLoss(input_ + " has no video frames");
  return SyncPath(temp_, false);
}

Result<RedactionRecord> Pipeline::Run() {
  auto start = std::chrono::steady_clock::now();
  CUSTODIAN_RETURN_IF_ERROR(ValidateOptions(o_));
  std::error_code ec;
  if (std::filesystem::exists(output_, ec)) {
    return AlreadyExists(output_ + " exists already; choose another output name");
  }
  std::unique_ptr<VideoReader> reader;
  CUSTODIAN_RETURN_IF_ERROR(OpenReader(&reader));
  info_ = reader->info();
  p_ = ResolveForFrameRate(o_.detection, av_q2d(info_.frame_rate));
  auto detectors = Detectors::Load(o_, p_, info_.width, info_.height);
  if (!detectors.ok()) return detectors.status();
  detectors_ = std::move(detectors).value();
  tracker_ = std::make_unique<Tracker>(p_, info_.width, info_.height);
  if (o_.keep_audio_reason && !reader->audio_stream()) {
    LogWarn("redaction") << "--keep-audio given but the input has no audio";
  }
  auto input_hash = std::async(std::launch::async, [&] { return Sha256File(input_); });

  int64_t subject_frame = -1;
  if (o_.mode == Mode::kKeepSubject) {
    auto picked = PickSubject();
    if (!picked.ok()) return picked.status();
    subject_frame = *picked;
  }
  CUSTODIAN_RETURN_IF_ERROR(OpenOutput(*reader));
  Status run = Process(reader.get());
  if (run.ok()) run = FinishOutput();
  auto output_hash = run.ok() ? Sha256File(temp_) : Result<std::string>(run);
  auto in_hash = input_hash.get();
  if (run.ok() && !output_hash.ok()) run = output_hash.status();
  if (run.ok() && !in_hash.ok()) run = in_hash.status();
  if (run.ok() && ::rename(temp_.c_str(), output_.c_str()) != 0) {
    run = ErrnoStatus("rename to " + output_, errno);
  }
  if (!run.ok()) {
    std::filesystem::remove(temp_, ec);
    return run;
  }
  CUSTODIAN_RETURN_IF_ERROR(SyncPath(DirOf(output_), true));

  int64_t flagged = 0;
  auto flags = Review(&flagged);
  if (!flags.ok()) return flags.status();

  RedactionRecord rec;
  rec.input_sha256 = *in_hash;
  rec.output_sha256 = *output_hash;
  rec.frames = frames_;
  rec.frames_masked = frames_masked_;
  rec.frames_flagged = flagged;
  rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rec.json =
      RecordJson(rec, subject_frame, std::move(flags).value(), reader->audio_stream() != nullptr);
  LogInfo("redaction") << "redacted " << frames_ << " frames (" << frames_masked_ << " masked, "
                       << flagged << " flagged for review) in " << rec.seconds << " s";
  return rec;
}

nlohmann::json Pipeline::RecordJson(const RedactionRecord& rec, int64_t subject_frame,
                                    nlohmann::json flags, bool input_has_audio) const {
  const DetectionParams& p = p_;
  nlohmann::json manual = nlohmann::json::array();
  for (const ManualRegion& r : o_.manual) {
    manual.push_back({{"box", BoxJson(r.box)}, {"from_s", r.from_s}, {"to_s", r.to_s}});
  }
  nlohmann::json j;
  j["record"] = "custodian-redaction";
  j["version"] = 1;
  j["created"] = UtcNow();
  j["input"] = {{"file", std::filesystem::path(input_).filename().string()},
                {"sha256", rec.input_sha256}, {"codec", info_.codec},
                {"width", info_.width}, {"height", info_.height},
                {"duration_s", info_.duration_s}};
  j["output"] = {{"file", std::filesystem::path(output_).filename().string()},
                 {"sha256", rec.output_sha256}, {"codec", "h264"},
                 {"encoder", "libx264 preset veryfast crf 23"}, {"frames", frames_},
                 {"frame_rate", av_q2d(info_.frame_rate)}};
  if (o_.text_track) {
    j["output"]["timed_text"] = {{"format", "mov_text (MP4 tx3g)"},
                                 {"cues", o_.text_track->cues.size()}};
  }
  j["mode"] = ModeName(o_.mode);
  j["style"] = MaskStyleName(o_.style);
  if (o_.subject) {
    j["subject"] = {{"box", BoxJson(o_.subject->box)}, {"at_s", o_.subject->at_s},
                    {"frame", subject_frame}};
  }
  if (o_.region) j["region"] = BoxJson(*o_.region);
  j["manual_regions"] = manual;
  j["audio"] = o_.keep_audio_reason ? nlohmann::json{{"kept", audio_ != nullptr || input_has_audio},
                                                     {"reason", *o_.keep_audio_reason}}
                                    : nlohmann::json{{"kept", false}};
  j["detectors"] = detectors_->Describe();
  j["parameters"] = {{"detect_every", p.detect_every}, {"min_face_px", p.min_face_px},
                     {"net_face_px", p.net_face_px}, {"max_upscale", p.max_upscale},
                     {"face_score", p.face_score}, {"max_tiles", p.max_tiles},
                     {"sweep_frames", p.sweep_frames}, {"tiles_per_second", p.tiles_per_second},
                     {"max_tiles_per_detect", p.max_tiles_per_detect}, {"use_haar", p.use_haar},
                     {"haar_min_neighbors", p.haar_min_neighbors}, {"motion_width", p.motion_width},
                     {"margin", p.margin}, {"margin_px", p.margin_px}, {"hold_frames", p.hold_frames},
                     {"pre_frames", p.pre_frames}, {"post_frames", p.post_frames},
                     {"mask_people", o_.mask_people}, {"flag_join_frames", FlagJoinFrames()}};
  j["tracks"] = {{"faces", tracker_->face_tracks()},
                 {"people", tracker_->person_tracks()},
                 {"face_positions_from_motion", tracker_->motion_followed()},
                 {"doubtful_face_detections_not_masked", tracker_->doubtful_unlinked()}};
  j["frames"] = {{"total", frames_}, {"masked", frames_masked_}, {"flagged", rec.frames_flagged}};
  j["flagged"] = std::move(flags);
  if (sheet_) {
    j["contact_sheet"] = std::filesystem::path(o_.contact_sheet_path).filename().string();
  }
  j["reviewer"] = o_.reviewer.empty() ? nlohmann::json(nullptr) : nlohmann::json(o_.reviewer);
  j["signed_off_at"] = o_.signed_off ? nlohmann::json(UtcNow()) : nlohmann::json(nullptr);
  return j;
}

Result<nlohmann::json> Pipeline::Review(int64_t* flagged_frames) {
  std::vector<Flag> all_flags = tracker_->Flags();
  all_flags.insert(all_flags.end(), subject_flags_.begin(), subject_flags_.end());
  std::sort(all_flags.begin(), all_flags.end(),
            [](const Flag& a, const Flag& b) { return a.frame < b.frame; });
  std::vector<FlagRange> ranges = ToRanges(all_flags, frames_, FlagJoinFrames());
  std::sort(ranges.begin(), ranges.end(),
            [](const FlagRange& a, const FlagRange& b) { return a.from < b.from; });
  if (sheet_) {
    std::vector<int64_t> wanted;
    for (const FlagRange& r : ranges) {
      const bool again = !wanted.empty() && wanted.back() == r.from;
      if (!sheet_->Has(r.from) && !again && wanted.size() < kMaxFlaggedThumbnails) {
        wanted.push_back(r.from);
      }
    }
    CUSTODIAN_RETURN_IF_ERROR(AddSheetFrames(wanted));
  }
  nlohmann::json flags = nlohmann::json::array();
  const double fps = av_q2d(info_.frame_rate);
  *flagged_frames = 0;
  for (size_t k = 0; k < ranges.size(); ++k) {
    const FlagRange& r = ranges[k];
    *flagged_frames += r.to - r.from + 1;
    const bool shown = sheet_ && sheet_->Has(r.from);
    flags.push_back({{"from_frame", r.from}, {"to_frame", r.to}, {"from_s", r.from / fps},
                     {"to_s", r.to / fps}, {"reason", r.reason}, {"on_contact_sheet", shown}});
    if (!sheet_) continue;
    for (int64_t f = r.from; f <= r.to; ++f) sheet_->MarkFlagged(f);
    sheet_->LabelFlagged(r.from, "flagged " + std::to_string(k + 1) + ": frames " +
                                     std::to_string(r.from) + "-" + std::to_string(r.to));
  }
  if (sheet_) CUSTODIAN_RETURN_IF_ERROR(sheet_->Write(o_.contact_sheet_path));
  return flags;
}

// Reads the finished output again up to the last wanted frame: the thumbnails show what
// will be disclosed, outlined with the masks that were applied to each frame.
Status Pipeline::AddSheetFrames(const std::vector<int64_t>& wanted) {
  if (wanted.empty()) return Status::Ok();
  const int64_t last = *std::max_element(wanted.begin(), wanted.end());
  auto reader = VideoReader::Open(output_, false);
  if (!reader.ok()) return reader.status();
  const double tb = av_q2d((*reader)->info().time_base);
  size_t next = 0;  // wanted is in frame order
  for (int64_t index = 0; index <= last && next < wanted.size(); ++index) {
    auto f = (*reader)->Next();
    if (!f.ok()) return f.status();
    if (!*f || index >= static_cast<int64_t>(sheet_boxes_.size())) break;
    if (index != wanted[next]) continue;
    const SheetBoxes& boxes = sheet_boxes_[static_cast<size_t>(index)];
    sheet_->Add(index, (*f)->pts * tb, f->get(), boxes.masks, boxes.kept);
    ++next;
  }
  return Status::Ok();
}

}  // namespace

Result<RedactionRecord> RedactVideo(const std::string& input, const std::string& output,
                                    const RedactionOptions& options, const ProgressFn& progress) {
  Pipeline p(input, output, options, progress);
  return p.Run();
}

Status WriteRecordFile(const std::string& path, const nlohmann::json& record, Filesystem& fs) {
  return WriteFileAtomically(fs, path, record.dump(2) + "\n");
}

}  // namespace custodian::redaction
