// The camera list with status, and a camera's timeline (segments and gaps).
#include <algorithm>
#include <map>

#include "api/handlers.h"

namespace custodian::api {

namespace {

nlohmann::json StatusJson(const records::CameraStatusRow* s) {
  if (!s)
    return {{"online", false},
            {"last_packet", nullptr},
            {"bitrate_bps", 0},
            {"last_error", nullptr},
            {"updated", nullptr}};
  return {{"online", s->online},
          {"last_packet", TimeJson(s->last_packet)},
          {"bitrate_bps", s->bitrate_bps},
          {"last_error", s->last_error ? nlohmann::json(*s->last_error) : nlohmann::json()},
          {"updated", TimeJson(s->updated)}};
}

nlohmann::json SegmentJson(const records::SegmentRow& s) {
  return {{"id", s.id},
          {"start", TimeJson(s.start)},
          {"end", TimeJson(s.end)},
          {"state", records::Name(s.state)},
          {"bytes", s.bytes},
          {"duration_us", s.duration_us},
          {"video_codec", s.video_codec},
          {"width", s.width},
          {"height", s.height},
          {"audio_codec", s.audio_codec ? nlohmann::json(*s.audio_codec) : nlohmann::json()},
          {"clock_synced", s.clock_synced}};
}

nlohmann::json GapJson(const records::GapRow& g) {
  return {{"start", TimeJson(g.start)},
          {"end", TimeJson(g.end)},
          {"reason", records::Name(g.reason)},
          {"detail", g.detail}};
}

}  // namespace

Result<HttpResponse> HandleListCameras(ApiContext& ctx, const Call& call) {
  auto cameras = ctx.db.ListCameras();
  if (!cameras.ok()) return FromRecords(cameras.status(), "list cameras");
  auto statuses = ctx.db.ListCameraStatus();
  if (!statuses.ok()) return FromRecords(statuses.status(), "read camera status");
  std::map<std::string, const records::CameraStatusRow*> by_camera;
  for (const auto& s : *statuses) by_camera[s.camera_id] = &s;

  // Admins manage every camera; footage roles see the cameras they are permitted.
  const bool all = call.user().role == records::Role::kAdmin;
  auto permitted = PermittedCameras(ctx, call.user());
  if (!permitted.ok()) return permitted.status();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : *cameras) {
    if (!all && std::find(permitted->begin(), permitted->end(), c.id) == permitted->end()) {
      continue;
    }
    auto s = by_camera.find(c.id);
    list.push_back({{"id", c.id},
                    {"name", c.name},
                    {"status", StatusJson(s == by_camera.end() ? nullptr : s->second)}});
  }
  return Json({{"cameras", list}});
}

Result<HttpResponse> HandleTimeline(ApiContext& ctx, const Call& call) {
  const std::string& camera = call.params.camera;
  auto may = MayViewCamera(ctx, call.user(), camera);
  if (!may.ok()) return may.status();
  if (!*may) return PermissionDenied("no permission for camera " + camera);
  auto range = RangeParams(call.request, kMaxTimelineSpanUs);
  if (!range.ok()) return range.status();
  auto segments = ctx.db.ListSegments(camera, range->from, range->to);
  if (!segments.ok()) return FromRecords(segments.status(), "list segments");
  auto gaps = ctx.db.ListGaps(camera, range->from, range->to);
  if (!gaps.ok()) return FromRecords(gaps.status(), "list gaps");
  nlohmann::json segs = nlohmann::json::array(), gap_list = nlohmann::json::array();
  for (const auto& s : *segments) {
    if (s.state != records::SegmentState::kDeleting) segs.push_back(SegmentJson(s));
  }
  for (const auto& g : *gaps) gap_list.push_back(GapJson(g));
  return Json({{"camera", camera},
               {"from", TimeJson(range->from)},
               {"to", TimeJson(range->to)},
               {"segments", segs},
               {"gaps", gap_list}});
}

}  // namespace custodian::api
