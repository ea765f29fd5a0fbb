// CameraSource: where a camera session's packets come from, as whole access units.
//
// Two implementations:
//  - RTSP over TCP (interleaved) through media/rtsp's RtspTcpSource: the default, about a
//    fifth of libavformat's CPU for the same stream (tests/bench/rtsp_read_bench);
//  - libavformat, for RTSP over UDP and anything else libavformat opens (files in tests),
//    with an AccessUnitAssembler joining the per-NAL packets of one frame.
// Both are wrapped by one that gives video frames decode times (B-frames arrive out of presentation
// order; see OpenCameraSource). Either picks the first H.264/H.265 video stream and the first audio
// stream that MP4 can hold; audio it cannot record is described in audio_note(), never dropped
// silently.
//
// Not thread-safe: one camera thread uses a source; `cancel` may be set from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/time.h"
#include "media/av_util.h"
#include "media/rtsp/peer_certificate.h"

namespace custodian::recorder {

// kBasicRefused: the camera asked only for Basic over plain RTSP and the camera is not
// allowed it; the password was not sent.
// kCertificateChanged: an rtsps:// camera presented a certificate other than its pinned one
// (SourceRequest::check_certificate refused it); nothing was sent to it.
enum class SourceEnd {
  kNone,
  kStalled,
  kEnded,
  kAuthFailed,
  kBasicRefused,
  kCertificateChanged,
  kCancelled,
  kError
};

// A jump in video timestamps at least this large (either way) is a discontinuity: the
// recorder starts a new segment there.
inline constexpr int64_t kDiscontinuityUs = 10 * kMicrosPerSecond;

class CameraSource {
 public:
  virtual ~CameraSource() = default;
  virtual int video_stream() const = 0;
  virtual int audio_stream() const = 0;  // -1: no audio recorded
  virtual const AVCodecParameters* codecpar(int stream) const = 0;
  virtual AVRational time_base(int stream) const = 0;
  const std::string& audio_note() const { return audio_note_; }
  // Empty while every video frame could be timed as the camera sent it; otherwise what
  // was done instead (media::DtsRebuilder::untimed_note), for the camera's record.
  virtual std::string timing_note() const { return ""; }
  // How long before Open returned the stream's first packet arrived: libavformat reads
  // up to two seconds ahead while it probes the stream, and hands those packets out first.
  // The recorder anchors the wall clock at the first packet, so it subtracts this.
  int64_t startup_delay_us() const { return startup_delay_us_; }
  // Next whole packet (one video access unit or one audio frame). On failure *end says why.
  virtual Status Read(AVPacket* out, int* stream, int64_t stall_timeout_us, SourceEnd* end) = 0;
  // The camera's own clock at a stream's timestamp, where RTCP sender reports give it.
  virtual std::optional<UtcMicros> CameraWallClock(int64_t pts, int stream) const = 0;

 protected:
  std::string audio_note_;
  int64_t startup_delay_us_ = 0;
};

struct SourceRequest {
  std::string url;
  std::string username;
  std::string password;
  bool tcp = true;  // false: RTSP over UDP (libavformat)
  int64_t connect_timeout_us = 5'000'000;
  std::atomic<bool>* cancel = nullptr;
  bool allow_basic_auth = false;  // answer Basic over plain RTSP (the password in the clear)
  // rtsps://: judges the camera's certificate before anything is sent; a status whose
  // message contains kCertificateChangedMessage ends with kCertificateChanged.
  std::function<Status(const media::rtsp::PeerCertificate& certificate)> check_certificate;
};

// In the message of the status check_certificate returns for a certificate that is not the
// pinned one.
inline constexpr char kCertificateChangedMessage[] =
    "the camera's TLS certificate has changed since it was pinned";

// rtsp://user:pass@host/path with user and password percent-encoded.
std::string UrlWithCredentials(const std::string& url, const std::string& user,
                               const std::string& password);

inline constexpr char kUdpPasswordRefused[] =
    "over UDP this camera is read by libavformat, which would answer a Basic challenge with "
    "the password in the clear; the password was not sent (use transport: tcp, where only "
    "Digest is answered, or set allow_basic_auth: true for this camera)";

// Opens the camera: rtsp:// over TCP and rtsps:// (always over TCP, its certificate pinned)
// with the project's own client; rtsp:// over UDP with libavformat. On failure *end is kAuthFailed
// for refused credentials, kBasicRefused when a password would have been exposed to Basic over
// plain RTSP (a Basic-only challenge over TCP, or any plain-RTSP camera with a password over UDP
// without allow_basic_auth: then nothing is connected), else kError. Video packets come out in
// decode order with the camera's presentation time as pts and a rebuilt decode time as dts
// (media::DtsRebuilder): B-frames are recorded as sent.
Result<std::unique_ptr<CameraSource>> OpenCameraSource(const SourceRequest& request, SourceEnd* end);

}  // namespace custodian::recorder
