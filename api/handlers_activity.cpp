// The routes that read activity indexes: the review page's heat strip and its "next
// activity" stops, and search by region. An index says when and where people moved, so it
// is footage: each call checks the camera permission and the stated purpose
// (AdmitFootage) and is access-logged with what it covered before the answer is sent.
#include "activity/activity_file.h"
#include "activity/day_digest.h"
#include "activity/search.h"
#include "api/handlers.h"

namespace custodian::api {

namespace {

using records::AccessResult;
using records::SegmentRow;

constexpr int kDefaultBuckets = 480;
constexpr int kMaxBuckets = 2000;
constexpr size_t kMaxActiveRuns = 2000;
constexpr size_t kDefaultMoments = 100;
constexpr size_t kMaxMoments = 500;

struct LoadedIndexes {
  std::vector<activity::PlacedActivity> placed;
  int64_t segments = 0;       // complete segments in the range
  int64_t without_index = 0;  // of which have no readable index
};

// The indexes of the camera's complete segments overlapping the range, oldest first. A
// missing or damaged index leaves its segment out (counted), never fails the call. Each
// day's indexes are read through that day's digest (activity/day_digest.h): one file per
// camera-day rather than one per segment.
Result<LoadedIndexes> LoadIndexes(ApiContext& ctx, const std::string& camera, UtcMicros from,
                                  UtcMicros to) {
  auto rows = ctx.db.ListSegments(camera, from, to);
  if (!rows.ok()) return FromRecords(rows.status(), "list segments");
  LoadedIndexes out;
  std::vector<const SegmentRow*> indexed;
  std::vector<std::string> paths;
  for (const SegmentRow& s : *rows) {
    if (s.state != records::SegmentState::kComplete) continue;
    ++out.segments;
    if (s.path.empty() || s.path[0] == '/' || s.path.find("..") != std::string::npos) {
      ++out.without_index;
      continue;
    }
    indexed.push_back(&s);
    paths.push_back(ctx.options.data_dir + "/" + s.path);
  }
  auto indexes = activity::ReadIndexes(ctx.fs, paths);
  for (size_t i = 0; i < indexed.size(); ++i) {
    if (!indexes[i].ok()) {
      ++out.without_index;
      continue;
    }
    out.placed.push_back({indexed[i]->id, indexed[i]->start, std::move(indexes[i]).value()});
  }
  return out;
}

Result<int64_t> IntParam(const HttpRequest& request, const std::string& key, int64_t fallback,
                         int64_t min, int64_t max) {
  const std::string* v = request.Query(key);
  if (!v) return fallback;
  char* end = nullptr;
  const long long n = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || v->size() > 6 || end != v->c_str() + v->size() || n < min || n > max) {
    return InvalidArgument(key + " must be an integer from " + std::to_string(min) + " to " +
                           std::to_string(max));
  }
  return n;
}

nlohmann::json MomentJson(const activity::Moment& m) {
  return {{"start", TimeJson(m.start)},
          {"end", TimeJson(m.end)},
          {"peak", TimeJson(m.peak)},
          {"score", m.score},
          {"segment", m.segment_id}};
}

std::string Covered(const LoadedIndexes& l) {
  return std::to_string(l.placed.size()) + " of " + std::to_string(l.segments) +
         " segments indexed";
}

}  // namespace

Result<HttpResponse> HandleActivity(ApiContext& ctx, const Call& call) {
  auto admitted = AdmitFootageRange(ctx, call, kMaxTimelineSpanUs);
  if (!admitted.ok()) return admitted.status();
  const TimeRange& range = admitted->range;
  const FootageScope& scope = admitted->scope;
  const Purpose& purpose = admitted->purpose;
  auto buckets = IntParam(call.request, "buckets", kDefaultBuckets, 1, kMaxBuckets);
  if (!buckets.ok()) return FootageFailed(ctx, call, scope, purpose, buckets.status());
  auto loaded = LoadIndexes(ctx, scope.camera, range.from, range.to);
  if (!loaded.ok()) return loaded.status();
  const std::vector<int> strip =
      activity::ActivityStrip(loaded->placed, range.from, range.to, static_cast<int>(*buckets));
  nlohmann::json runs = nlohmann::json::array();
  for (const activity::Moment& m :
       activity::ActiveRuns(loaded->placed, range.from, range.to, kMaxActiveRuns)) {
    runs.push_back(MomentJson(m));
  }
  CUSTODIAN_RETURN_IF_ERROR(
      LogFootage(ctx, call, scope, purpose, AccessResult::kOk,
                 "activity of camera " + scope.camera + ": " + Covered(*loaded)));
  return Json({{"camera", scope.camera},
               {"from", TimeJson(range.from)},
               {"to", TimeJson(range.to)},
               {"buckets", strip},
               {"active", runs},
               {"segments", loaded->segments},
               {"segments_without_index", loaded->without_index}});
}

Result<HttpResponse> HandleActivitySearch(ApiContext& ctx, const Call& call) {
  auto admitted = AdmitFootageRange(ctx, call, kMaxTimelineSpanUs);
  if (!admitted.ok()) return admitted.status();
  const TimeRange& range = admitted->range;
  const FootageScope& scope = admitted->scope;
  const Purpose& purpose = admitted->purpose;
  const std::string* text = call.request.Query("regions");
  auto regions = activity::ParseRegions(text ? *text : "");
  if (!regions.ok()) return FootageFailed(ctx, call, scope, purpose, regions.status());
  auto limit = IntParam(call.request, "limit", kDefaultMoments, 1, kMaxMoments);
  if (!limit.ok()) return FootageFailed(ctx, call, scope, purpose, limit.status());
  auto loaded = LoadIndexes(ctx, scope.camera, range.from, range.to);
  if (!loaded.ok()) return loaded.status();
  const std::vector<activity::Moment> moments =
      activity::FindMoments(loaded->placed, activity::RegionMask(*regions), range.from, range.to,
                            static_cast<size_t>(*limit));
  nlohmann::json list = nlohmann::json::array();
  for (const activity::Moment& m : moments) list.push_back(MomentJson(m));
  CUSTODIAN_RETURN_IF_ERROR(LogFootage(
      ctx, call, scope, purpose, AccessResult::kOk,
      "activity search of camera " + scope.camera + " in " + std::to_string(regions->size()) +
          " boxes: " + std::to_string(moments.size()) + " moments; " + Covered(*loaded)));
  return Json({{"camera", scope.camera},
               {"from", TimeJson(range.from)},
               {"to", TimeJson(range.to)},
               {"moments", list},
               {"segments", loaded->segments},
               {"segments_without_index", loaded->without_index}});
}

}  // namespace custodian::api
