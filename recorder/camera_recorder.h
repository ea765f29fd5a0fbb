// CameraRecorder: records one camera's RTSP stream into segments until stopped.
//
// It owns one thread. The thread connects (TCP, UDP, or TCP then UDP), stream-copies the
// video (and the audio when MP4 can hold it) into SegmentFiles cut at keyframes, and on any
// failure (refused, dropped, stalled, wrong credentials) closes the current segment, records
// why, and reconnects with backoff (0.5 s doubling to 10 s). Every period without footage
// becomes a gap row with its reason when recording resumes. One camera's failure never
// touches another's: each has its own thread, connection and segment.
//
// A camera with a sub stream has two CameraRecorders, which share the camera's
// activity::KeyframePictures (ActivityHandOff): the sub stream's publishes the pictures its
// activity index samples, and the main stream's takes them instead of decoding its own
// keyframes while they come (docs/design/recording.md, "Activity index").
//
// Thread-safety: Start/Stop from the owning (service) thread; Snapshot from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "activity/keyframe_pictures.h"
#include "base/clock.h"
#include "base/filesystem.h"
#include "base/mutex.h"
#include "media/av_util.h"
#include "recorder/camera_source.h"
#include "recorder/segment_file.h"
#include "records/database.h"

namespace custodian::recorder {

// The alarm an rtsps:// camera raises when its certificate changes: this + the camera id.
inline constexpr char kCertificateAlarmPrefix[] = "camera_certificate:";
// The alarm raised while the pinned certificate has expired or expires within
// media::rtsp::kCertificateExpiryWarningUs: this + the camera id. Recording goes on: the
// pin, not the dates, is what is trusted.
inline constexpr char kCertificateExpiryAlarmPrefix[] = "camera_certificate_expiry:";

enum class Transport { kTcp, kUdp, kAuto };

struct CameraSettings {
  std::string id;
  std::string url;       // without credentials
  std::string username;  // empty: none
  std::string password;  // never logged
  // Answer a Basic challenge over plain RTSP (config allow_basic_auth).
  bool allow_basic_auth = false;
  // Why the configured password is not used (config password_withheld), shown as the
  // camera's status when the camera then refuses the connection.
  std::string password_withheld;
  Transport transport = Transport::kAuto;
  int64_t segment_us = 60 * kMicrosPerSecond;
  // Longest fragment (moof+mdat) before a cut between keyframes; 0: fragments are whole
  // GOPs. Short fragments keep live view (which reads only whole fragments) near real time
  // whatever the camera's GOP, and bound what a crash loses.
  int64_t max_fragment_us = kMicrosPerSecond;
  int64_t stall_timeout_us = 5 * kMicrosPerSecond;
  int64_t connect_timeout_us = 5 * kMicrosPerSecond;
  int64_t backoff_min_us = 500'000;
  // At most 4 s between attempts, so that a camera is recording again within 5 s of
  // coming back however long it was away (tests/reliability/reconnect_test.cpp).
  int64_t backoff_max_us = 4 * kMicrosPerSecond;
  // Build each segment's activity index (docs/design/recording.md "Activity index"). Off
  // only to measure what it costs.
  bool activity_index = true;
  // A camera's main stream takes its activity pictures from its sub stream (config
  // recorder.activity_from_sub_stream). Off only to measure what it saves.
  bool activity_from_sub_stream = true;

  bool operator==(const CameraSettings&) const = default;
};

// The keyframe pictures a camera's two streams share for the activity index.
struct ActivityHandOff {
  std::shared_ptr<activity::KeyframePictures> pictures;  // null: no hand-off
  // This stream's sampled pictures go into `pictures` (the sub stream); otherwise this
  // stream takes its samples from there while they come (the main stream).
  bool publish = false;
};

// Figures kept for status and benchmarks.
struct CameraCounters {
  int64_t packets = 0;
  int64_t video_frames = 0;
  int64_t media_bytes = 0;     // payload bytes of the packets written to segments
  int64_t bytes_written = 0;   // bytes of finished segment files
  int64_t segments = 0;
  int64_t reconnects = 0;
  int64_t dropped_before_keyframe = 0;
  // The activity index's keyframe pictures: decoded by this stream's own indexer, and
  // taken from the camera's sub stream instead (ActivityHandOff), over the sessions ended.
  int64_t activity_decoded = 0;
  int64_t activity_handed = 0;
};

class CameraRecorder {
 public:
  // data_dir holds footage/; segment paths in the records are relative to it.
  CameraRecorder(CameraSettings settings, records::Database& db, Filesystem& fs, const Clock& clock,
                 std::string data_dir, ActivityHandOff hand_off = {});
  ~CameraRecorder();

  void Start();
  // Asks the thread to stop without waiting (so that many cameras stop in parallel).
  void RequestStop();
  // Closes the current segment cleanly, ends the run and joins the thread.
  void Stop();

  const CameraSettings& settings() const { return settings_; }
  CameraCounters Counters() const;

 private:
  enum class Outcome { kStopped, kRefused, kEnded, kStalled, kAuthFailed, kError };
  struct Session;

  static records::GapReason GapReasonFor(Outcome outcome);
  void Run();
  Outcome RecordSession(std::string* error);
  Status OpenSource(Session& s, std::string* error, Outcome* outcome);
  // rtsps://: the certificate must be the camera's pinned one (media/rtsp/certificate_pin.h);
  // a changed one raises the alarm camera_certificate:<id> and is refused. The pinned one
  // raises (or clears) camera_certificate_expiry:<id> by its expiry.
  Status CheckCertificate(const media::rtsp::PeerCertificate& certificate);
  void CheckCertificateExpiry(const media::rtsp::PeerCertificate& certificate);
  // Places one packet (a whole video access unit, or an audio packet) into the current
  // segment, cutting and opening segments as needed. Consumes the packet.
  Status HandlePacket(Session& s, AVPacket* pkt, bool video);
  // pts_us: the first packet's presentation time; pts: the same in the video stream's
  // time base (for the camera clock offset).
  Status StartSegment(Session& s, int64_t pts_us, int64_t pts);
  // Records, once per change, the source's note on timestamps it could not use.
  void NoteTiming(Session& s);
  // True when a keyframe carries a picture size other than the session's: the parameters
  // are updated and the caller starts a new segment.
  bool NewParameters(Session& s, const AVPacket& keyframe);
  void EndSegment(Session& s);
  // A new activity indexer for the session's current video parameters, joined to the
  // camera's hand-off; the one it replaces has its figures counted first.
  void StartIndexer(Session& s);
  void CountIndexer(const Session& s);
  // Finishes the segment's activity index and, when keep, writes it beside the segment.
  void WriteActivity(Session& s, bool keep);
  // When the day directory the recorder has been writing into closes (a segment starts in
  // another day, or the recorder stops), brings that day's activity digest
  // (activity/day_digest.h) up to date with the indexes of all its complete segments, so
  // that the first search over the day reads one file.
  void CloseDayDigest();
  void EndRun(Session& s);
  void PublishStatus(bool online, const std::string& error, bool force);
  void ResolvePreviousRun();
  void WaitBackoff(int64_t us);

  const CameraSettings settings_;
  records::Database& db_;
  Filesystem& fs_;
  const Clock& clock_;
  const std::string data_dir_;
  const ActivityHandOff hand_off_;
  std::string certificate_alarm_;  // the refused certificate the alarm was raised for
  // The expiry alarm's text while raised, "" while cleared; unset until first written
  // (an alarm left by an earlier run is cleared or renewed at the first connection).
  std::optional<std::string> expiry_alarm_;

  std::thread thread_;
  std::atomic<bool> stop_{false};
  Mutex wait_mu_;
  std::condition_variable wait_cv_;

  // Owned by the camera thread.
  std::optional<UtcMicros> last_end_;   // end of the last footage written
  // Start of the last segment whose index was written: its day directory's digest is
  // brought up to date when that day closes (CloseDayDigest).
  std::optional<UtcMicros> digest_day_of_;
  records::GapReason gap_reason_ = records::GapReason::kRecorderStopped;
  std::optional<UtcMicros> last_packet_;
  std::string last_logged_error_;
  MonoMicros last_status_{};
  int64_t status_bytes_ = 0;

  mutable Mutex counters_mu_;
  CameraCounters counters_ GUARDED_BY(counters_mu_);
};

}  // namespace custodian::recorder
