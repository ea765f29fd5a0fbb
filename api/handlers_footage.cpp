// The routes that reveal recorded footage: segment download, HLS playlist, thumbnail, saved
// still. Each one checks the camera permission and the stated purpose (AdmitFootage), and
// joins the person's viewing that reaches the footage or starts one (EnterViewing), whose
// start entry is written before any footage leaves: an entry covers every byte sent. A saved
// still is the exception: an entry of its own each time.
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "api/byte_range.h"
#include "api/fmp4_ranges.h"
#include "api/handlers.h"
#include "api/hls.h"
#include "api/thumbnail.h"
#include "api/transcoded_footage.h"
#include "base/zoneinfo.h"
#include "config/camera_config.h"
#include "exports/timed_text.h"

namespace custodian::api {

namespace {

using records::AccessResult;
using records::SegmentRow;

// A sub stream's segment (recorded for review) is its camera's footage.
FootageScope ScopeOf(const SegmentRow& s) {
  return {config::StreamOwnerId(s.camera_id), s.start, s.end};
}

// The complete segment of records camera `id` that holds `at`, if any.
Result<std::optional<SegmentRow>> SegmentAt(ApiContext& ctx, const std::string& id, UtcMicros at) {
  auto rows = ctx.db.ListSegments(id, at, at + 1);
  if (!rows.ok()) return FromRecords(rows.status(), "list segments");
  std::optional<SegmentRow> found;
  for (const SegmentRow& s : *rows) {
    if (s.state == records::SegmentState::kComplete && s.start <= at && at < *s.end) found = s;
  }
  return found;
}

std::string RangeDetail(const SegmentRow& s, const ByteRange& r, uint64_t size) {
  std::string d = "first fetch: segment " + std::to_string(s.id);
  if (r.kind == ByteRange::Kind::kPartial) {
    d += " bytes " + std::to_string(r.offset) + "-" + std::to_string(r.offset + r.length - 1) +
         "/" + std::to_string(size);
  } else {
    d += " whole file, " + std::to_string(size) + " bytes";
  }
  return d;
}

HttpResponse FileResponse(const OpenedSegment& opened, const ByteRange& range) {
  HttpResponse r;
  r.content_type = "video/mp4";
  r.file = FileSlice{opened.file, range.offset, range.length};
  r.SetHeader("Accept-Ranges", "bytes");
  if (range.kind == ByteRange::Kind::kPartial) {
    r.status = 206;
    r.SetHeader("Content-Range", "bytes " + std::to_string(range.offset) + "-" +
                                     std::to_string(range.offset + range.length - 1) + "/" +
                                     std::to_string(opened.size));
  }
  return r;
}

Result<SegmentRow> CompleteSegment(ApiContext& ctx, const Call& call) {
  auto segment = ctx.db.GetSegment(*call.params.id);
  if (!segment.ok()) return FromRecords(segment.status(), "read the segment");
  if (!*segment) {
    FootageScope unknown;
    return FootageFailed(ctx, call, unknown, OfferedPurpose(call.request),
                         NotFound("no segment " + std::to_string(*call.params.id)));
  }
  return std::move(**segment);
}

}  // namespace

Result<HttpResponse> HandleSegmentFile(ApiContext& ctx, const Call& call) {
  auto segment = CompleteSegment(ctx, call);
  if (!segment.ok()) return segment.status();
  const FootageScope scope = ScopeOf(*segment);
  auto purpose = AdmitFootage(ctx, call, scope);
  if (!purpose.ok()) return purpose.status();
  if (segment->state != records::SegmentState::kComplete) {
    return FootageFailed(ctx, call, scope, *purpose,
                         NotFound("segment " + std::to_string(segment->id) +
                                  " is still being recorded or is being deleted"));
  }
  auto transcode = WantsTranscode(call.request);
  if (!transcode.ok()) return FootageFailed(ctx, call, scope, *purpose, transcode.status());
  auto opened = OpenSegmentFile(ctx, *segment);
  if (!opened.ok()) return FootageFailed(ctx, call, scope, *purpose, opened.status());
  if (*transcode) {
    Reveal reveal;
    reveal.reach = scope;
    reveal.start_detail = "segment " + std::to_string(segment->id) + " of camera " + scope.camera;
    return TranscodedFootage(ctx, call, *segment, *opened, *purpose, scope, std::move(reveal),
                             /*closed=*/true);
  }
  const std::string* header = call.request.Header("range");
  ByteRange range = header ? ParseByteRange(*header, opened->size)
                           : ByteRange{ByteRange::Kind::kWhole, 0, opened->size};
  if (range.kind == ByteRange::Kind::kUnsatisfiable) {
    CUSTODIAN_RETURN_IF_ERROR(LogFootage(ctx, call, scope, *purpose, AccessResult::kError,
                                         "range not satisfiable: " + header->substr(0, 80)));
    HttpResponse r = ErrorResponse(416, "range_not_satisfiable", "the range lies outside the file");
    r.SetHeader("Content-Range", "bytes */" + std::to_string(opened->size));
    return r;
  }
  Reveal reveal;
  reveal.reach = scope;
  reveal.fetched = scope;
  reveal.bytes = range.length;
  reveal.start_detail = "segment " + std::to_string(segment->id) + " of camera " + scope.camera +
                        "; " + RangeDetail(*segment, range, opened->size);
  auto viewing = EnterViewing(ctx, call, *purpose, reveal);
  if (!viewing.ok()) return viewing.status();
  HttpResponse r = FileResponse(*opened, range);
  NameViewing(&r, *viewing);
  return r;
}

Result<HttpResponse> HandlePlaylist(ApiContext& ctx, const Call& call) {
  auto admitted = AdmitFootageRange(ctx, call, kMaxPlaylistSpanUs);
  if (!admitted.ok()) return admitted.status();
  const TimeRange& range = admitted->range;
  const FootageScope& scope = admitted->scope;
  const Purpose& purpose = admitted->purpose;
  // stream=sub plays the camera's sub stream, where it is recorded (record_sub_stream).
  const std::string* stream = call.request.Query("stream");
  if (stream && *stream != "main" && *stream != "sub") {
    return FootageFailed(ctx, call, scope, purpose, InvalidArgument("stream must be main or sub"));
  }
  const bool sub = stream && *stream == "sub";
  auto rows = ctx.db.ListSegments(sub ? config::SubStreamId(scope.camera) : scope.camera,
                                  range.from, range.to);
  if (!rows.ok()) return FromRecords(rows.status(), "list segments");

  std::vector<HlsSegment> entries;
  const std::string query = "?" + PurposeQuery(purpose);
  // Segments are listed whole, so the viewing reaches from the first one's start to the
  // last one's end.
  FootageScope reach{scope.camera, std::nullopt, std::nullopt};
  for (const SegmentRow& s : *rows) {
    if (s.state != records::SegmentState::kComplete) continue;
    auto opened = OpenSegmentFile(ctx, s);
    if (!opened.ok()) continue;  // a file deleted meanwhile is simply not played
    auto parts = ReadFmp4Ranges(opened->file->fd(), opened->size);
    if (!parts.ok()) continue;
    entries.push_back({"/api/v1/segments/" + std::to_string(s.id) + "/file" + query,
                       parts->init_length, parts->init_length,
                       parts->media_end - parts->init_length, s.start,
                       s.duration_us > 0 ? s.duration_us : *s.end - s.start});
    if (!reach.from || s.start < *reach.from) reach.from = s.start;
    if (!reach.to || *reach.to < *s.end) reach.to = *s.end;
  }
  if (entries.empty()) {
    return FootageFailed(ctx, call, scope, purpose, NotFound("no footage in that time range"));
  }
  // The playlist lists footage but holds none: it adds nothing to what was fetched.
  Reveal reveal;
  reveal.reach = reach;
  reveal.start_detail = "playback of camera " + scope.camera + (sub ? " (sub stream)" : "") + ", " +
                        FormatUtc(*scope.from) + " to " + FormatUtc(*scope.to) + ": " +
                        std::to_string(entries.size()) + " segments";
  auto viewing = EnterViewing(ctx, call, purpose, reveal);
  if (!viewing.ok()) return viewing.status();
  HttpResponse r;
  r.content_type = "application/vnd.apple.mpegurl";
  r.body = BuildHlsPlaylist(entries);
  NameViewing(&r, *viewing);
  return r;
}

namespace {

// The picture nearest `at` and the segment it came from.
struct Picture {
  SegmentRow segment;
  std::string jpeg;
};

// The camera's name as staff know it (its id when the records have none).
std::string CameraName(ApiContext& ctx, const std::string& camera) {
  auto cameras = ctx.db.ListCameras();
  if (cameras.ok()) {
    for (const auto& c : *cameras) {
      if (c.id == camera && !c.name.empty()) return c.name;
    }
  }
  return camera;
}

enum class PictureKind { kThumbnail, kStill };

// Finds and renders the picture of an admitted request; a failure is logged and returned.
// A thumbnail comes from the sub stream where it is recorded (a smaller GOP to decode); a
// still from the main stream at its full resolution, with its date, time (UK) and camera
// drawn in, as saved stills should carry them (the sub stream only where the main stream
// has nothing at that time).
Result<Picture> RenderPicture(ApiContext& ctx, const Call& call, const FootageScope& scope,
                              const Purpose& purpose, UtcMicros at, PictureKind kind) {
  const bool still = kind == PictureKind::kStill;
  const std::string first = still ? scope.camera : config::SubStreamId(scope.camera);
  const std::string second = still ? config::SubStreamId(scope.camera) : scope.camera;
  auto found = SegmentAt(ctx, first, at);
  if (found.ok() && !*found) found = SegmentAt(ctx, second, at);
  if (!found.ok()) return found.status();
  if (!*found) return FootageFailed(ctx, call, scope, purpose, NotFound("no footage at that time"));
  auto opened = OpenSegmentFile(ctx, **found);  // refuses a missing file or an unsafe path
  if (!opened.ok()) return FootageFailed(ctx, call, scope, purpose, opened.status());
  const std::string caption =
      still ? exports::WallClockCueText(at, CameraName(ctx, scope.camera), TimeZone::UkLocal())
            : "";
  Result<std::string> jpeg = [&] {
    std::lock_guard one_at_a_time(ctx.thumbnail_mu);
    const std::string path = ctx.options.data_dir + "/" + (*found)->path;
    return still ? RenderStillJpeg(path, at - (*found)->start, caption)
                 : RenderThumbnailJpeg(path, at - (*found)->start);
  }();
  if (!jpeg.ok()) return FootageFailed(ctx, call, scope, purpose, jpeg.status());
  return Picture{**found, std::move(jpeg).value()};
}

std::string PictureSource(const Picture& p, const std::string& camera) {
  return "segment " + std::to_string(p.segment.id) + " of camera " + camera +
         (config::IsSubStreamId(p.segment.camera_id) ? " (sub stream)" : "");
}

// A picture request admitted (permission, purpose, `at`) and rendered.
struct PictureCall {
  UtcMicros at;
  FootageScope scope;
  Purpose purpose;
  Picture picture;
};

Result<PictureCall> AdmitPicture(ApiContext& ctx, const Call& call, PictureKind kind) {
  auto at = TimeParam(call.request, "at");
  FootageScope scope{call.params.camera, std::nullopt, std::nullopt};
  if (at.ok()) scope = {call.params.camera, *at, *at};
  auto purpose = AdmitFootage(ctx, call, scope);
  if (!purpose.ok()) return purpose.status();
  if (!at.ok()) return FootageFailed(ctx, call, scope, *purpose, at.status());
  auto picture = RenderPicture(ctx, call, scope, *purpose, *at, kind);
  if (!picture.ok()) return picture.status();
  return PictureCall{*at, scope, *purpose, std::move(picture).value()};
}

}  // namespace

Result<HttpResponse> HandleThumbnail(ApiContext& ctx, const Call& call) {
  auto admitted = AdmitPicture(ctx, call, PictureKind::kThumbnail);
  if (!admitted.ok()) return admitted.status();
  auto& [at, scope, purpose, picture] = *admitted;
  Reveal reveal;
  reveal.reach = ScopeOf(picture.segment);
  reveal.fetched = scope;
  reveal.bytes = picture.jpeg.size();
  reveal.start_detail =
      PictureSource(picture, scope.camera) + "; first request: a picture at " + FormatUtc(at);
  auto viewing = EnterViewing(ctx, call, purpose, reveal);
  if (!viewing.ok()) return viewing.status();
  HttpResponse r;
  r.content_type = "image/jpeg";
  r.body = std::move(picture.jpeg);
  NameViewing(&r, *viewing);
  return r;
}

// A still to keep is a copy leaving the system: it never joins a viewing (which would leave
// no entry of its own) but is one durable access-log entry, written before a byte is sent.
Result<HttpResponse> HandleSaveStill(ApiContext& ctx, const Call& call) {
  auto admitted = AdmitPicture(ctx, call, PictureKind::kStill);
  if (!admitted.ok()) return admitted.status();
  auto& [at, scope, purpose, picture] = *admitted;
  Status logged = LogFootage(ctx, call, scope, purpose, AccessResult::kOk,
                             "still saved as a file: the picture at " + FormatUtc(at) + " from " +
                                 PictureSource(picture, scope.camera) + ", " +
                                 std::to_string(picture.jpeg.size()) + " bytes");
  if (!logged.ok()) {
    return Status(ErrorKind::kUnavailable, logged.message() + ", so no still was sent");
  }
  HttpResponse r;
  r.content_type = "image/jpeg";
  r.body = std::move(picture.jpeg);
  std::string stamp = FormatUtc(at);
  for (char& c : stamp) {
    if (c == ':' || c == '.') c = '-';
  }
  r.SetHeader("Content-Disposition",
              "attachment; filename=\"still-" + scope.camera + "-" + stamp + ".jpg\"");
  return r;
}

}  // namespace custodian::api
