// Live view: the HLS live playlist of the segment a camera is recording, the whole
// fragments of that segment as byte ranges, and the newest keyframe as a JPEG (live.h has
// the design). Like every footage route, each checks the camera permission and the stated
// purpose (AdmitFootage), and joins the person's live viewing of the camera or starts one
// (EnterViewing: its start entry is written before any footage leaves).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>

#include "api/byte_range.h"
#include "api/handlers.h"
#include "api/live.h"
#include "api/thumbnail.h"
#include "api/transcoded_footage.h"
#include "config/camera_config.h"

namespace custodian::api {

namespace {

using records::AccessResult;
using records::SegmentRow;

// Segments that started this long before now (or after, for a clock step) are candidates
// for the one being recorded and the one before it.
constexpr int64_t kLiveLookbackUs = 120 * kMicrosPerSecond;
// The live byte route serves a segment until this long after it was closed, so that a
// player still fetching the tail of the previous file after a rollover gets it.
constexpr int64_t kLiveTailUs = 120 * kMicrosPerSecond;
// A fragment copied for the live picture is at most this large.
constexpr uint64_t kMaxPictureFragmentBytes = 64 * 1024 * 1024;

// Discontinuity numbers must agree across requests and viewers; see live.h.
LiveDiscontinuities& Discontinuities() {
  static LiveDiscontinuities numbers;
  return numbers;
}

// Which of a camera's streams live view shows; see StreamView.
enum class LiveStream { kAuto, kMain, kSub };

Result<LiveStream> WantedStream(const HttpRequest& request) {
  const std::string* v = request.Query("stream");
  if (!v) return LiveStream::kAuto;
  if (*v == "main") return LiveStream::kMain;
  if (*v == "sub") return LiveStream::kSub;
  return InvalidArgument("stream must be main or sub");
}

struct LiveView {
  bool sub = false;             // the files are the camera's sub stream's
  std::vector<LiveFile> files;  // oldest first: at most the previous segment and the newest
  int64_t run = 0;
  std::optional<UtcMicros> newest_end;  // wall-clock end of the newest whole fragment
};

Result<LiveFile> ScanLiveFile(const ApiContext& ctx, const SegmentRow& row,
                              const std::string& query) {
  auto opened = OpenSegmentFile(ctx, row);
  if (!opened.ok()) return opened.status();
  auto parts = ScanFragments(opened->file->fd(), opened->size);
  if (!parts.ok()) return parts.status();
  return LiveFile{row.id, "/api/v1/segments/" + std::to_string(row.id) + "/live?" + query,
                  row.start, std::move(parts).value()};
}

// The camera's newest segment (being recorded, or closed a moment ago at a rollover) and
// the one before it when it belongs to the same run and its fragments lead straight into
// the newest one's.
Result<LiveView> FindLiveView(ApiContext& ctx, const std::string& camera, UtcMicros now,
                              const std::string& query) {
  auto rows = ctx.db.ListSegments(camera, now - kLiveLookbackUs, now + kLiveLookbackUs);
  if (!rows.ok()) return FromRecords(rows.status(), "list segments");
  std::vector<const SegmentRow*> usable;
  for (const SegmentRow& s : *rows) {
    if (s.state != records::SegmentState::kDeleting) usable.push_back(&s);
  }
  const Status offline = NotFound("camera " + camera + " is not being recorded now");
  if (usable.empty()) return offline;
  const SegmentRow& newest = *usable.back();
  LiveView view;
  view.run = newest.run_id.value_or(0);
  auto last = ScanLiveFile(ctx, newest, query);
  if (!last.ok()) return last.status().kind() == ErrorKind::kNotFound ? offline : last.status();

  if (usable.size() >= 2) {
    const SegmentRow& before = *usable[usable.size() - 2];
    if (before.run_id && before.run_id == newest.run_id) {
      auto prev = ScanLiveFile(ctx, before, query);
      const auto& next_frags = last->parts.fragments;
      if (prev.ok() && !prev->parts.fragments.empty() &&
          (next_frags.empty() ||
           prev->parts.fragments.back().number + 1 == next_frags.front().number)) {
        view.files.push_back(std::move(prev).value());
      }
    }
  }
  view.files.push_back(std::move(last).value());
  for (auto it = view.files.rbegin(); it != view.files.rend(); ++it) {
    if (it->parts.fragments.empty()) continue;
    const Fmp4Fragment& f = it->parts.fragments.back();
    view.newest_end = it->start + f.decode_us + f.duration_us;
    break;
  }
  if (!view.newest_end) return offline;
  if (now - *view.newest_end > kLiveStaleUs) {
    return NotFound("camera " + camera + " has no live footage: its newest footage ended " +
                    std::to_string((now - *view.newest_end) / kMicrosPerSecond) + " s ago");
  }
  return view;
}

// Live view of `camera` from the stream asked for; unasked, from its sub stream while that
// has live footage (a grid of 16 cameras should not pull 16 main streams), otherwise from
// the main stream, which is the one recorded as evidence.
Result<LiveView> StreamView(ApiContext& ctx, const std::string& camera, UtcMicros now,
                            const std::string& query, LiveStream stream) {
  if (stream != LiveStream::kMain) {
    auto sub = FindLiveView(ctx, config::SubStreamId(camera), now, query);
    if (sub.ok()) {
      sub->sub = true;
      return sub;
    }
    if (stream == LiveStream::kSub) return sub.status();
  }
  return FindLiveView(ctx, camera, now, query);
}

std::string EntriesDetail(const LiveView& view, const std::vector<LiveEntry>& entries) {
  std::string d = view.sub ? "live sub stream" : "live";
  size_t current = view.files.size();
  for (const LiveEntry& e : entries) {
    if (e.file == current) continue;
    current = e.file;
    const auto& frags = view.files[e.file].parts.fragments;
    d += " segment " + std::to_string(view.files[e.file].segment_id) + " fragments " +
         std::to_string(frags[e.fragment].number) + "-" + std::to_string(frags.back().number);
  }
  return d;
}

// The wall-clock time covered by the fragments that overlap bytes [offset, offset + length)
// of a file starting at `start`; nothing for the init section alone.
FootageScope FragmentTimes(const std::string& camera, UtcMicros start,
                           const Fmp4Fragments& parts, uint64_t offset, uint64_t length) {
  FootageScope s{camera, std::nullopt, std::nullopt};
  for (const Fmp4Fragment& f : parts.fragments) {
    if (f.offset + f.length <= offset || offset + length <= f.offset) continue;
    const UtcMicros from = start + f.decode_us;
    const UtcMicros to = from + f.duration_us;
    if (!s.from || from < *s.from) s.from = from;
    if (!s.to || *s.to < to) s.to = to;
  }
  return s;
}

Reveal LiveReveal(const std::string& camera, UtcMicros reach_from, std::string what) {
  Reveal r;
  r.kind = ViewingKind::kLive;
  r.reach = {camera, reach_from, std::nullopt};
  r.start_detail = "live view of camera " + camera + ": the footage recorded from " +
                   FormatUtc(reach_from) +
                   " on, while the viewing lasts (the segment being recorded and any closed "
                   "in the last 2 minutes); " +
                   std::move(what);
  return r;
}

// Copies init + fragment into an anonymous in-memory file, so that the decoder reads a
// small, whole MP4 and no copy of the footage touches the disk.
Result<int> MemoryMp4(int src, uint64_t init_length, const Fmp4Fragment& f) {
  if (f.length > kMaxPictureFragmentBytes)
    return DataLoss("the newest keyframe's fragment is too large");
  int fd = ::memfd_create("custodian-live-picture", MFD_CLOEXEC);
  if (fd < 0) return IoError(std::string("memfd_create: ") + std::strerror(errno));
  std::vector<uint8_t> buf(std::max<uint64_t>(init_length, f.length));
  for (auto [offset, length] :
       {std::pair{uint64_t{0}, init_length}, std::pair{f.offset, f.length}}) {
    ssize_t r = ::pread(src, buf.data(), length, static_cast<off_t>(offset));
    if (r != static_cast<ssize_t>(length) ||
        ::write(fd, buf.data(), length) != static_cast<ssize_t>(length)) {
      ::close(fd);
      return IoError("copying the newest keyframe failed");
    }
  }
  return fd;
}

// A live request admitted (permission, purpose, stream) over the last `reach_us` before now,
// with the stream's live files.
struct LiveCall {
  FootageScope scope;
  Purpose purpose;
  LiveView view;
};

Result<LiveCall> AdmitLive(ApiContext& ctx, const Call& call, UtcMicros now, int64_t reach_us) {
  const FootageScope scope{call.params.camera, now - reach_us, now};
  auto purpose = AdmitFootage(ctx, call, scope);
  if (!purpose.ok()) return purpose.status();
  auto stream = WantedStream(call.request);
  if (!stream.ok()) return FootageFailed(ctx, call, scope, *purpose, stream.status());
  auto view = StreamView(ctx, scope.camera, now, PurposeQuery(*purpose), *stream);
  if (!view.ok()) return FootageFailed(ctx, call, scope, *purpose, view.status());
  return LiveCall{scope, *purpose, std::move(view).value()};
}

}  // namespace

Result<HttpResponse> HandleLivePlaylist(ApiContext& ctx, const Call& call) {
  const UtcMicros now = ctx.clock.Now();
  auto admitted = AdmitLive(ctx, call, now, kLiveWindowUs);
  if (!admitted.ok()) return admitted.status();
  auto& [scope, purpose, view] = *admitted;
  const std::vector<LiveEntry> entries = SelectLiveWindow(view.files, kLiveWindowUs);
  std::vector<int64_t> listed;
  for (const LiveEntry& e : entries) {
    if (listed.empty() || listed.back() != view.files[e.file].segment_id) {
      listed.push_back(view.files[e.file].segment_id);
    }
  }
  const uint64_t discontinuity = Discontinuities().FirstNumber(
      ctx.options.data_dir + "|" + (view.sub ? config::SubStreamId(scope.camera) : scope.camera),
      listed);
  // The playlist lists footage but holds none: it joins or starts the viewing and adds
  // nothing to what was fetched.
  auto viewing = EnterViewing(ctx, call, purpose,
                              LiveReveal(scope.camera, view.files.front().start,
                                         "first playlist: " + EntriesDetail(view, entries)));
  if (!viewing.ok()) return viewing.status();
  HttpResponse r;
  r.content_type = "application/vnd.apple.mpegurl";
  r.body = FormatLivePlaylist(view.files, entries, view.run, discontinuity);
  r.SetHeader("X-Live-Stream", view.sub ? "sub" : "main");
  NameViewing(&r, *viewing);
  return r;
}

Result<HttpResponse> HandleLiveSegmentFile(ApiContext& ctx, const Call& call) {
  auto found = ctx.db.GetSegment(*call.params.id);
  if (!found.ok()) return FromRecords(found.status(), "read the segment");
  if (!*found) {
    return FootageFailed(ctx, call, FootageScope{}, OfferedPurpose(call.request),
                         NotFound("no segment " + std::to_string(*call.params.id)));
  }
  const SegmentRow& segment = **found;
  // A sub stream's segment is its camera's footage: the camera's permission and viewing.
  const FootageScope scope{config::StreamOwnerId(segment.camera_id), segment.start, segment.end};
  auto purpose = AdmitFootage(ctx, call, scope);
  if (!purpose.ok()) return purpose.status();
  const bool live = segment.state == records::SegmentState::kRecording ||
                    (segment.state == records::SegmentState::kComplete && segment.end &&
                     ctx.clock.Now() - *segment.end <= kLiveTailUs);
  if (!live) {
    return FootageFailed(ctx, call, scope, *purpose,
                         NotFound("segment " + std::to_string(segment.id) +
                                  " is not live; recorded footage is at /api/v1/segments/" +
                                  std::to_string(segment.id) + "/file"));
  }
  auto transcode = WantsTranscode(call.request);
  if (!transcode.ok()) return FootageFailed(ctx, call, scope, *purpose, transcode.status());
  auto opened = OpenSegmentFile(ctx, segment);
  if (!opened.ok()) return FootageFailed(ctx, call, scope, *purpose, opened.status());
  if (*transcode) {
    return TranscodedFootage(
        ctx, call, segment, *opened, *purpose, scope,
        LiveReveal(scope.camera, segment.start,
                   "first fetch: segment " + std::to_string(segment.id)),
        segment.state != records::SegmentState::kRecording);
  }
  auto parts = ScanFragments(opened->file->fd(), opened->size);
  if (!parts.ok()) return FootageFailed(ctx, call, scope, *purpose, parts.status());
  // Only whole fragments are served: the bytes past them may still be being written.
  const uint64_t whole = parts->whole_end;
  const std::string* header = call.request.Header("range");
  ByteRange range =
      header ? ParseByteRange(*header, whole) : ByteRange{ByteRange::Kind::kWhole, 0, whole};
  if (range.kind == ByteRange::Kind::kUnsatisfiable) {
    CUSTODIAN_RETURN_IF_ERROR(LogFootage(ctx, call, scope, *purpose, AccessResult::kError,
                                         "range not satisfiable: " + header->substr(0, 80)));
    HttpResponse r = ErrorResponse(416, "range_not_satisfiable",
                                   "the range lies outside the whole fragments written so far");
    r.SetHeader("Content-Range", "bytes */" + std::to_string(whole));
    return r;
  }
  Reveal reveal = LiveReveal(
      scope.camera, segment.start,
      "first fetch: segment " + std::to_string(segment.id) + " bytes " +
          std::to_string(range.offset) + "-" + std::to_string(range.offset + range.length - 1) +
          "/" + std::to_string(whole));
  reveal.fetched = FragmentTimes(scope.camera, segment.start, *parts, range.offset, range.length);
  reveal.bytes = range.length;
  auto viewing = EnterViewing(ctx, call, *purpose, reveal);
  if (!viewing.ok()) return viewing.status();
  HttpResponse r;
  NameViewing(&r, *viewing);
  r.content_type = "video/mp4";
  r.file = FileSlice{opened->file, range.offset, range.length};
  r.SetHeader("Accept-Ranges", "bytes");
  if (range.kind == ByteRange::Kind::kPartial) {
    r.status = 206;
    // The total is unknown while the file grows (RFC 9110 section 14.4).
    r.SetHeader("Content-Range",
                "bytes " + std::to_string(range.offset) + "-" +
                    std::to_string(range.offset + range.length - 1) + "/" +
                    (segment.state == records::SegmentState::kRecording ? std::string("*")
                                                                        : std::to_string(whole)));
  }
  return r;
}

Result<HttpResponse> HandleLivePicture(ApiContext& ctx, const Call& call) {
  const UtcMicros now = ctx.clock.Now();
  auto admitted = AdmitLive(ctx, call, now, kLiveStaleUs);
  if (!admitted.ok()) return admitted.status();
  auto& [scope, purpose, view] = *admitted;
  const LiveFile* file = nullptr;
  const Fmp4Fragment* keyframe = nullptr;
  for (auto it = view.files.rbegin(); it != view.files.rend() && !keyframe; ++it) {
    const auto& frags = it->parts.fragments;
    for (auto f = frags.rbegin(); f != frags.rend(); ++f) {
      if (f->starts_with_keyframe) {
        file = &*it;
        keyframe = &*f;
        break;
      }
    }
  }
  if (!keyframe) {
    return FootageFailed(ctx, call, scope, purpose,
                         NotFound("no whole keyframe from camera " + scope.camera + " yet"));
  }
  auto row = ctx.db.GetSegment(file->segment_id);
  if (!row.ok() || !*row) {
    return FootageFailed(ctx, call, scope, purpose, NotFound("the segment is gone"));
  }
  auto opened = OpenSegmentFile(ctx, **row);
  if (!opened.ok()) return FootageFailed(ctx, call, scope, purpose, opened.status());
  auto memory = MemoryMp4(opened->file->fd(), file->parts.init_length, *keyframe);
  if (!memory.ok()) return FootageFailed(ctx, call, scope, purpose, memory.status());
  OpenFile owned(*memory);
  Result<std::string> jpeg = [&] {
    std::lock_guard one_at_a_time(ctx.thumbnail_mu);
    return RenderThumbnailJpeg("/proc/self/fd/" + std::to_string(owned.fd()), 0);
  }();
  if (!jpeg.ok()) return FootageFailed(ctx, call, scope, purpose, jpeg.status());
  const UtcMicros taken = file->start + keyframe->decode_us;
  Reveal reveal =
      LiveReveal(scope.camera, file->start,
                 std::string("first request: live picture") + (view.sub ? " (sub stream)" : "") +
                     ", segment " + std::to_string(file->segment_id) + " fragment " +
                     std::to_string(keyframe->number));
  reveal.fetched = {scope.camera, taken, taken + keyframe->duration_us};
  reveal.bytes = jpeg->size();
  auto viewing = EnterViewing(ctx, call, purpose, reveal);
  if (!viewing.ok()) return viewing.status();
  HttpResponse r;
  NameViewing(&r, *viewing);
  r.content_type = "image/jpeg";
  r.body = std::move(jpeg).value();
  r.SetHeader("X-Picture-Time", FormatUtc(taken));
  r.SetHeader("X-Live-Stream", view.sub ? "sub" : "main");
  return r;
}

}  // namespace custodian::api
