// Holds (manager and dpo): keep footage past its expiry for a request or legal matter.
// Scoped by camera permissions like footage; every hold and release is logged per range.
// A hold placed for a footage request is not released by hand while the request is open
// (withdrawn included): retention would then delete footage the request names. The
// request's closing releases it (requests::Workflow::ReleaseDueHolds).
#include <algorithm>

#include "api/handlers.h"

namespace custodian::api {

namespace {

using records::HoldRange;
using records::HoldRow;

constexpr size_t kMaxReasonBytes = 1000;
constexpr size_t kMaxRanges = 100;

Result<HoldRange> RangeMember(const nlohmann::json& v) {
  if (!v.is_object()) return InvalidArgument("each range is {camera, from, to}");
  auto camera = StringMember(v, "camera", 64, true);
  if (!camera.ok()) return camera.status();
  if (!IsValidCameraId(**camera)) return InvalidArgument("camera ids are [a-z0-9-]{1,64}");
  auto from = StringMember(v, "from", 40, true);
  if (!from.ok()) return from.status();
  auto to = StringMember(v, "to", 40, true);
  if (!to.ok()) return to.status();
  HoldRange r{**camera, {}, {}};
  if (!ParseUtc(**from, &r.from) || !ParseUtc(**to, &r.to)) {
    return InvalidArgument("from and to must be UTC times like 2026-01-01T00:00:00Z");
  }
  if (!(r.from < r.to)) return InvalidArgument("each range needs from before to");
  if (r.to - r.from > kMaxListingSpanUs) return InvalidArgument("a range may span a year at most");
  return r;
}

Result<HoldRow> HoldMember(ApiContext& ctx, const nlohmann::json& body) {
  HoldRow hold;
  auto reason = StringMember(body, "reason", kMaxReasonBytes, true);
  if (!reason.ok()) return reason.status();
  if ((*reason)->empty()) return InvalidArgument("a hold needs a reason");
  hold.reason = **reason;
  auto review = StringMember(body, "review", 40, true);
  if (!review.ok()) return review.status();
  if (!ParseUtc(**review, &hold.review) || hold.review <= ctx.clock.Now()) {
    return InvalidArgument("review must be a future UTC time");
  }
  auto ranges = body.find("ranges");
  if (ranges == body.end() || !ranges->is_array() || ranges->empty() ||
      ranges->size() > kMaxRanges) {
    return InvalidArgument("ranges must list 1 to 100 {camera, from, to}");
  }
  for (const auto& v : *ranges) {
    auto r = RangeMember(v);
    if (!r.ok()) return r.status();
    hold.ranges.push_back(*r);
  }
  return hold;
}

Status CheckCameras(ApiContext& ctx, const Call& call, const HoldRow& hold) {
  for (const auto& r : hold.ranges) {
    auto may = MayViewCamera(ctx, call.user(), r.camera_id);
    if (!may.ok()) return may.status();
    if (!*may) return PermissionDenied("no permission for camera " + r.camera_id);
  }
  return Status::Ok();
}

// Inside a transaction: the entries commit with the hold's change.
Status LogRanges(ApiContext& ctx, const Call& call, const HoldRow& hold, int64_t id) {
  for (const auto& r : hold.ranges) {
    records::AccessEntry e = EntryFor(call, records::AccessResult::kOk,
                                      "hold " + std::to_string(id) + ": " + hold.reason);
    e.camera_id = r.camera_id;
    e.from = r.from;
    e.to = r.to;
    CUSTODIAN_RETURN_IF_ERROR(RecordChange(ctx, e));
  }
  return Status::Ok();
}

// 409 with the reason when the hold belongs to a request that is not closed. The records
// check the same in the release's transaction; this names the request and what to do.
Status CheckReleasable(ApiContext& ctx, const HoldRow& hold) {
  if (!hold.request_id) return Status::Ok();
  auto request = ctx.db.GetFootageRequest(*hold.request_id);
  if (!request.ok()) return FromRecords(request.status(), "read the hold's request");
  if (!*request || (*request)->state == records::RequestState::kClosed) return Status::Ok();
  const std::string id = std::to_string(*hold.request_id);
  return FailedPrecondition("hold " + std::to_string(hold.id) + " keeps the footage of request " +
                            id + ", which is " + records::Name((*request)->state) +
                            "; it is released when the request is closed "
                            "(POST /api/v1/requests/" + id + "/close), not by hand");
}

nlohmann::json HoldJson(const HoldRow& h, const std::vector<HoldRange>& ranges) {
  nlohmann::json rs = nlohmann::json::array();
  for (const auto& r : ranges) {
    rs.push_back({{"camera", r.camera_id}, {"from", TimeJson(r.from)}, {"to", TimeJson(r.to)}});
  }
  return {{"id", h.id},
          {"reason", h.reason},
          {"owner_user_id", h.owner_user_id},
          {"request_id", h.request_id ? nlohmann::json(*h.request_id) : nlohmann::json()},
          {"review", TimeJson(h.review)},
          {"created", TimeJson(h.created)},
          {"ranges", rs}};
}

}  // namespace

Result<HttpResponse> HandleListHolds(ApiContext& ctx, const Call& call) {
  auto holds = ctx.db.ListActiveHolds();
  if (!holds.ok()) return FromRecords(holds.status(), "list holds");
  auto permitted = PermittedCameras(ctx, call.user());
  if (!permitted.ok()) return permitted.status();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& h : *holds) {
    std::vector<HoldRange> visible;
    for (const auto& r : h.ranges) {
      if (std::find(permitted->begin(), permitted->end(), r.camera_id) != permitted->end()) {
        visible.push_back(r);
      }
    }
    if (!visible.empty()) list.push_back(HoldJson(h, visible));
  }
  return Json({{"holds", list}});
}

Result<HttpResponse> HandleCreateHold(ApiContext& ctx, const Call& call) {
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  auto hold = HoldMember(ctx, *body);
  if (!hold.ok()) return hold.status();
  CUSTODIAN_RETURN_IF_ERROR(CheckCameras(ctx, call, *hold));
  hold->owner_user_id = call.user().user_id;
  int64_t id = 0;
  Status st = ctx.db.WithTransaction([&]() -> Status {
    auto created = ctx.db.CreateHold(*hold);
    if (!created.ok()) return created.status();
    id = *created;
    return LogRanges(ctx, call, *hold, id);
  });
  if (!st.ok()) return FromRecords(st, "create the hold");
  return Json({{"id", id}}, 201);
}

Result<HttpResponse> HandleReleaseHold(ApiContext& ctx, const Call& call) {
  auto hold = ctx.db.GetHold(*call.params.id);
  if (!hold.ok()) return FromRecords(hold.status(), "read the hold");
  if (!*hold) return NotFound("no hold " + std::to_string(*call.params.id));
  CUSTODIAN_RETURN_IF_ERROR(CheckCameras(ctx, call, **hold));
  if ((*hold)->released) return FailedPrecondition("the hold is already released");
  CUSTODIAN_RETURN_IF_ERROR(CheckReleasable(ctx, **hold));
  Status st = ctx.db.WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(ctx.db.ReleaseHold((*hold)->id, call.user().user_id));
    return LogRanges(ctx, call, **hold, (*hold)->id);
  });
  if (!st.ok()) return FromRecords(st, "release the hold");
  return NoContent();
}

}  // namespace custodian::api
