// The two buffers between the socket and the caller's AVPacket.
//
// FrameBuffer assembles one frame (or one audio access unit) in a refcounted AVBuffer drawn
// from an AVBufferPool: depacketizing copies each payload byte once, into it, and handing
// the frame over only moves the reference into the caller's AVPacket. When the caller
// unreferences the packet the buffer returns to the pool, so after the first keyframe no
// allocation happens per frame. A frame larger than the pool's buffers replaces the pool
// with one of larger buffers (the only time a frame's bytes are copied twice).
//
// PacketQueue holds finished packets in arrival order until ReadPacket hands them out
// (one RTP packet can complete several AAC frames, or a video frame and start the next).
// Its slots are reused; it grows only when the caller lags behind, and never beyond the
// bounds its owner enforces with Enforce(): a camera must not be able to make the
// recorder hold an unbounded number of frames.
//
// Neither is thread-safe; both belong to one RtspTcpSource.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "media/av_util.h"

namespace custodian::media::rtsp {

class FrameBuffer {
 public:
  explicit FrameBuffer(size_t initial_capacity);
  ~FrameBuffer();
  FrameBuffer(const FrameBuffer&) = delete;
  FrameBuffer& operator=(const FrameBuffer&) = delete;

  // Room for n more bytes at the end of the frame; the frame's size grows by n. nullptr
  // when memory ran out or the frame would exceed kMaxFrameBytes.
  uint8_t* Extend(size_t n);
  bool Append(const uint8_t* data, size_t n);
  size_t size() const { return size_; }
  const uint8_t* data() const;
  // Forgets the frame's bytes, keeping the buffer for the next frame.
  void Clear() { size_ = 0; }
  // Moves the frame into *out (unreferencing what it held) with zeroed padding; the frame
  // is empty afterwards.
  void MoveTo(AVPacket* out);

  static constexpr size_t kMaxFrameBytes = 32u << 20;

 private:
  bool Reserve(size_t total);
  AVBufferPool* pool_ = nullptr;
  size_t pool_buffer_size_ = 0;
  AVBufferRef* buf_ = nullptr;
  size_t size_ = 0;
};

class PacketQueue {
 public:
  PacketQueue();
  // An empty packet at the back of the queue for the caller to fill.
  AVPacket* PushBack();
  // Moves the front packet into *out; false when empty.
  bool PopFront(AVPacket* out);
  // Undoes the last PushBack (the packet is unreferenced).
  void DropBack();
  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }
  // The i-th queued packet from the front, for inspection.
  const AVPacket* at(size_t i) const { return slots_[(head_ + i) % slots_.size()].get(); }

  // Drops packets from the front (the oldest) until at most max_packets are queued and
  // their buffers (each packet's whole buffer, not just its payload: that is the memory
  // held) total at most max_bytes, always keeping the newest packet. Call it once the
  // packets pushed since the last call are filled in. Returns how many were dropped.
  size_t Enforce(size_t max_packets, size_t max_bytes);
  // The buffer bytes of the queued packets, as of the last Enforce (or less, after pops).
  size_t bytes() const { return bytes_; }

 private:
  // What a queued packet holds in memory.
  static size_t Footprint(const AVPacket* p);
  void DropFront();

  std::vector<Packet> slots_;
  size_t head_ = 0;
  size_t count_ = 0;
  // bytes_ is the footprint of the first `accounted_` packets; Enforce accounts the rest.
  size_t accounted_ = 0;
  size_t bytes_ = 0;
};

}  // namespace custodian::media::rtsp
