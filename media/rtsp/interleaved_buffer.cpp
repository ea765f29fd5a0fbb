#include "media/rtsp/interleaved_buffer.h"

#include <cstring>
#include <string_view>

namespace custodian::media::rtsp {

namespace {
// '$' + channel + 16-bit length + the largest payload that length allows.
constexpr size_t kMaxFrame = 4 + 65535;
// An RTSP message (head and body) must fit in this; SDPs are a few KiB.
constexpr size_t kMaxMessage = 64 * 1024;
}  // namespace

InterleavedBuffer::InterleavedBuffer(size_t capacity)
    : capacity_(capacity < 2 * kMaxFrame ? 2 * kMaxFrame : capacity),
      data_(new uint8_t[capacity_]) {}

uint8_t* InterleavedBuffer::PrepareTail(size_t* space) {
  if (start_ == end_) {
    start_ = end_ = 0;
  } else if (capacity_ - end_ < kMaxFrame) {
    std::memmove(data_.get(), data_.get() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  *space = capacity_ - end_;
  return data_.get() + end_;
}

// A message starts with "RTSP/" (a response) or an upper-case method and a space.
bool InterleavedBuffer::LooksLikeMessage(size_t* need_more) const {
  const uint8_t* p = data_.get() + start_;
  const size_t n = end_ - start_;
  static constexpr char kResponse[] = "RTSP/";
  size_t i = 0;
  for (; i < n && i < 5; ++i) {
    if (p[i] != static_cast<uint8_t>(kResponse[i])) break;
  }
  if (i == 5) return true;
  if (i == n) {
    *need_more = 1;
    return false;
  }
  for (i = 0; i < n && i < 20; ++i) {
    if (p[i] == ' ') return i > 0;
    if (!((p[i] >= 'A' && p[i] <= 'Z') || p[i] == '_')) return false;
  }
  if (i == n) *need_more = 1;
  return false;
}

InterleavedBuffer::Unit InterleavedBuffer::Next(Frame* frame, RtspMessage* message) {
  while (end_ - start_ >= 4) {
    const uint8_t* p = data_.get() + start_;
    if (p[0] == '$') {
      const size_t length = size_t{p[2]} << 8 | p[3];
      if (end_ - start_ < 4 + length) return Unit::kNeedMore;
      frame->channel = p[1];
      frame->data = p + 4;
      frame->size = length;
      start_ += 4 + length;
      return Unit::kFrame;
    }
    size_t need_more = 0;
    if (LooksLikeMessage(&need_more)) return NextMessage(message);
    if (need_more) return Unit::kNeedMore;
    // Garbage: skip to the next '$' (or the end).
    const void* dollar = std::memchr(p + 1, '$', end_ - start_ - 1);
    const size_t skip = dollar ? static_cast<const uint8_t*>(dollar) - p : end_ - start_;
    skipped_bytes_ += static_cast<int64_t>(skip);
    start_ += skip;
  }
  return Unit::kNeedMore;
}

InterleavedBuffer::Unit InterleavedBuffer::NextMessage(RtspMessage* message) {
  const char* p = reinterpret_cast<const char*>(data_.get() + start_);
  const std::string_view buffered(p, end_ - start_);
  const size_t head_end = buffered.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    return buffered.size() > kMaxMessage ? Unit::kError : Unit::kNeedMore;
  }
  auto parsed = ParseRtspHead(buffered.substr(0, head_end));
  if (!parsed.ok()) return Unit::kError;
  const long body = ContentLength(*parsed);
  if (body < 0 || head_end + 4 + static_cast<size_t>(body) > kMaxMessage) return Unit::kError;
  const size_t total = head_end + 4 + static_cast<size_t>(body);
  if (buffered.size() < total) return Unit::kNeedMore;
  *message = std::move(parsed).value();
  message->body.assign(p + head_end + 4, static_cast<size_t>(body));
  start_ += total;
  return Unit::kMessage;
}

}  // namespace custodian::media::rtsp
