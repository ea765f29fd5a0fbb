#include "media/access_unit.h"

#include <cstring>

namespace custodian::media {

namespace {
int64_t Timestamp(const AVPacket* p) { return p->pts != AV_NOPTS_VALUE ? p->pts : p->dts; }
}  // namespace

bool AccessUnitAssembler::Push(AVPacket* pkt, AVPacket* out) {
  if (has_pending_ && Timestamp(pkt) == Timestamp(pending_.get()) && Timestamp(pkt) != AV_NOPTS_VALUE) {
    const int old_size = pending_->size;
    // av_grow_packet keeps the data and makes the packet writable.
    if (av_grow_packet(pending_.get(), pkt->size) == 0) {
      std::memcpy(pending_->data + old_size, pkt->data, pkt->size);
      pending_->flags |= pkt->flags & AV_PKT_FLAG_KEY;
      if (pkt->duration > pending_->duration) pending_->duration = pkt->duration;
      av_packet_unref(pkt);
      return false;
    }
  }
  bool done = false;
  if (has_pending_) {
    av_packet_move_ref(out, pending_.get());
    done = true;
  }
  av_packet_move_ref(pending_.get(), pkt);
  has_pending_ = true;
  return done;
}

bool AccessUnitAssembler::Flush(AVPacket* out) {
  if (!has_pending_) return false;
  av_packet_move_ref(out, pending_.get());
  has_pending_ = false;
  return true;
}

}  // namespace custodian::media
