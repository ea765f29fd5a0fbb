// RtspTcpSource: reads one camera's RTSP stream over TCP, RTP and RTCP interleaved on the
// RTSP connection (RFC 2326 §10.12), and hands out whole frames as the recorder stores
// them: one packet per video access unit and one per AAC access unit.
//
// Why not libavformat: its RTSP reader takes each interleaved packet with three blocking
// reads (poll+recv each), then runs the H.264 parser over every byte, which was ~40% of
// the recorder's CPU. Here one non-blocking socket is read in large chunks (a poll only
// when it is empty), every complete packet in the buffer is depacketized in place, and
// each payload byte is copied once, into a pooled buffer that becomes the caller's packet.
//
// rtsps:// (RTSP over TLS, RFC 7826 §19.3's scheme on port 322): the same session inside a
// TLS connection (TcpSocket::StartTls). The certificate is handed to
// options.check_certificate before the first request, for pinning (no authority signs a
// camera's certificate). Basic stays refused unless allowed: TLS hides the password from
// the network, but not from whoever holds a certificate the caller accepted.
//
// Session: Open() sends OPTIONS, DESCRIBE (answering a 401 with Digest credentials, or
// Basic only when options.allow_basic_auth: this client speaks plain RTSP, where Basic
// sends the password in the clear), one SETUP per track it can depacketize (H.264, H.265, AAC
// mpeg4-generic), each asking for `RTP/AVP/TCP;unicast;interleaved=2n-(2n+1)`, and PLAY. Tracks of
// other formats, and readable tracks beyond the first kMaxTracks, are not set up and are listed in
// skipped_tracks(). While reading, a keep-alive (GET_PARAMETER when the camera lists it, else
// OPTIONS) goes out every half session timeout (the camera's `timeout=` clamped
// to 1..kMaxSessionTimeoutSeconds); the destructor sends TEARDOWN (without waiting for the
// answer) and closes.
//
// A hostile camera: everything the camera sends is untrusted. The interleaved channels it
// picks in its SETUP answers must be distinct and within 0-255 (the one byte of a '$'
// frame) or Open fails with kDataLoss naming them; the SDP's track count is capped as
// above; decoded frames wait in a queue bounded by options.max_queued_packets and
// max_queued_bytes (the oldest are dropped and counted in queue_overflow_drops); every
// wait is bounded by its deadline even while the camera keeps sending.
//
// Streams: 0..stream_count()-1 in SDP order. codecpar() gives codec_id, extradata in
// Annex B (from sprop-parameter-sets / sprop-vps,sps,pps; or the AudioSpecificConfig from
// config= for AAC), the picture size from the SPS, and for AAC the sample rate and channels.
// When the SDP has no parameter sets, Open() reads on until the first keyframe brings them
// (the packets read meanwhile are returned first by ReadPacket, as many as the queue's
// bounds keep: the newest). time_base() is 1/clock-rate.
//
// Packets: see rtp_depacketizer.h and rtp_stream.h for their content and timestamps (pts = dts =
// the RTP timestamp, 64-bit, starting near 0; with B-frames that is the presentation time, out of
// order, and the caller rebuilds decode times). Frames damaged by lost packets are dropped and
// counted, never returned.
//
// Errors (Status kinds):
//   kUnavailable        cannot connect, no answer in time, camera answered 5xx, the stream
//                       stalled, ended or the connection broke; retry later. end_reason()
//                       tells a stall from an end.
//   kUnauthenticated    401 without credentials, or with them after trying them, or a
//                       Basic-only challenge without allow_basic_auth (the message then
//                       contains kBasicRefusedMessage; the password was not sent).
//   kPermissionDenied   403.  kNotFound: 404 (no such stream).
//   kFailedPrecondition `cancel` was set: the call returned within ~100 ms of it. Also
//                       461 (the camera does not offer RTP over TCP).
//   kInvalidArgument    a malformed URL, or no track this class can read.
//   kDataLoss           the camera broke the RTSP protocol (malformed message, interleaved
//                       channels outside 0-255 or shared by two tracks).
//
// Credentials are never logged or put in an error message; URLs are logged without them.
//
// Thread-safety: one thread calls everything; `cancel` may be set from any thread and
// must outlive the source.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "media/av_util.h"
#include "media/rtsp/interleaved_buffer.h"
#include "media/rtsp/rtp_stream.h"
#include "media/rtsp/rtsp_auth.h"
#include "media/rtsp/tcp_socket.h"

namespace custodian::media::rtsp {

// The most tracks of one session the client sets up: a camera has a video track, perhaps
// a second video (sub-stream) and an audio track. Keeps the requested channels (2n, 2n+1)
// far inside the 256 an interleaved frame can name, whatever the SDP lists.
inline constexpr int kMaxTracks = 8;
// Session timeouts the camera announces are clamped to 1 s .. this (10 minutes): keeping
// alive more often than a camera asks is harmless, and a huge value would overflow.
inline constexpr int64_t kMaxSessionTimeoutSeconds = 600;

// In the message of the status Open returns when a camera asks only for Basic and the
// camera is not allowed it.
inline constexpr char kBasicRefusedMessage[] =
    "the camera asks for Basic authentication, which would send the password in the clear "
    "over plain RTSP; it was not sent (set allow_basic_auth: true for this camera to allow "
    "it, or enable Digest on the camera)";

struct RtspSourceOptions {
  // Answer a Basic challenge (the password in the clear). Off: only Digest is answered.
  bool allow_basic_auth = false;
  // Bounds the TCP connect and the wait for each answer during Open (each on its own).
  int64_t connect_timeout_us = 5 * kMicrosPerSecond;
  // The receive buffer: one read takes up to this much.
  size_t receive_buffer_bytes = 256 * 1024;
  // Once playing, poll() wakes only when this much is waiting (SO_RCVLOWAT), or every
  // 100 ms. Batches several RTP packets per wake-up at the cost of a few ms of latency;
  // 1 wakes for every segment.
  int receive_low_water_bytes = 16 * 1024;
  // 0: half the session timeout the camera announces (60 s when it announces none).
  int64_t keepalive_interval_us = 0;
  std::string user_agent = "Custodian";
  // rtsps:// only: called with the camera's certificate (its SHA-256, subject and expiry)
  // after the TLS handshake and before any request, so before credentials are sent; a
  // status other than ok ends Open with that status. Unset: any certificate is taken.
  std::function<Status(const PeerCertificate& certificate)> check_certificate;
  // Bounds on the decoded frames waiting for ReadPacket, counting each frame's whole
  // buffer: mostly those read while Open waits for the first keyframe's parameter sets,
  // when a camera could flood tiny frames. Beyond either bound the oldest frames are
  // dropped (useless to a recorder before the keyframe anyway) and counted; the newest is
  // always kept, so a keyframe larger than max_queued_bytes still gets through.
  size_t max_queued_packets = 512;
  size_t max_queued_bytes = 16u << 20;
};

// Why reading ended, for callers that record the reason.
enum class RtspEnd {
  kNone,            // still reading
  kStalled,         // no packet within the stall timeout
  kClosed,          // the camera closed the connection
  kConnectionLost,  // a socket error
  kCancelled,       // the cancel flag was set
  kProtocolError,   // the camera sent something that is not RTSP
};

struct RtspCounters {
  int64_t bytes_received = 0;
  int64_t reads = 0;  // recv() calls that returned data
  int64_t polls = 0;  // poll() calls while reading
  int64_t rtp_packets = 0;
  int64_t rtp_packets_lost = 0;
  int64_t frames = 0;          // packets handed out
  int64_t frames_dropped = 0;  // damaged frames discarded
  int64_t malformed_payloads = 0;
  int64_t skipped_bytes = 0;  // garbage between interleaved frames
  int64_t keepalives = 0;
  int64_t keepalive_errors = 0;  // keep-alives answered with an error status
  int64_t queue_overflow_drops = 0;  // frames dropped because the queue was at its bounds
  int64_t queue_peak_packets = 0;    // the most frames queued at once (after dropping)
  int64_t queue_peak_bytes = 0;      // the most buffer bytes queued at once (after dropping)
};

class RtspTcpSource {
 public:
  // url: rtsp://host[:port]/path; credentials in the URL are used when user is empty.
  static Result<std::unique_ptr<RtspTcpSource>> Open(const std::string& url,
                                                     const std::string& user,
                                                     const std::string& password,
                                                     int64_t connect_timeout_us,
                                                     std::atomic<bool>* cancel);
  static Result<std::unique_ptr<RtspTcpSource>> Open(const std::string& url,
                                                     const std::string& user,
                                                     const std::string& password,
                                                     const RtspSourceOptions& options,
                                                     std::atomic<bool>* cancel);
  ~RtspTcpSource();
  RtspTcpSource(const RtspTcpSource&) = delete;
  RtspTcpSource& operator=(const RtspTcpSource&) = delete;

  int stream_count() const { return static_cast<int>(tracks_.size()); }
  const AVCodecParameters* codecpar(int stream) const;
  AVRational time_base(int stream) const;
  // Tracks of the SDP that are not read, with why: "audio PCMU is not supported".
  const std::vector<std::string>& skipped_tracks() const { return skipped_tracks_; }
  // The URL in use, without credentials (for logs).
  const std::string& url() const { return url_.clean; }
  // rtsps://: the camera's certificate, lower-case hex SHA-256 of its DER; else "".
  std::string certificate_sha256() const { return socket_.PeerCertificateSha256(); }

  // Waits up to stall_timeout_us for the next packet and moves it into *out (which is
  // unreferenced first). The packet's buffer belongs to the caller.
  Status ReadPacket(AVPacket* out, int* stream_index, int64_t stall_timeout_us);
  RtspEnd end_reason() const { return end_; }
  // The session timeout in use: the camera's, clamped, or 60 s when it announced none.
  int64_t session_timeout_us() const { return session_timeout_us_; }

  // The camera's wall clock at a stream's pts, from its latest RTCP sender report; nullopt
  // before one has arrived (cameras send one every few seconds).
  std::optional<UtcMicros> CameraWallClock(int64_t pts, int stream) const;

  RtspCounters counters() const;

 private:
  struct Track;
  RtspTcpSource(RtspUrl url, const std::string& user, const std::string& password,
                const RtspSourceOptions& options, std::atomic<bool>* cancel);

  Status Handshake();
  Status Describe(std::string* base, std::string* sdp);
  Status SetUp(const std::string& base, const std::string& sdp);
  Status SetUpTrack(Track& track, int index);
  Status Play();
  void AwaitParameterSets();
  // Takes parameter sets from ready_'s packets [from, size()) for the tracks still missing
  // them.
  void ScanForParameterSets(size_t from);

  // One request and its answer, answering a 401 challenge.
  Result<RtspMessage> Transact(const std::string& method, const std::string& uri,
                               const std::string& extra_headers);
  Status SendRequest(const std::string& method, const std::string& uri,
                     const std::string& extra_headers, int cseq, MonoMicros deadline);
  Result<RtspMessage> AwaitAnswer(int cseq, MonoMicros deadline);
  // Parses buffered units until a packet is queued (stop_at_packet), the awaited answer
  // arrives (*answer set), or the buffer holds no complete unit.
  Status ProcessBuffered(bool stop_at_packet, int awaited_cseq, std::optional<RtspMessage>* answer);
  void OnUnsolicitedMessage(const RtspMessage& m);
  // Reads more from the socket, polling when it is empty, until the deadline (timeout_us
  // after the wait began; for the message).
  Status Receive(MonoMicros deadline, int64_t timeout_us, const char* waiting_for);
  Status SendKeepAlive(MonoMicros now);
  int64_t KeepAliveInterval() const;
  Status End(RtspEnd reason, Status status);
  void Teardown();

  const RtspUrl url_;
  const RtspSourceOptions options_;
  std::atomic<bool>* const cancel_;
  RtspAuthenticator auth_;
  TcpSocket socket_;
  InterleavedBuffer rx_;
  bool drained_ = true;  // the last recv emptied the socket: poll before the next

  int cseq_ = 0;
  std::string session_id_;
  int64_t session_timeout_us_ = 60 * kMicrosPerSecond;
  std::string aggregate_url_;
  bool get_parameter_ = false;
  bool playing_ = false;
  MonoMicros next_keepalive_{INT64_MAX};

  std::vector<std::unique_ptr<Track>> tracks_;
  std::vector<std::string> skipped_tracks_;
  // Interleaved channel (the one byte of a '$' frame, so every index is in range) ->
  // track * 2 (+1 for RTCP), or -1. A plain array: UBSan's bounds check (the fuzz build)
  // sees its indexing, which it would not inside std::array::operator[].
  int16_t channel_map_[256];
  PacketQueue ready_;
  // While Open waits for in-band parameter sets: which tracks still miss them.
  std::vector<bool> awaiting_parameters_;
  size_t parameters_missing_ = 0;
  RtspEnd end_ = RtspEnd::kNone;
  Status end_status_;
  RtspCounters counters_;
};

}  // namespace custodian::media::rtsp
