#include "media/av_util.h"

#include <time.h>

namespace custodian::media {

std::string AvErrorString(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

Status AvStatus(const std::string& what, int err) {
  std::string msg = what + ": " + AvErrorString(err);
  if (err == AVERROR(ENOSPC)) return ResourceExhausted(msg);
  if (err == AVERROR_EOF || err == AVERROR_EXIT || err == AVERROR(ETIMEDOUT) ||
      err == AVERROR(ECONNREFUSED) || err == AVERROR(ECONNRESET) || err == AVERROR(EIO))
    return Unavailable(msg);
  if (err == AVERROR_HTTP_UNAUTHORIZED || err == AVERROR_HTTP_FORBIDDEN)
    return Unauthenticated(msg);
  if (err == AVERROR_INVALIDDATA) return DataLoss(msg);
  return IoError(msg);
}

CodecParameters CopyCodecParameters(const AVCodecParameters* src) {
  CodecParameters p(avcodec_parameters_alloc());
  if (p && avcodec_parameters_copy(p.get(), src) < 0) p.reset();
  return p;
}

static int64_t MonotonicNowUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
}

void InterruptDeadline::Arm(int64_t timeout_us) { deadline_us_ = MonotonicNowUs() + timeout_us; }

bool InterruptDeadline::expired() const {
  int64_t d = deadline_us_.load();
  return d != 0 && MonotonicNowUs() > d;
}

int InterruptDeadline::OnInterrupt(void* self) {
  auto* d = static_cast<InterruptDeadline*>(self);
  return (d->cancelled_ || d->expired()) ? 1 : 0;
}

AVIOInterruptCB InterruptDeadline::Callback() { return AVIOInterruptCB{&OnInterrupt, this}; }

std::string CodecName(AVCodecID id) {
  const char* n = avcodec_get_name(id);
  return n ? n : "unknown";
}

}  // namespace custodian::media
