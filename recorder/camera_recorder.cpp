#include "recorder/camera_recorder.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "base/log.h"
#include "media/fmp4_writer.h"
#include "media/access_unit.h"
#include "media/keyframe_inspector.h"

extern "C" {
#include <libavutil/mathematics.h>
}

namespace custodian::recorder {

namespace {

constexpr AVRational kMicros{1, 1'000'000};
// A jump in video timestamps larger than this (either way) starts a new segment.
constexpr int64_t kDiscontinuityUs = 10 * kMicrosPerSecond;
// How often the camera's status row is refreshed while it records.
constexpr int64_t kStatusIntervalUs = 5 * kMicrosPerSecond;

std::string PercentEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}


}  // namespace

std::string UrlWithCredentials(const std::string& url, const std::string& user,
                               const std::string& password) {
  if (user.empty()) return url;
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  std::string userinfo = PercentEncode(user);
  if (!password.empty()) userinfo += ":" + PercentEncode(password);
  return url.substr(0, scheme + 3) + userinfo + "@" + url.substr(scheme + 3);
}

struct CameraRecorder::Session {
  media::InputContext input;
  int video_in = -1;
  int audio_in = -1;  // -1: no audio recorded
  std::string audio_note;
  std::vector<media::StreamSpec> specs;  // [0] points at video_par
  media::CodecParameters video_par;       // updated when a keyframe brings new parameters
  std::unique_ptr<media::KeyframeInspector> inspector;
  std::unique_ptr<SegmentFile> segment;
  std::optional<int64_t> run_id;
  // Wall clock anchored at the first packet of the session (or after a discontinuity).
  UtcMicros wall_anchor{};
  int64_t dts_anchor_us = 0;
  bool anchored = false;
  // When the connection was made: the first packet arrived then, although libav hands it
  // over only after probing the stream (up to a couple of seconds later).
  std::optional<UtcMicros> connected_wall;
  int64_t last_video_dts_us = std::numeric_limits<int64_t>::min();
  bool got_packets = false;
};

CameraRecorder::CameraRecorder(CameraSettings settings, records::Database& db, Filesystem& fs,
                               const Clock& clock, std::string data_dir)
    : settings_(std::move(settings)),
      db_(db),
      fs_(fs),
      clock_(clock),
      data_dir_(std::move(data_dir)) {}

CameraRecorder::~CameraRecorder() { Stop(); }

void CameraRecorder::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void CameraRecorder::RequestStop() {
  stop_ = true;
  interrupt_.Cancel();
  std::lock_guard l(wait_mu_);
  wait_cv_.notify_all();
}

void CameraRecorder::Stop() {
  RequestStop();
  if (thread_.joinable()) thread_.join();
}

CameraCounters CameraRecorder::Counters() const {
  std::lock_guard l(counters_mu_);
  return counters_;
}

void CameraRecorder::WaitBackoff(int64_t us) {
  std::unique_lock l(wait_mu_);
  wait_cv_.wait_for(l, std::chrono::microseconds(us), [this] { return stop_.load(); });
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
      std::lock_guard l(counters_mu_);
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
    WaitBackoff(backoff);
    backoff = std::min(backoff * 2, settings_.backoff_max_us);
    if (outcome == Outcome::kEnded || outcome == Outcome::kStalled) {
      // The camera was streaming: a fresh failure starts the backoff over.
      backoff = settings_.backoff_min_us;
    }
  }
  PublishStatus(false, "recorder stopped", true);
  CameraCounters c = Counters();
  LogInfo("recorder") << "camera " << settings_.id << " stopped: " << c.video_frames
                      << " frames, " << c.media_bytes << " media bytes received, "
                      << c.bytes_written << " bytes written (ratio "
                      << (c.media_bytes > 0 ? static_cast<double>(c.bytes_written) / c.media_bytes : 0.0)
                      << "), " << c.segments << " segments, " << c.reconnects << " reconnects";
}

Status CameraRecorder::OpenInput(Session& s, std::string* error, Outcome* outcome) {
  std::vector<const char*> transports;
  switch (settings_.transport) {
    case Transport::kTcp: transports = {"tcp"}; break;
    case Transport::kUdp: transports = {"udp"}; break;
    case Transport::kAuto: transports = {"tcp", "udp"}; break;
  }
  const std::string url = UrlWithCredentials(settings_.url, settings_.username, settings_.password);
  Status last;
  for (const char* transport : transports) {
    if (stop_) break;
    AVFormatContext* ic = avformat_alloc_context();
    ic->interrupt_callback = interrupt_.Callback();
    AVDictionary* opts = nullptr;
    av_dict_set(&opts, "rtsp_transport", transport, 0);
    av_dict_set_int(&opts, "timeout", settings_.connect_timeout_us, 0);
    // Parameter sets arrive in the SDP or the first keyframe; two seconds covers a GOP.
    av_dict_set_int(&opts, "analyzeduration", 2 * kMicrosPerSecond, 0);
    interrupt_.Arm(settings_.connect_timeout_us);
    int rc = avformat_open_input(&ic, url.c_str(), nullptr, &opts);
    av_dict_free(&opts);
    if (rc < 0) {
      last = media::AvStatus(std::string("connect over ") + transport, rc);
      if (rc == AVERROR_HTTP_UNAUTHORIZED || rc == AVERROR_HTTP_FORBIDDEN) {
        *outcome = Outcome::kAuthFailed;
        *error = "authentication failed (check username and password file)";
        return last;
      }
      continue;
    }
    s.input.reset(ic);
    s.connected_wall = clock_.Now();
    interrupt_.Arm(settings_.connect_timeout_us + 2 * kMicrosPerSecond);
    rc = avformat_find_stream_info(ic, nullptr);
    if (rc < 0) {
      last = media::AvStatus("read stream info", rc);
      s.input.reset();
      continue;
    }
    return Status::Ok();
  }
  *outcome = Outcome::kRefused;
  *error = last.ok() ? "stopped" : last.message();
  return last.ok() ? Unavailable("stopped") : last;
}

CameraRecorder::Outcome CameraRecorder::RecordSession(std::string* error) {
  Session s;
  Outcome outcome = Outcome::kError;
  if (!OpenInput(s, error, &outcome).ok()) return stop_ ? Outcome::kStopped : outcome;

  AVFormatContext* ic = s.input.get();
  s.video_in = av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (s.video_in < 0) {
    *error = "the stream has no video";
    return Outcome::kError;
  }
  const AVCodecParameters* vpar = ic->streams[s.video_in]->codecpar;
  if (vpar->codec_id != AV_CODEC_ID_H264 && vpar->codec_id != AV_CODEC_ID_HEVC) {
    *error = "unsupported video codec " + media::CodecName(vpar->codec_id) + " (H.264 or H.265 needed)";
    return Outcome::kError;
  }
  s.video_par = media::CopyCodecParameters(vpar);
  s.inspector = media::KeyframeInspector::Create(vpar);
  if (!s.video_par) {
    *error = "out of memory";
    return Outcome::kError;
  }
  s.specs.push_back({s.video_par.get(), ic->streams[s.video_in]->time_base});
  int a = av_find_best_stream(ic, AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (a >= 0) {
    const AVCodecParameters* apar = ic->streams[a]->codecpar;
    if (media::Mp4CanStore(apar)) {
      s.audio_in = a;
      s.specs.push_back({apar, ic->streams[a]->time_base});
    } else {
      s.audio_note = "camera audio " + media::CodecName(apar->codec_id) +
                     " cannot be stored in MP4; audio not recorded";
      LogWarn("recorder") << "camera " << settings_.id << ": " << s.audio_note;
    }
  }
  LogInfo("recorder") << "camera " << settings_.id << " connected: "
                      << media::CodecName(vpar->codec_id) << " " << vpar->width << "x"
                      << vpar->height << (s.audio_in >= 0 ? " with audio" : "");
  last_logged_error_.clear();

  media::Packet pkt = media::MakePacket();
  media::Packet unit = media::MakePacket();
  media::AccessUnitAssembler assembler;
  while (!stop_) {
    interrupt_.Arm(settings_.stall_timeout_us);
    int rc = av_read_frame(ic, pkt.get());
    if (rc < 0) {
      if (stop_) {
        outcome = Outcome::kStopped;
      } else if (interrupt_.expired()) {
        outcome = Outcome::kStalled;
        *error = "no packet for " + std::to_string(settings_.stall_timeout_us / kMicrosPerSecond) + " s";
      } else if (rc == AVERROR_EOF) {
        outcome = Outcome::kEnded;
        *error = "the camera ended the stream";
      } else {
        outcome = Outcome::kEnded;
        *error = media::AvErrorString(rc);
      }
      break;
    }
    const int in = pkt->stream_index;
    if (in != s.video_in && in != s.audio_in) {
      av_packet_unref(pkt.get());
      continue;
    }
    s.got_packets = true;
    Status st;
    if (in == s.video_in) {
      if (assembler.Push(pkt.get(), unit.get())) st = HandlePacket(s, unit.get(), true);
    } else {
      st = HandlePacket(s, pkt.get(), false);
    }
    if (!st.ok()) {
      *error = st.message();
      outcome = Outcome::kError;
      break;
    }
  }
  // The frame in the assembler is whole if the stream ended cleanly; keep it either way.
  if (assembler.Flush(unit.get())) (void)HandlePacket(s, unit.get(), true);
  EndSegment(s);
  EndRun(s);
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
  const AVRational tb = s.input->streams[video ? s.video_in : s.audio_in]->time_base;
  const int64_t ts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
  if (ts == AV_NOPTS_VALUE) return Status::Ok();  // nothing to place it in time with
  const int64_t dts_us = av_rescale_q(ts, tb, kMicros);
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
      s.dts_anchor_us = dts_us;
      s.anchored = true;
    }
    if (key && NewParameters(s, *pkt) && s.segment) {
      EndSegment(s);  // the next segment starts here, with the new picture size
    }
    if (key && s.segment && dts_us - s.segment->start().first_dts_us >= settings_.segment_us) {
      EndSegment(s);
    }
    if (!s.segment) {
      if (!key) {
        std::lock_guard l(counters_mu_);
        ++counters_.dropped_before_keyframe;
        return Status::Ok();  // undecodable without its keyframe
      }
      Status st = StartSegment(s, dts_us);
      if (!st.ok()) return Status(st.kind(), "cannot open a segment: " + st.message());
    }
  } else if (!s.segment) {
    return Status::Ok();  // audio before the first keyframe has no picture to go with
  }

  pkt->stream_index = video ? 0 : 1;
  Status st = s.segment->Write(*pkt);
  if (!st.ok()) return Status(st.kind(), "writing segment: " + st.message());
  {
    std::lock_guard l(counters_mu_);
    ++counters_.packets;
    counters_.media_bytes += size;
    if (video) ++counters_.video_frames;
  }
  status_bytes_ += size;
  PublishStatus(true, "", false);
  return Status::Ok();
}

Status CameraRecorder::StartSegment(Session& s, int64_t dts_us) {
  SegmentStart start;
  start.camera_id = settings_.id;
  start.start = s.wall_anchor + (dts_us - s.dts_anchor_us);
  start.first_dts_us = dts_us;
  start.clock_synced = clock_.Synchronized();
  start.audio_note = s.audio_note;
  AVFormatContext* ic = s.input.get();
  if (ic->start_time_realtime != AV_NOPTS_VALUE && ic->start_time_realtime > 0) {
    // RTCP sender reports map the stream's start to the camera's wall clock.
    int64_t stream_start_us =
        ic->start_time != AV_NOPTS_VALUE ? ic->start_time : s.dts_anchor_us;
    int64_t camera_wall = ic->start_time_realtime + (dts_us - stream_start_us);
    start.clock_offset_us = camera_wall - start.start.us;
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
  std::lock_guard l(counters_mu_);
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
  last_end_ = s.segment->end();
  {
    std::lock_guard l(counters_mu_);
    counters_.bytes_written += static_cast<int64_t>(s.segment->bytes());
  }
  s.segment.reset();
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
