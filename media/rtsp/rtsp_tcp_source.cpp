#include "media/rtsp/rtsp_tcp_source.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "base/log.h"
#include "media/rtsp/parameter_sets.h"
#include "media/rtsp/sdp.h"

namespace custodian::media::rtsp {

namespace {

constexpr int64_t kMinKeepAliveIntervalUs = kMicrosPerSecond;
constexpr int64_t kTeardownTimeoutUs = 200'000;

// The Status for a non-2xx answer (2xx is ok).
Status AnswerStatus(const std::string& method, const RtspMessage& a) {
  if (a.status >= 200 && a.status < 300) return Status::Ok();
  const std::string what = method + " answered " + std::to_string(a.status) + " " + a.reason;
  switch (a.status) {
    case 401:
      return Unauthenticated(what);
    case 403:
      return PermissionDenied(what);
    case 404:
      return NotFound(what);
    case 461:
      return FailedPrecondition(what + " (the camera does not offer RTP over TCP)");
    default:
      return Unavailable(what);
  }
}

// The highest channel an interleaved frame's one channel byte can name.
constexpr int kMaxChannel = 255;

// "8-9", or "8" (RTCP then on 9). False unless both channels are within 0..kMaxChannel:
// the client indexes its channel map with them.
bool ParseChannels(std::string_view value, int* rtp, int* rtcp) {
  value = Trim(value);
  const char* end = value.data() + value.size();
  int a = -1;
  auto [p, ec] = std::from_chars(value.data(), end, a);
  if (ec != std::errc() || a < 0 || a > kMaxChannel) return false;
  int b = a + 1;
  if (p != end) {
    if (*p != '-') return false;
    auto [q, ec2] = std::from_chars(p + 1, end, b);
    if (ec2 != std::errc() || q != end) return false;
  }
  if (b < 0 || b > kMaxChannel) return false;
  *rtp = a;
  *rtcp = b;
  return true;
}

// The seconds of a Session header's timeout=, clamped to 1..kMaxSessionTimeoutSeconds;
// nullopt when it is not a positive number. Parsed without atol, whose overflow is
// undefined, and clamped before the multiplication to microseconds, which could overflow.
std::optional<int64_t> ParseSessionTimeout(std::string_view value) {
  value = Trim(value);
  int64_t s = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), s);
  if (ec == std::errc::result_out_of_range && !value.empty() && value[0] != '-')
    return kMaxSessionTimeoutSeconds;
  if (ec != std::errc() || s <= 0) return std::nullopt;
  return std::min(s, kMaxSessionTimeoutSeconds);
}

// Lists at most a few of many reasons, so that a camera's SDP cannot make an error
// message (shown as the camera's status) arbitrarily long.
std::string JoinSome(const std::vector<std::string>& items, size_t most) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < most; ++i) out += (i ? "; " : "") + items[i];
  if (items.size() > most) out += "; and " + std::to_string(items.size() - most) + " more";
  return out;
}

std::string CodecSummary(const AVCodecParameters* par) {
  std::string s = CodecName(par->codec_id);
  if (par->codec_type == AVMEDIA_TYPE_VIDEO)
    s += " " + std::to_string(par->width) + "x" + std::to_string(par->height);
  else
    s += " " + std::to_string(par->sample_rate) + " Hz";
  return s;
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    std::string item(Trim(std::string_view(s).substr(pos, comma - pos)));
    if (!item.empty()) out.push_back(item);
    pos = comma + 1;
  }
  return out;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return !suffix.empty() && s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

struct RtspTcpSource::Track {
  TrackParameters params;
  std::string control;      // a=control as written
  std::string control_url;  // resolved
  int rtp_channel = -1;
  int rtcp_channel = -1;
  std::unique_ptr<RtpStream> rtp;
};

RtspTcpSource::RtspTcpSource(RtspUrl url, const std::string& user, const std::string& password,
                             const RtspSourceOptions& options, std::atomic<bool>* cancel)
    : url_(std::move(url)),
      options_(options),
      cancel_(cancel),
      auth_(user, password, options.allow_basic_auth),
      rx_(options.receive_buffer_bytes) {
  std::fill(std::begin(channel_map_), std::end(channel_map_), int16_t{-1});
}

RtspTcpSource::~RtspTcpSource() { Teardown(); }

Result<std::unique_ptr<RtspTcpSource>> RtspTcpSource::Open(const std::string& url,
                                                           const std::string& user,
                                                           const std::string& password,
                                                           int64_t connect_timeout_us,
                                                           std::atomic<bool>* cancel) {
  RtspSourceOptions options;
  options.connect_timeout_us = connect_timeout_us;
  return Open(url, user, password, options, cancel);
}

Result<std::unique_ptr<RtspTcpSource>> RtspTcpSource::Open(const std::string& url,
                                                           const std::string& user,
                                                           const std::string& password,
                                                           const RtspSourceOptions& options,
                                                           std::atomic<bool>* cancel) {
  auto parsed = ParseRtspUrl(url);
  if (!parsed.ok()) return parsed.status();
  const bool from_url = user.empty();
  RtspUrl where = *parsed;
  where.user.clear();  // the authenticator alone keeps the credentials
  where.password.clear();
  std::unique_ptr<RtspTcpSource> source(
      new RtspTcpSource(std::move(where), from_url ? parsed->user : user,
                        from_url ? parsed->password : password, options, cancel));
  auto socket = TcpSocket::Connect(parsed->host, parsed->port, options.connect_timeout_us, cancel);
  if (!socket.ok()) return socket.status();
  source->socket_ = std::move(socket).value();
  if (parsed->tls) {
    const MonoMicros deadline{MonotonicNow().us + options.connect_timeout_us};
    Status tls = source->socket_.StartTls(parsed->host, deadline, cancel);
    if (!tls.ok()) return tls;
    if (options.check_certificate) {
      Status pinned = options.check_certificate(source->socket_.PeerCertificateDetails());
      if (!pinned.ok()) return pinned;
    }
  }
  Status st = source->Handshake();
  if (!st.ok()) return st;
  return source;
}

const AVCodecParameters* RtspTcpSource::codecpar(int stream) const {
  return tracks_.at(static_cast<size_t>(stream))->params.par.get();
}

AVRational RtspTcpSource::time_base(int stream) const {
  return tracks_.at(static_cast<size_t>(stream))->params.time_base;
}

std::optional<UtcMicros> RtspTcpSource::CameraWallClock(int64_t pts, int stream) const {
  if (stream < 0 || stream >= stream_count()) return std::nullopt;
  return tracks_[static_cast<size_t>(stream)]->rtp->CameraWallClock(pts);
}

RtspCounters RtspTcpSource::counters() const {
  RtspCounters c = counters_;
  c.skipped_bytes = rx_.skipped_bytes();
  for (const auto& t : tracks_) {
    c.rtp_packets += t->rtp->counters().packets;
    c.rtp_packets_lost += t->rtp->counters().lost;
    c.frames_dropped += t->rtp->depacketizer_counters().frames_dropped;
    c.malformed_payloads += t->rtp->depacketizer_counters().malformed;
  }
  return c;
}

// --- Session set-up --------------------------------------------------------------------

Status RtspTcpSource::Handshake() {
  auto options = Transact("OPTIONS", url_.clean, "");
  if (!options.ok()) return options.status();
  if (const std::string* pub = options->Header("Public")) {
    get_parameter_ = pub->find("GET_PARAMETER") != std::string::npos;
  }
  std::string base, sdp;
  CUSTODIAN_RETURN_IF_ERROR(Describe(&base, &sdp));
  CUSTODIAN_RETURN_IF_ERROR(SetUp(base, sdp));
  CUSTODIAN_RETURN_IF_ERROR(Play());
  if (options_.receive_low_water_bytes > 1) {
    socket_.SetReceiveLowWater(options_.receive_low_water_bytes);
  }
  AwaitParameterSets();
  if (end_ != RtspEnd::kNone) return end_status_;
  std::string summary;
  for (const auto& t : tracks_)
    summary += (summary.empty() ? "" : ", ") + CodecSummary(t->params.par.get());
  LogDebug("rtsp") << url_.clean << ": playing " << summary << "; session timeout "
                   << session_timeout_us_ / kMicrosPerSecond << " s";
  return Status::Ok();
}

Status RtspTcpSource::Describe(std::string* base, std::string* sdp) {
  auto a = Transact("DESCRIBE", url_.clean, "Accept: application/sdp\r\n");
  if (!a.ok()) return a.status();
  CUSTODIAN_RETURN_IF_ERROR(AnswerStatus("DESCRIBE", *a));
  const std::string* b = a->Header("Content-Base");
  if (!b) b = a->Header("Content-Location");
  *base = b ? ResolveControl(url_.clean, *b) : url_.clean;
  // Some cameras echo the credentials of the URL in Content-Base; never send them on.
  if (auto parsed = ParseRtspUrl(*base); parsed.ok()) *base = parsed->clean;
  *sdp = std::move(a->body);
  return Status::Ok();
}

Status RtspTcpSource::SetUp(const std::string& base, const std::string& sdp) {
  auto sd = ParseSdp(sdp);
  if (!sd.ok()) return DataLoss("DESCRIBE: " + sd.status().message());
  aggregate_url_ = sd->control.empty() ? base : ResolveControl(base, sd->control);
  size_t beyond_cap = 0;
  for (const SdpMedia& m : sd->media) {
    auto params = TrackParametersFromSdp(m);
    if (!params.ok()) {
      skipped_tracks_.push_back(params.status().message());
      continue;
    }
    if (tracks_.size() == static_cast<size_t>(kMaxTracks)) {
      ++beyond_cap;
      continue;
    }
    auto track = std::make_unique<Track>();
    track->params = std::move(params).value();
    track->control = m.control;
    track->control_url = ResolveControl(base, m.control);
    const int index = static_cast<int>(tracks_.size());
    const AVCodecParameters* par = track->params.par.get();
    const int clock_rate = track->params.time_base.den;
    std::unique_ptr<Depacketizer> d;
    if (par->codec_id == AV_CODEC_ID_H264) {
      d = MakeH264Depacketizer(index);
    } else if (par->codec_id == AV_CODEC_ID_HEVC) {
      d = MakeH265Depacketizer(index);
    } else {
      const AacPayloadFormat& f = track->params.aac;
      const int ticks = static_cast<int>(int64_t{f.constant_duration} * clock_rate /
                                         std::max(par->sample_rate, 1));
      d = MakeAacDepacketizer(index, f, ticks);
    }
    track->rtp = std::make_unique<RtpStream>(index, clock_rate, std::move(d));
    tracks_.push_back(std::move(track));
  }
  if (beyond_cap > 0) {
    skipped_tracks_.push_back(std::to_string(beyond_cap) + " more tracks beyond the first " +
                              std::to_string(kMaxTracks) + " are not read");
  }
  if (tracks_.empty()) {
    return InvalidArgument("the camera offers no H.264, H.265 or AAC track (" +
                           JoinSome(skipped_tracks_, 5) + ")");
  }
  for (size_t i = 0; i < tracks_.size(); ++i) {
    CUSTODIAN_RETURN_IF_ERROR(SetUpTrack(*tracks_[i], static_cast<int>(i)));
  }
  return Status::Ok();
}

Status RtspTcpSource::SetUpTrack(Track& track, int index) {
  const std::string channels = std::to_string(2 * index) + "-" + std::to_string(2 * index + 1);
  auto a = Transact("SETUP", track.control_url,
                    "Transport: RTP/AVP/TCP;unicast;interleaved=" + channels + "\r\n");
  if (!a.ok()) return a.status();
  CUSTODIAN_RETURN_IF_ERROR(AnswerStatus("SETUP", *a));
  if (const std::string* session = a->Header("Session"); session && session_id_.empty()) {
    session_id_ = std::string(Trim(std::string_view(*session).substr(0, session->find(';'))));
    if (auto timeout = HeaderParam(*session, "timeout")) {
      if (auto s = ParseSessionTimeout(*timeout)) session_timeout_us_ = *s * kMicrosPerSecond;
    }
  }
  if (session_id_.empty()) return DataLoss("SETUP: the answer has no Session header");
  // Asked for: 2n and 2n+1, within range since n < kMaxTracks.
  track.rtp_channel = 2 * index;
  track.rtcp_channel = 2 * index + 1;
  if (const std::string* transport = a->Header("Transport")) {
    // The camera may pick other channels than those asked for, but only ones a '$' frame
    // can name, and not ones another track has: the channel map is indexed with them.
    if (auto value = HeaderParam(*transport, "interleaved")) {
      if (!ParseChannels(*value, &track.rtp_channel, &track.rtcp_channel)) {
        return DataLoss("SETUP: the camera chose interleaved channels \"" + value->substr(0, 40) +
                        "\"; they must be 0-" + std::to_string(kMaxChannel));
      }
    }
  }
  const int rtp = track.rtp_channel;
  const int rtcp = track.rtcp_channel;
  if (rtp < 0 || rtp > kMaxChannel || rtcp < 0 || rtcp > kMaxChannel) {  // not reachable
    return DataLoss("SETUP: interleaved channels out of range");
  }
  if (rtp == rtcp || channel_map_[rtp] >= 0 || channel_map_[rtcp] >= 0) {
    return DataLoss("SETUP: the camera chose interleaved channels " + std::to_string(rtp) + "-" +
                    std::to_string(rtcp) + ", which are not two channels of this track alone");
  }
  channel_map_[rtp] = static_cast<int16_t>(2 * index);
  channel_map_[rtcp] = static_cast<int16_t>(2 * index + 1);
  return Status::Ok();
}

Status RtspTcpSource::Play() {
  auto a = Transact("PLAY", aggregate_url_, "Range: npt=0.000-\r\n");
  if (!a.ok()) return a.status();
  CUSTODIAN_RETURN_IF_ERROR(AnswerStatus("PLAY", *a));
  if (const std::string* info = a->Header("RTP-Info")) {
    // url=rtsp://.../stream=0;seq=1;rtptime=2, url=...: one entry per track.
    const std::vector<std::string> entries = SplitList(*info);
    for (size_t i = 0; i < tracks_.size(); ++i) {
      Track& t = *tracks_[i];
      for (size_t e = 0; e < entries.size(); ++e) {
        auto url = HeaderParam(entries[e], "url");
        auto rtptime = HeaderParam(entries[e], "rtptime");
        if (!rtptime) continue;
        const bool same = url && (*url == t.control_url || EndsWith(t.control_url, *url) ||
                                  EndsWith(*url, "/" + t.control));
        const bool by_order = entries.size() == tracks_.size() && e == i && !url;
        if (same || by_order)
          t.rtp->SetOrigin(static_cast<uint32_t>(std::strtoul(rtptime->c_str(), nullptr, 10)));
      }
    }
  }
  playing_ = true;
  next_keepalive_ = MonoMicros{MonotonicNow().us + KeepAliveInterval()};
  return Status::Ok();
}

// Without parameter sets in the SDP the recorder could not write a file header: read on
// until each video track's first keyframe brings them in-band.
// Frames are queued meanwhile, within the queue's bounds (ProcessBuffered drops the
// oldest); each is looked at as it is queued, before any dropping, so that a keyframe is
// never dropped unseen.
void RtspTcpSource::AwaitParameterSets() {
  awaiting_parameters_.assign(tracks_.size(), false);
  parameters_missing_ = 0;
  for (size_t i = 0; i < tracks_.size(); ++i) {
    const AVCodecParameters* par = tracks_[i]->params.par.get();
    if (par->codec_type == AVMEDIA_TYPE_VIDEO && (par->extradata_size == 0 || par->width == 0)) {
      awaiting_parameters_[i] = true;
      ++parameters_missing_;
    }
  }
  // Frames that came with the answers, before PLAY.
  if (parameters_missing_ > 0) ScanForParameterSets(0);
  const MonoMicros deadline{MonotonicNow().us + options_.connect_timeout_us};
  while (parameters_missing_ > 0) {
    Status st = ProcessBuffered(false, -1, nullptr);
    if (st.ok() && parameters_missing_ > 0)
      st = Receive(deadline, options_.connect_timeout_us, "keyframe");
    if (!st.ok()) {
      if (end_ == RtspEnd::kStalled) {
        LogWarn("rtsp") << url_.clean << ": no parameter sets in the SDP nor in a keyframe within "
                        << options_.connect_timeout_us / 1000 << " ms; the picture size is unknown";
        end_ = RtspEnd::kNone;
      }
      break;
    }
  }
  parameters_missing_ = 0;
}

void RtspTcpSource::ScanForParameterSets(size_t from) {
  for (size_t i = from; i < ready_.size() && parameters_missing_ > 0; ++i) {
    const AVPacket* p = ready_.at(i);
    const size_t s = static_cast<size_t>(p->stream_index);
    if (s < awaiting_parameters_.size() && awaiting_parameters_[s] &&
        (p->flags & AV_PKT_FLAG_KEY) &&
        FillParametersFromAccessUnit(tracks_[s]->params.par.get(), p->data,
                                     static_cast<size_t>(p->size))) {
      awaiting_parameters_[s] = false;
      --parameters_missing_;
    }
  }
}

// --- Requests and answers --------------------------------------------------------------

Result<RtspMessage> RtspTcpSource::Transact(const std::string& method, const std::string& uri,
                                            const std::string& extra_headers) {
  for (int attempt = 0;; ++attempt) {
    const int cseq = ++cseq_;
    const MonoMicros deadline{MonotonicNow().us + options_.connect_timeout_us};
    CUSTODIAN_RETURN_IF_ERROR(SendRequest(method, uri, extra_headers, cseq, deadline));
    auto answer = AwaitAnswer(cseq, deadline);
    if (!answer.ok() || answer->status != 401) return answer;
    if (!auth_.OnChallenge(answer->AllHeaders("WWW-Authenticate"))) {
      if (auth_.basic_refused()) return Unauthenticated(method + ": " + kBasicRefusedMessage);
      return Unauthenticated(method + ": " +
                             (auth_.has_credentials()
                                  ? "the camera asks for an unsupported authentication scheme"
                                  : "the camera requires credentials"));
    }
    // One try with the credentials, one more if the camera only found the nonce stale.
    if (attempt == 0 || (attempt == 1 && auth_.stale())) continue;
    return Unauthenticated(method + ": the camera rejected the credentials");
  }
}

Status RtspTcpSource::SendRequest(const std::string& method, const std::string& uri,
                                  const std::string& extra_headers, int cseq, MonoMicros deadline) {
  std::string request = method + " " + uri + " RTSP/1.0\r\nCSeq: " + std::to_string(cseq) +
                        "\r\nUser-Agent: " + options_.user_agent + "\r\n";
  const std::string authorization = auth_.Authorization(method, uri);
  if (!authorization.empty()) request += "Authorization: " + authorization + "\r\n";
  if (!session_id_.empty()) request += "Session: " + session_id_ + "\r\n";
  request += extra_headers + "\r\n";
  Status st = socket_.SendAll(request, deadline, cancel_);
  if (st.ok()) return st;
  if (st.kind() == ErrorKind::kFailedPrecondition) return End(RtspEnd::kCancelled, st);
  return End(RtspEnd::kConnectionLost, Unavailable(method + ": " + st.message()));
}

Result<RtspMessage> RtspTcpSource::AwaitAnswer(int cseq, MonoMicros deadline) {
  for (;;) {
    std::optional<RtspMessage> answer;
    CUSTODIAN_RETURN_IF_ERROR(ProcessBuffered(false, cseq, &answer));
    if (answer) return std::move(*answer);
    CUSTODIAN_RETURN_IF_ERROR(Receive(deadline, options_.connect_timeout_us, "answer"));
  }
}

Status RtspTcpSource::ProcessBuffered(bool stop_at_packet, int awaited_cseq,
                                      std::optional<RtspMessage>* answer) {
  InterleavedBuffer::Frame frame;
  RtspMessage message;
  for (;;) {
    if (stop_at_packet && !ready_.empty()) return Status::Ok();
    switch (rx_.Next(&frame, &message)) {
      case InterleavedBuffer::Unit::kNeedMore:
        return Status::Ok();
      case InterleavedBuffer::Unit::kError:
        return End(RtspEnd::kProtocolError, DataLoss("the camera sent a malformed RTSP message"));
      case InterleavedBuffer::Unit::kFrame: {
        const int16_t t = channel_map_[frame.channel];  // a uint8_t: always in range
        if (t < 0) break;  // a channel nobody set up
        RtpStream& rtp = *tracks_[static_cast<size_t>(t / 2)]->rtp;
        if (t & 1) {
          rtp.OnRtcp(frame.data, frame.size);
          break;
        }
        const size_t queued = ready_.size();
        rtp.OnRtp(frame.data, frame.size, &ready_);
        if (parameters_missing_ > 0) ScanForParameterSets(queued);
        // One RTP packet adds at most a few frames (two video, 64 AAC); bound the queue
        // after each, so that a flood of tiny frames cannot grow it.
        counters_.queue_overflow_drops += static_cast<int64_t>(
            ready_.Enforce(options_.max_queued_packets, options_.max_queued_bytes));
        counters_.queue_peak_packets =
            std::max(counters_.queue_peak_packets, static_cast<int64_t>(ready_.size()));
        counters_.queue_peak_bytes =
            std::max(counters_.queue_peak_bytes, static_cast<int64_t>(ready_.bytes()));
        break;
      }
      case InterleavedBuffer::Unit::kMessage:
        if (answer && message.is_response &&
            (message.CSeq() == awaited_cseq || message.CSeq() < 0)) {
          *answer = std::move(message);
          return Status::Ok();
        }
        OnUnsolicitedMessage(message);
        break;
    }
  }
}

void RtspTcpSource::OnUnsolicitedMessage(const RtspMessage& m) {
  if (!m.is_response) {
    // A camera asking something (OPTIONS as a liveness check, mostly): answer so that it
    // does not give up on us, refusing anything else.
    const bool known = m.method == "OPTIONS" || m.method == "GET_PARAMETER";
    std::string reply = std::string("RTSP/1.0 ") + (known ? "200 OK" : "501 Not Implemented") +
                        "\r\nCSeq: " + std::to_string(m.CSeq()) + "\r\n\r\n";
    (void)socket_.SendAll(reply, MonoMicros{MonotonicNow().us + kTeardownTimeoutUs}, cancel_);
    return;
  }
  if (m.status == 401) {
    auth_.OnChallenge(m.AllHeaders("WWW-Authenticate"));  // a new nonce for the next one
  }
  if (m.status >= 300 && counters_.keepalive_errors++ == 0) {
    LogWarn("rtsp") << url_.clean << ": keep-alive answered " << m.status << " " << m.reason
                    << "; reading on, the camera may end the session";
  }
}

// --- Reading ---------------------------------------------------------------------------

Status RtspTcpSource::ReadPacket(AVPacket* out, int* stream_index, int64_t stall_timeout_us) {
  if (end_ != RtspEnd::kNone && end_ != RtspEnd::kStalled && end_ != RtspEnd::kCancelled)
    return end_status_;
  end_ = RtspEnd::kNone;
  const MonoMicros deadline{MonotonicNow().us + stall_timeout_us};
  for (;;) {
    if (ready_.PopFront(out)) {
      *stream_index = out->stream_index;
      ++counters_.frames;
      return Status::Ok();
    }
    CUSTODIAN_RETURN_IF_ERROR(ProcessBuffered(true, -1, nullptr));
    if (ready_.empty()) CUSTODIAN_RETURN_IF_ERROR(Receive(deadline, stall_timeout_us, "media"));
  }
}

Status RtspTcpSource::Receive(MonoMicros deadline, int64_t timeout_us, const char* waiting_for) {
  const bool low_water = playing_ && options_.receive_low_water_bytes > 1;
  for (;;) {
    if (cancel_ && cancel_->load())
      return End(RtspEnd::kCancelled, FailedPrecondition("cancelled"));
    const MonoMicros now = MonotonicNow();
    if (now >= next_keepalive_) CUSTODIAN_RETURN_IF_ERROR(SendKeepAlive(now));
    // Before reading, not only when the socket is empty: a camera that never stops
    // sending, but never sends what is awaited, must not hold the caller past its deadline.
    if (now >= deadline) {
      return End(RtspEnd::kStalled,
                 Unavailable(std::string("no ") + waiting_for + " from the camera within " +
                             std::to_string(timeout_us / 1000) + " ms"));
    }
    if (!drained_) {
      size_t space = 0;
      uint8_t* tail = rx_.PrepareTail(&space);
      const ssize_t n = socket_.Receive(tail, space);
      if (n > 0) {
        rx_.Commit(static_cast<size_t>(n));
        counters_.bytes_received += n;
        ++counters_.reads;
        drained_ = static_cast<size_t>(n) < space;
        return Status::Ok();
      }
      if (n == 0) return End(RtspEnd::kClosed, Unavailable("the camera closed the connection"));
      if (n == -2) {
        return End(RtspEnd::kConnectionLost,
                   Unavailable(std::string("connection lost: ") + std::strerror(errno)));
      }
      drained_ = true;
    }
    ++counters_.polls;
    const int64_t wait = std::min(deadline - now, next_keepalive_ - now);
    // With a low-water mark, a quiet camera's last bytes never wake poll: read them anyway.
    if (socket_.WaitReadable(wait) || low_water) drained_ = false;
  }
}

int64_t RtspTcpSource::KeepAliveInterval() const {
  if (options_.keepalive_interval_us > 0) return options_.keepalive_interval_us;
  return std::max(session_timeout_us_ / 2, kMinKeepAliveIntervalUs);
}

Status RtspTcpSource::SendKeepAlive(MonoMicros now) {
  next_keepalive_ = MonoMicros{now.us + KeepAliveInterval()};
  ++counters_.keepalives;
  return SendRequest(get_parameter_ ? "GET_PARAMETER" : "OPTIONS", aggregate_url_, "", ++cseq_,
                     MonoMicros{now.us + options_.connect_timeout_us});
}

Status RtspTcpSource::End(RtspEnd reason, Status status) {
  end_ = reason;
  end_status_ = status;
  return status;
}

void RtspTcpSource::Teardown() {
  if (!socket_.is_open()) return;
  if (!session_id_.empty() && end_ != RtspEnd::kClosed && end_ != RtspEnd::kConnectionLost) {
    // Best effort and without waiting: the camera frees the session at once instead of
    // after its timeout, which matters to cameras that allow few sessions.
    (void)SendRequest("TEARDOWN", aggregate_url_, "", ++cseq_,
                      MonoMicros{MonotonicNow().us + kTeardownTimeoutUs});
  }
  socket_ = TcpSocket();
}

}  // namespace custodian::media::rtsp
