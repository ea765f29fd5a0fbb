#include "api/transcoded_footage.h"

#include <charconv>
#include <limits>

namespace custodian::api {

namespace {

// A decimal query parameter, default 0.
Result<uint64_t> NumberParam(const HttpRequest& request, const std::string& key, uint64_t max) {
  const std::string* v = request.Query(key);
  if (!v) return uint64_t{0};
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || v->empty() || n > max) {
    return InvalidArgument(key + " must be a whole number up to " + std::to_string(max));
  }
  return n;
}

}  // namespace

Result<bool> WantsTranscode(const HttpRequest& request) {
  const std::string* v = request.Query("transcode");
  if (!v) return false;
  if (*v != "h264") return InvalidArgument("transcode must be h264, the only copy offered");
  return true;
}

Result<HttpResponse> TranscodedFootage(ApiContext& ctx, const Call& call,
                                       const records::SegmentRow& segment,
                                       const OpenedSegment& opened, const Purpose& purpose,
                                       const FootageScope& scope, Reveal reveal, bool closed) {
  auto offset = NumberParam(call.request, "offset", uint64_t{1} << 40);
  if (!offset.ok()) return FootageFailed(ctx, call, scope, purpose, offset.status());
  auto first = NumberParam(call.request, "from_fragment", std::numeric_limits<uint32_t>::max());
  if (!first.ok()) return FootageFailed(ctx, call, scope, purpose, first.status());
  const TranscodeKey key{segment.id, static_cast<uint32_t>(*first)};
  auto chunk = ctx.transcodes.Read(key, opened.file->fd(), opened.size, closed, *offset);
  if (!chunk.ok()) return FootageFailed(ctx, call, scope, purpose, chunk.status());

  if (reveal.kind == ViewingKind::kLive) {
    reveal.fetched = {scope.camera, segment.start + chunk->from_us, segment.start + chunk->to_us};
  } else {
    reveal.fetched = scope;
  }
  reveal.bytes = chunk->bytes.size();
  reveal.start_detail += "; transcoded to H.264 for a browser that cannot decode the camera's codec";
  auto viewing = EnterViewing(ctx, call, purpose, reveal);
  if (!viewing.ok()) return viewing.status();
  HttpResponse r;
  NameViewing(&r, *viewing);
  r.content_type = "video/mp4";
  r.body = std::move(chunk->bytes);
  r.SetHeader("X-Transcode-Complete", chunk->complete ? "yes" : "no");
  r.SetHeader("X-Transcode-Media-From-Us", std::to_string(chunk->from_us));
  r.SetHeader("X-Transcode-Wall-From", FormatUtc(segment.start + chunk->from_us));
  return r;
}

}  // namespace custodian::api
