#include "recorder/camera_recorder.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <vector>

#include "activity/activity_file.h"
#include "activity/day_digest.h"
#include "activity/indexer.h"
#include "base/log.h"
#include "media/fmp4_writer.h"
#include "media/keyframe_inspector.h"
#include "media/rtsp/certificate_pin.h"

extern "C" {
#include <libavutil/mathematics.h>
}

namespace custodian::recorder {

namespace {

constexpr AVRational kMicros{1, 1'000'000};
// How often the camera's status row is refreshed while it records.
constexpr int64_t kStatusIntervalUs = 5 * kMicrosPerSecond;
// How often a changing note on untimeable frames is logged and its alarm refreshed: a
// camera that misbehaves every GOP must not write a log line and an alarm every GOP.
constexpr int64_t kTimingNoteIntervalUs = 60 * kMicrosPerSecond;

}  // namespace

struct CameraRecorder::Session {
  std::unique_ptr<CameraSource> source;
  int video_in = -1;
  int audio_in = -1;  // -1: no audio recorded
  std::vector<media::StreamSpec> specs;  // [0] points at video_par
  media::CodecParameters video_par;       // updated when a keyframe brings new parameters
  std::unique_ptr<media::KeyframeInspector> inspector;
  std::unique_ptr<SegmentFile> segment;
  // Builds each segment's activity index from the frames written (null when off).
  std::unique_ptr<activity::ActivityIndexer> indexer;
  std::optional<int64_t> run_id;
  // Wall clock anchored at the first packet of the session (or after a discontinuity),
  // and that packet's presentation time: segments start at their first keyframe's.
  UtcMicros wall_anchor{};
  int64_t pts_anchor_us = 0;
  // What the source said last about timestamps it could not use, and when it was last
  // logged and put in the alarm.
  std::string timing_note;
  std::optional<MonoMicros> timing_recorded;
  bool anchored = false;
  // When the connection was made: the first packet arrived about then.
  std::optional<UtcMicros> connected_wall;
  int64_t last_video_dts_us = std::numeric_limits<int64_t>::min();
  // The fragments of one session are numbered as one sequence across its segment files,
  // so that live view can number them stably (docs/design/recording.md).
  uint32_t next_fragment_number = 1;
  // The wall time of the last picture taken from the sub stream (ActivityHandOff).
  std::optional<UtcMicros> last_handed_at;
};

CameraRecorder::CameraRecorder(CameraSettings settings, records::Database& db, Filesystem& fs,
                               const Clock& clock, std::string data_dir, ActivityHandOff hand_off)
    : settings_(std::move(settings)),
      db_(db),
      fs_(fs),
      clock_(clock),
      data_dir_(std::move(data_dir)),
      hand_off_(std::move(hand_off)) {}

CameraRecorder::~CameraRecorder() { Stop(); }

void CameraRecorder::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void CameraRecorder::RequestStop() {
  stop_ = true;
  MutexLock l(wait_mu_);
  wait_cv_.notify_all();
}

void CameraRecorder::Stop() {
  RequestStop();
  if (thread_.joinable()) thread_.join();
}

CameraCounters CameraRecorder::Counters() const {
  MutexLock l(counters_mu_);
  return counters_;
}

void CameraRecorder::WaitBackoff(int64_t us) {
  MutexLock l(wait_mu_);
  l.WaitFor(wait_cv_, std::chrono::microseconds(us), [this] { return stop_.load(); });
}

// Finds how the previous run of this camera ended, so that the first gap of this run has
// the right reason: a run with an end was stopped cleanly; one without was cut by a crash.
void CameraRecorder::ResolvePreviousRun() {
  auto last = db_.LastRun(settings_.id);
  if (!last.ok() || !last->has_value()) return;
  const records::RunRow& run = **last;
  if (run.end.has_value()) {
    last_end_ = *run.end;
    gap_reason_ = records::GapReason::kRecorderStopped;
    return;
  }
  auto segs = db_.ListSegments(settings_.id, run.start, UtcMicros{std::numeric_limits<int64_t>::max()});
  UtcMicros end = run.start;
  if (segs.ok()) {
    for (const auto& s : *segs) end = std::max(end, s.end.value_or(s.start));
  }
  Status st = db_.EndRun(run.id, end);
  if (!st.ok()) LogWarn("recorder") << "camera " << settings_.id << ": ending crashed run: " << st.ToString();
  last_end_ = end;
  gap_reason_ = records::GapReason::kCrash;
}

records::GapReason CameraRecorder::GapReasonFor(Outcome outcome) {
  switch (outcome) {
    case Outcome::kStalled: return records::GapReason::kStall;
    case Outcome::kAuthFailed: return records::GapReason::kAuthFailed;
    case Outcome::kError: return records::GapReason::kError;
    default: return records::GapReason::kCameraOffline;
  }
}

void CameraRecorder::Run() {
  ResolvePreviousRun();
  int64_t backoff = settings_.backoff_min_us;
  while (!stop_) {
    std::string error;
    Outcome outcome = RecordSession(&error);
    if (stop_) break;
    gap_reason_ = GapReasonFor(outcome);
    {
      MutexLock l(counters_mu_);
      ++counters_.reconnects;
    }
    PublishStatus(false, error, true);
    // A log line only when the failure changes, so a camera down for a week logs once.
    if (error != last_logged_error_) {
      LogWarn("recorder") << "camera " << settings_.id << " offline: " << error
                          << "; reconnecting with backoff up to "
                          << settings_.backoff_max_us / kMicrosPerSecond << " s";
      last_logged_error_ = error;
    }
    if (outcome == Outcome::kEnded || outcome == Outcome::kStalled) {
      // The camera was streaming: a fresh failure starts the backoff over, before this
      // wait (not after it), or a drop after a long outage waited the outage's backoff.
      backoff = settings_.backoff_min_us;
    }
    WaitBackoff(backoff);
    backoff = std::min(backoff * 2, settings_.backoff_max_us);
  }
  CloseDayDigest();
  PublishStatus(false, "recorder stopped", true);
  CameraCounters c = Counters();
  LogInfo("recorder") << "camera " << settings_.id << " stopped: " << c.video_frames << " frames, "
                      << c.media_bytes << " media bytes received, " << c.bytes_written
                      << " bytes written (ratio "
                      << (c.media_bytes > 0 ? static_cast<double>(c.bytes_written) / c.media_bytes
                                            : 0.0)
                      << "), " << c.segments << " segments, " << c.reconnects
                      << " reconnects; activity pictures: " << c.activity_decoded << " decoded, "
                      << c.activity_handed << " from the sub stream";
}

Status CameraRecorder::CheckCertificate(const media::rtsp::PeerCertificate& certificate) {
  const std::string& sha256 = certificate.sha256;
  const std::string path = media::rtsp::CertificatePinPath(data_dir_, settings_.id);
  auto check = media::rtsp::CheckCertificate(fs_, path, certificate, clock_.Now());
  if (!check.ok()) return Unavailable("the camera's certificate pin: " + check.status().message());
  const std::string kind = std::string(kCertificateAlarmPrefix) + settings_.id;
  switch (*check) {
    case media::rtsp::PinCheck::kFirstUse:
      LogInfo("recorder") << "camera " << settings_.id
                          << ": TLS certificate pinned on first use, SHA-256 " << sha256;
      CheckCertificateExpiry(certificate);
      return Status::Ok();
    case media::rtsp::PinCheck::kMatches:
      if (!certificate_alarm_.empty()) {
        Status cleared = db_.ClearAlarm(kind);
        if (!cleared.ok())
          LogWarn("recorder") << "camera " << settings_.id << ": " << cleared.ToString();
        certificate_alarm_.clear();
      }
      CheckCertificateExpiry(certificate);
      return Status::Ok();
    case media::rtsp::PinCheck::kChanged:
      break;
  }
  const std::string message = std::string(kCertificateChangedMessage) +
                              " (it now presents SHA-256 " + sha256 +
                              "): recording is stopped until an admin accepts the new "
                              "certificate on the Cameras page";
  if (certificate_alarm_ != sha256) {
    auto raised = db_.RaiseAlarm(kind, message);
    if (!raised.ok())
      LogError("recorder") << "camera " << settings_.id
                           << ": certificate alarm not recorded: " << raised.status().ToString();
    certificate_alarm_ = sha256;
  }
  return PermissionDenied(message);
}

void CameraRecorder::CheckCertificateExpiry(const media::rtsp::PeerCertificate& certificate) {
  std::string message;
  const UtcMicros now = clock_.Now();
  if (certificate.not_after &&
      *certificate.not_after - now <= media::rtsp::kCertificateExpiryWarningUs) {
    const std::string when = FormatUtc(*certificate.not_after);
    message = *certificate.not_after <= now
                  ? "the pinned TLS certificate expired at " + when
                  : "the pinned TLS certificate expires at " + when + ", in " +
                        std::to_string((*certificate.not_after - now) / kMicrosPerDay) + " day(s)";
    message += " (SHA-256 " + certificate.sha256 +
               "); recording goes on, since the pin is what is trusted. Renew the "
               "certificate on the camera, then accept the new one on the Cameras page";
  }
  if (expiry_alarm_ == message) return;
  const std::string kind = std::string(kCertificateExpiryAlarmPrefix) + settings_.id;
  Status st = message.empty() ? db_.ClearAlarm(kind) : db_.RaiseAlarm(kind, message).status();
  if (!st.ok()) {
    LogWarn("recorder") << "camera " << settings_.id
                        << ": certificate expiry alarm not recorded: " << st.ToString();
    return;
  }
  if (!message.empty()) LogWarn("recorder") << "camera " << settings_.id << ": " << message;
  expiry_alarm_ = message;
}

Status CameraRecorder::OpenSource(Session& s, std::string* error, Outcome* outcome) {
  std::vector<bool> tcp;
  switch (settings_.transport) {
    case Transport::kTcp: tcp = {true}; break;
    case Transport::kUdp: tcp = {false}; break;
    case Transport::kAuto: tcp = {true, false}; break;
  }
  // rtsps:// goes through the TCP client alone, where its certificate is pinned.
  if (settings_.url.rfind("rtsps://", 0) == 0) tcp = {true};
  Status last = Unavailable("stopped");
  for (bool over_tcp : tcp) {
    if (stop_) break;
    SourceRequest req{settings_.url,
                      settings_.username,
                      settings_.password,
                      over_tcp,
                      settings_.connect_timeout_us,
                      &stop_,
                      settings_.allow_basic_auth,
                      [this](const media::rtsp::PeerCertificate& certificate) {
                        return CheckCertificate(certificate);
                      }};
    SourceEnd end = SourceEnd::kNone;
    auto source = OpenCameraSource(req, &end);
    if (source.ok()) {
      s.source = std::move(source).value();
      s.connected_wall = clock_.Now() - s.source->startup_delay_us();
      return Status::Ok();
    }
    if (end == SourceEnd::kBasicRefused && !over_tcp && tcp.size() > 1) {
      // transport auto: TCP failed for another reason; that is the error to show.
      last = Status(last.kind(), last.message() + "; not retried over UDP: " + source.status().message());
      break;
    }
    last = source.status();
    if (end == SourceEnd::kCertificateChanged) {
      *outcome = Outcome::kError;
      *error = last.message();
      return last;
    }
    if (end == SourceEnd::kBasicRefused) {
      // Not over UDP either: libavformat would answer the Basic challenge.
      *outcome = Outcome::kAuthFailed;
      *error = last.message();
      return last;
    }
    if (end == SourceEnd::kAuthFailed) {
      *outcome = Outcome::kAuthFailed;
      *error = settings_.password_withheld.empty()
                   ? "authentication failed (check username and password file)"
                   : "authentication failed: " + settings_.password_withheld;
      return last;
    }
  }
  *outcome = Outcome::kRefused;
  *error = last.message();
  return last;
}

CameraRecorder::Outcome CameraRecorder::RecordSession(std::string* error) {
  Session s;
  Outcome outcome = Outcome::kError;
  if (!OpenSource(s, error, &outcome).ok()) return stop_ ? Outcome::kStopped : outcome;

  CameraSource& src = *s.source;
  s.video_in = src.video_stream();
  if (s.video_in < 0) {
    *error = "the stream has no H.264 or H.265 video";
    return Outcome::kError;
  }
  const AVCodecParameters* vpar = src.codecpar(s.video_in);
  s.video_par = media::CopyCodecParameters(vpar);
  s.inspector = media::KeyframeInspector::Create(vpar);
  if (!s.video_par) {
    *error = "out of memory";
    return Outcome::kError;
  }
  s.specs.push_back({s.video_par.get(), src.time_base(s.video_in)});
  if (settings_.activity_index) StartIndexer(s);
  s.audio_in = src.audio_stream();
  if (s.audio_in >= 0) s.specs.push_back({src.codecpar(s.audio_in), src.time_base(s.audio_in)});
  if (!src.audio_note().empty()) LogWarn("recorder") << "camera " << settings_.id << ": " << src.audio_note();
  LogInfo("recorder") << "camera " << settings_.id << " connected: "
                      << media::CodecName(vpar->codec_id) << " " << vpar->width << "x"
                      << vpar->height << (s.audio_in >= 0 ? " with audio" : "");
  last_logged_error_.clear();

  media::Packet pkt = media::MakePacket();
  while (!stop_) {
    int stream = -1;
    SourceEnd end = SourceEnd::kNone;
    Status st = src.Read(pkt.get(), &stream, settings_.stall_timeout_us, &end);
    if (!st.ok()) {
      switch (end) {
        case SourceEnd::kCancelled: outcome = Outcome::kStopped; break;
        case SourceEnd::kStalled: outcome = Outcome::kStalled; break;
        case SourceEnd::kAuthFailed: outcome = Outcome::kAuthFailed; break;
        case SourceEnd::kEnded: outcome = Outcome::kEnded; break;
        default: outcome = Outcome::kError; break;
      }
      *error = st.message();
      break;
    }
    st = HandlePacket(s, pkt.get(), stream == s.video_in);
    if (!st.ok()) {
      *error = st.message();
      outcome = Outcome::kError;
      break;
    }
  }
  EndSegment(s);
  EndRun(s);
  CountIndexer(s);
  return stop_ ? Outcome::kStopped : outcome;
}

bool CameraRecorder::NewParameters(Session& s, const AVPacket& keyframe) {
  media::KeyframeInfo info;
  if (!s.inspector || !s.inspector->Inspect(keyframe, &info)) return false;
  AVCodecParameters* par = s.video_par.get();
  if (info.width == par->width && info.height == par->height) return false;
  LogInfo("recorder") << "camera " << settings_.id << ": picture size changed from " << par->width
                      << "x" << par->height << " to " << info.width << "x" << info.height
                      << "; starting a new segment";
  par->width = info.width;
  par->height = info.height;
  av_freep(&par->extradata);
  par->extradata_size = 0;
  par->extradata = static_cast<uint8_t*>(av_mallocz(info.extradata.size() + AV_INPUT_BUFFER_PADDING_SIZE));
  if (par->extradata) {
    std::copy(info.extradata.begin(), info.extradata.end(), par->extradata);
    par->extradata_size = static_cast<int>(info.extradata.size());
  }
  return true;
}

Status CameraRecorder::HandlePacket(Session& s, AVPacket* pkt, bool video) {
  media::Packet owned(av_packet_alloc());
  av_packet_move_ref(owned.get(), pkt);
  pkt = owned.get();
  const AVRational tb = s.source->time_base(video ? s.video_in : s.audio_in);
  const int64_t ts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
  if (ts == AV_NOPTS_VALUE) return Status::Ok();  // nothing to place it in time with
  const int64_t dts_us = av_rescale_q(ts, tb, kMicros);
  // With B-frames a keyframe is shown after frames decoded before it: segments are cut and
  // placed on the wall clock by presentation time, the time the picture is of.
  const int64_t pts_us = pkt->pts != AV_NOPTS_VALUE ? av_rescale_q(pkt->pts, tb, kMicros) : dts_us;
  const int size = pkt->size;

  if (video) {
    const bool key = pkt->flags & AV_PKT_FLAG_KEY;
    const bool jump = s.last_video_dts_us != std::numeric_limits<int64_t>::min() &&
                      (dts_us < s.last_video_dts_us || dts_us - s.last_video_dts_us > kDiscontinuityUs);
    if (jump && s.segment) {
      LogWarn("recorder") << "camera " << settings_.id << ": timestamp discontinuity of "
                          << (dts_us - s.last_video_dts_us) / 1000 << " ms; starting a new segment";
      EndSegment(s);
      s.anchored = false;
      gap_reason_ = records::GapReason::kError;
    }
    s.last_video_dts_us = dts_us;
    if (!s.anchored) {
      s.wall_anchor = s.connected_wall.value_or(clock_.Now());
      s.connected_wall.reset();  // after a discontinuity, anchor at the arrival time
      s.pts_anchor_us = pts_us;
      s.anchored = true;
    }
    if (key && NewParameters(s, *pkt)) {
      EndSegment(s);  // the next segment starts here, with the new picture size
      // A decoder of the old size cannot read the new one: the index starts over.
      if (s.indexer) StartIndexer(s);
    }
    if (key && s.segment && pts_us - s.segment->start().first_pts_us >= settings_.segment_us) {
      EndSegment(s);
    }
    if (!s.segment) {
      if (!key) {
        MutexLock l(counters_mu_);
        ++counters_.dropped_before_keyframe;
        return Status::Ok();  // undecodable without its keyframe
      }
      Status st = StartSegment(s, pts_us, pkt->pts != AV_NOPTS_VALUE ? pkt->pts : ts);
      if (!st.ok()) return Status(st.kind(), "cannot open a segment: " + st.message());
    }
  } else if (!s.segment) {
    return Status::Ok();  // audio before the first keyframe has no picture to go with
  }

  pkt->stream_index = video ? 0 : 1;
  Status st = s.segment->Write(*pkt);
  if (!st.ok()) return Status(st.kind(), "writing segment: " + st.message());
  {
    MutexLock l(counters_mu_);
    ++counters_.packets;
    counters_.media_bytes += size;
    if (video) ++counters_.video_frames;
  }
  status_bytes_ += size;
  if (video && s.indexer) s.indexer->AddFrame(*pkt, pts_us - s.segment->start().first_pts_us);
  if (video) NoteTiming(s);
  PublishStatus(true, s.timing_note, false);
  return Status::Ok();
}

// A source whose timestamps could not all be used is recorded as it is, every frame kept;
// what was done instead goes on record: an alarm naming the camera (shown to admins until
// cleared) and the camera's status while it records. The status carries the latest note;
// the log and the alarm get it when it first appears and then at most once a minute.
void CameraRecorder::NoteTiming(Session& s) {
  std::string note = s.source->timing_note();
  if (note == s.timing_note) return;
  s.timing_note = std::move(note);
  const MonoMicros now = clock_.Monotonic();
  if (s.timing_recorded && now - *s.timing_recorded < kTimingNoteIntervalUs) return;
  s.timing_recorded = now;
  LogWarn("recorder") << "camera " << settings_.id << ": " << s.timing_note
                      << "; recording continues";
  auto raised = db_.RaiseAlarm("camera_timing:" + settings_.id, s.timing_note);
  if (!raised.ok())
    LogError("recorder") << "camera " << settings_.id
                         << ": timing alarm not recorded: " << raised.status().ToString();
  PublishStatus(true, s.timing_note, true);
}

Status CameraRecorder::StartSegment(Session& s, int64_t pts_us, int64_t pts) {
  SegmentStart start;
  start.camera_id = settings_.id;
  start.start = s.wall_anchor + (pts_us - s.pts_anchor_us);
  start.first_pts_us = pts_us;
  start.clock_synced = clock_.Synchronized();
  start.audio_note = s.source->audio_note();
  start.fragments = {settings_.max_fragment_us, s.next_fragment_number};
  if (auto camera_wall = s.source->CameraWallClock(pts, s.video_in)) {
    start.clock_offset_us = camera_wall->us - start.start.us;
  }

  if (digest_day_of_ && DirName(SegmentRelativePath(settings_.id, *digest_day_of_)) !=
                            DirName(SegmentRelativePath(settings_.id, start.start))) {
    CloseDayDigest();
  }

  if (!s.run_id) {
    if (last_end_ && start.start > *last_end_) {
      records::GapRow gap;
      gap.camera_id = settings_.id;
      gap.start = *last_end_;
      gap.end = start.start;
      gap.reason = gap_reason_;
      Status st = db_.InsertGap(gap);
      if (!st.ok()) LogError("recorder") << "camera " << settings_.id << ": gap not recorded: " << st.ToString();
    } else if (last_end_ && start.start < *last_end_) {
      LogWarn("recorder") << "camera " << settings_.id
                          << ": wall clock is behind the end of the last footage by "
                          << (*last_end_ - start.start) / 1000 << " ms";
    }
    auto run = db_.BeginRun(settings_.id, start.start);
    if (!run.ok()) return run.status();
    s.run_id = *run;
  }
  start.run_id = s.run_id;

  auto seg = SegmentFile::Open(db_, fs_, data_dir_, start, s.specs);
  if (!seg.ok()) return seg.status();
  s.segment = std::move(seg).value();
  MutexLock l(counters_mu_);
  ++counters_.segments;
  return Status::Ok();
}

void CameraRecorder::EndSegment(Session& s) {
  if (!s.segment) return;
  Status st = s.segment->Close();
  if (!st.ok()) {
    LogError("recorder") << "camera " << settings_.id << ": segment " << s.segment->id()
                         << " not finalised: " << st.ToString() << "; recovery will finish it";
  }
  WriteActivity(s, /*keep=*/st.ok());
  last_end_ = s.segment->end();
  s.next_fragment_number = s.segment->next_fragment_number();
  {
    MutexLock l(counters_mu_);
    counters_.bytes_written += static_cast<int64_t>(s.segment->bytes());
  }
  s.segment.reset();
}

void CameraRecorder::StartIndexer(Session& s) {
  CountIndexer(s);
  s.indexer = std::make_unique<activity::ActivityIndexer>(s.video_par.get());
  activity::KeyframePictures* pictures = hand_off_.pictures.get();
  if (!pictures) return;
  // Offsets are in the current segment's time, whose first picture is at its start's wall
  // time; the indexer is used only while a segment is open.
  if (hand_off_.publish) {
    s.indexer->SetSampleSink([&s, pictures](int64_t offset_us, const activity::LumaThumb& p) {
      pictures->Publish(s.segment->start().start + offset_us, p);
    });
    return;
  }
  s.indexer->SetPictureSource(
      [&s, pictures](int64_t offset_us,
                     int64_t within_us) -> std::optional<activity::HandedPicture> {
        const UtcMicros segment_start = s.segment->start().start;
        auto p = pictures->Nearest(segment_start + offset_us, within_us, s.last_handed_at);
        if (!p) return std::nullopt;
        s.last_handed_at = p->at;
        return activity::HandedPicture{p->at - segment_start, p->picture};
      });
}

void CameraRecorder::CountIndexer(const Session& s) {
  if (!s.indexer) return;
  MutexLock l(counters_mu_);
  counters_.activity_decoded += s.indexer->decoded();
  counters_.activity_handed += s.indexer->handed();
}

// After the segment itself: an index never exists for footage that does not. Losing it
// (a crash before this, a full disk) loses the search over that minute, not the footage.
void CameraRecorder::WriteActivity(Session& s, bool keep) {
  if (!s.indexer) return;
  activity::SegmentActivity index = s.indexer->FinishSegment(s.segment->duration_us());
  // A segment left for recovery may end up in quarantine: no index may outlive it.
  if (!keep) return;
  Status st =
      activity::WriteActivityFile(fs_, activity::ActivityPathFor(s.segment->abs_path()), index);
  if (!st.ok()) {
    LogWarn("recorder") << "camera " << settings_.id << ": activity index of segment "
                        << s.segment->id() << " not written: " << st.ToString()
                        << "; the footage is kept, its activity cannot be searched";
    return;
  }
  digest_day_of_ = s.segment->start().start;
}

// The day's segments are those the records list in its directory (with those of earlier
// runs of the day); the digest keeps its entries and adds the indexes it lacks, each read
// from its file while it exists, so retention running at the same time is answered as for
// any reader (activity/day_digest.h). A digest that cannot be written costs only a slower
// first search.
void CameraRecorder::CloseDayDigest() {
  if (!digest_day_of_) return;
  const UtcMicros of = *digest_day_of_;
  digest_day_of_.reset();
  const std::string day_dir = DirName(SegmentRelativePath(settings_.id, of));
  const int64_t day_start = of.us - ((of.us % kMicrosPerDay) + kMicrosPerDay) % kMicrosPerDay;
  auto rows =
      db_.ListSegments(settings_.id, UtcMicros{day_start}, UtcMicros{day_start + kMicrosPerDay});
  if (!rows.ok()) {
    LogWarn("recorder") << "camera " << settings_.id << ": activity digest of " << day_dir
                        << " not written: " << rows.status().ToString()
                        << "; the first search over that day builds it";
    return;
  }
  std::vector<std::string> paths;
  for (const records::SegmentRow& row : *rows) {
    if (row.state == records::SegmentState::kComplete && DirName(row.path) == day_dir)
      paths.push_back(JoinPath(data_dir_, row.path));
  }
  (void)activity::ReadDayIndexes(fs_, paths);
}

void CameraRecorder::EndRun(Session& s) {
  if (!s.run_id) return;
  Status st = db_.EndRun(*s.run_id, last_end_.value_or(s.wall_anchor));
  if (!st.ok()) LogError("recorder") << "camera " << settings_.id << ": run not ended: " << st.ToString();
  s.run_id.reset();
}

void CameraRecorder::PublishStatus(bool online, const std::string& error, bool force) {
  MonoMicros now = clock_.Monotonic();
  int64_t elapsed = now - last_status_;
  if (!force && elapsed < kStatusIntervalUs) return;
  records::CameraStatusRow row;
  row.camera_id = settings_.id;
  row.online = online;
  if (online) last_packet_ = clock_.Now();
  row.last_packet = last_packet_;
  row.bitrate_bps = elapsed > 0 && online ? status_bytes_ * 8 * kMicrosPerSecond / elapsed : 0;
  if (!error.empty()) row.last_error = error;
  row.updated = clock_.Now();
  Status st = db_.SetCameraStatus(row);
  if (!st.ok()) LogWarn("recorder") << "camera " << settings_.id << ": status not saved: " << st.ToString();
  last_status_ = now;
  status_bytes_ = 0;
}

}  // namespace custodian::recorder
