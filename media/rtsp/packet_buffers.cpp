#include "media/rtsp/packet_buffers.h"

#include <algorithm>
#include <cstring>

namespace custodian::media::rtsp {

namespace {
constexpr size_t kPoolGranularity = 16 * 1024;
size_t RoundUp(size_t n) {
  return (n + kPoolGranularity - 1) / kPoolGranularity * kPoolGranularity;
}
}  // namespace

FrameBuffer::FrameBuffer(size_t initial_capacity)
    : pool_buffer_size_(RoundUp(initial_capacity + AV_INPUT_BUFFER_PADDING_SIZE)) {}

FrameBuffer::~FrameBuffer() {
  av_buffer_unref(&buf_);
  // Buffers still held by callers' packets keep the pool alive until they are released.
  av_buffer_pool_uninit(&pool_);
}

const uint8_t* FrameBuffer::data() const { return buf_ ? buf_->data : nullptr; }

bool FrameBuffer::Reserve(size_t total) {
  const size_t needed = total + AV_INPUT_BUFFER_PADDING_SIZE;
  if (buf_ && needed <= buf_->size) return true;
  if (total > kMaxFrameBytes) return false;
  if (needed > pool_buffer_size_) {
    // Frames this large will recur (every keyframe): switch to a pool of bigger buffers.
    pool_buffer_size_ = RoundUp(std::max(needed + needed / 2, pool_buffer_size_ * 2));
    av_buffer_pool_uninit(&pool_);
  }
  if (!pool_) {
    pool_ = av_buffer_pool_init(pool_buffer_size_, nullptr);
    if (!pool_) return false;
  }
  AVBufferRef* fresh = av_buffer_pool_get(pool_);
  if (!fresh) return false;
  if (buf_) {
    std::memcpy(fresh->data, buf_->data, size_);
    av_buffer_unref(&buf_);
  }
  buf_ = fresh;
  return true;
}

uint8_t* FrameBuffer::Extend(size_t n) {
  if (!Reserve(size_ + n)) return nullptr;
  uint8_t* p = buf_->data + size_;
  size_ += n;
  return p;
}

bool FrameBuffer::Append(const uint8_t* data, size_t n) {
  // Nothing to add (an FU-A that starts and ends in one packet passes nullptr, 0):
  // memcpy's pointers must be valid even for 0 bytes.
  if (n == 0) return true;
  uint8_t* p = Extend(n);
  if (!p) return false;
  std::memcpy(p, data, n);
  return true;
}

void FrameBuffer::MoveTo(AVPacket* out) {
  av_packet_unref(out);
  if (!buf_) Reserve(0);
  if (!buf_) return;
  std::memset(buf_->data + size_, 0, AV_INPUT_BUFFER_PADDING_SIZE);
  out->buf = buf_;
  out->data = buf_->data;
  out->size = static_cast<int>(size_);
  buf_ = nullptr;
  size_ = 0;
}

PacketQueue::PacketQueue() {
  for (int i = 0; i < 8; ++i) slots_.push_back(MakePacket());
}

AVPacket* PacketQueue::PushBack() {
  if (count_ == slots_.size()) {
    std::rotate(slots_.begin(), slots_.begin() + static_cast<long>(head_), slots_.end());
    head_ = 0;
    const size_t grow = slots_.size();
    for (size_t i = 0; i < grow; ++i) slots_.push_back(MakePacket());
  }
  AVPacket* p = slots_[(head_ + count_) % slots_.size()].get();
  ++count_;
  return p;
}

void PacketQueue::DropBack() {
  if (count_ == 0) return;
  AVPacket* back = slots_[(head_ + count_ - 1) % slots_.size()].get();
  if (accounted_ == count_) {
    bytes_ -= Footprint(back);
    --accounted_;
  }
  --count_;
  av_packet_unref(back);
}

bool PacketQueue::PopFront(AVPacket* out) {
  if (count_ == 0) return false;
  av_packet_unref(out);
  if (accounted_ > 0) {
    bytes_ -= Footprint(slots_[head_].get());
    --accounted_;
  }
  av_packet_move_ref(out, slots_[head_].get());
  head_ = (head_ + 1) % slots_.size();
  --count_;
  return true;
}

size_t PacketQueue::Footprint(const AVPacket* p) {
  return p->buf ? p->buf->size : static_cast<size_t>(std::max(p->size, 0));
}

void PacketQueue::DropFront() {
  AVPacket* front = slots_[head_].get();
  if (accounted_ > 0) {
    bytes_ -= Footprint(front);
    --accounted_;
  }
  av_packet_unref(front);
  head_ = (head_ + 1) % slots_.size();
  --count_;
}

size_t PacketQueue::Enforce(size_t max_packets, size_t max_bytes) {
  for (; accounted_ < count_; ++accounted_)
    bytes_ += Footprint(slots_[(head_ + accounted_) % slots_.size()].get());
  size_t dropped = 0;
  while (count_ > 1 && (count_ > max_packets || bytes_ > max_bytes)) {
    DropFront();
    ++dropped;
  }
  return dropped;
}

}  // namespace custodian::media::rtsp
