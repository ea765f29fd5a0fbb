#include "activity/footage_index.h"

#include <algorithm>

#include "activity/indexer.h"
#include "media/av_util.h"

namespace custodian::activity {

Result<SegmentActivity> IndexFootageFile(const std::string& path, int64_t duration_us) {
  AVFormatContext* raw = nullptr;
  int rc = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (rc < 0) return media::AvStatus("open " + path, rc);
  media::InputContext ic(raw);
  const int v = av_find_best_stream(raw, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (v < 0) return DataLoss(path + " has no video stream");
  const AVStream* vs = raw->streams[v];
  ActivityIndexer indexer(vs->codecpar);
  media::Packet pkt = media::MakePacket();
  int64_t first = AV_NOPTS_VALUE;
  while ((rc = av_read_frame(raw, pkt.get())) >= 0) {
    if (pkt->stream_index == v) {
      const int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
      if (ts != AV_NOPTS_VALUE) {
        if (first == AV_NOPTS_VALUE) first = ts;
        const int64_t offset_us = av_rescale_q(ts - first, vs->time_base, AVRational{1, 1'000'000});
        indexer.AddFrame(*pkt, std::max<int64_t>(0, offset_us));
      }
    }
    av_packet_unref(pkt.get());
  }
  if (rc != AVERROR_EOF) return media::AvStatus("read " + path, rc);
  return indexer.FinishSegment(duration_us);
}

}  // namespace custodian::activity
