// InterleavedBuffer: the receive buffer of an RTSP connection carrying interleaved RTP
// (RFC 2326 §10.12): '$', a channel byte, a 16-bit length and that many bytes of RTP or
// RTCP, mixed with RTSP messages (answers to keep-alives, the odd request from a camera).
//
// The connection is read in large chunks into one linear buffer and every complete unit
// in it is parsed in place: a frame is a view into the buffer, valid until the next
// PrepareTail(). When little room is left at the end, the incomplete unit at the front
// (less than 64 KiB) is moved to the start, so a byte is moved at most about once per
// buffer length read.
//
// Bytes that are neither a frame nor a message are skipped to the next '$' (counted); some
// cameras pad or send garbage after a reconnect.
//
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "media/rtsp/rtsp_message.h"

namespace custodian::media::rtsp {

class InterleavedBuffer {
 public:
  explicit InterleavedBuffer(size_t capacity);

  // Where the next read goes, after making room: at least half the capacity is free
  // when the buffer holds no complete unit.
  uint8_t* PrepareTail(size_t* space);
  void Commit(size_t n) { end_ += n; }

  enum class Unit { kNeedMore, kFrame, kMessage, kError };
  struct Frame {
    uint8_t channel = 0;
    const uint8_t* data = nullptr;
    size_t size = 0;
  };
  // Takes the next complete unit off the front. kError when an RTSP message is malformed
  // or larger than the buffer can hold.
  Unit Next(Frame* frame, RtspMessage* message);

  size_t buffered() const { return end_ - start_; }
  int64_t skipped_bytes() const { return skipped_bytes_; }

 private:
  Unit NextMessage(RtspMessage* message);
  bool LooksLikeMessage(size_t* need_more) const;

  const size_t capacity_;
  std::unique_ptr<uint8_t[]> data_;
  size_t start_ = 0;
  size_t end_ = 0;
  int64_t skipped_bytes_ = 0;
};

}  // namespace custodian::media::rtsp
