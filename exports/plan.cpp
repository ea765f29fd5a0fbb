#include "exports/plan.h"

#include <map>

#include "requests/rules.h"

namespace custodian::exports {

using records::RequestState;

int64_t ExportPlan::SourceBytes() const {
  int64_t total = 0;
  for (const RangePlan& r : ranges) {
    for (const records::SegmentRow& s : r.segments) total += s.bytes;
  }
  return total;
}

Result<ExportPlan> PlanExport(records::Database& db, int64_t export_id,
                              const std::string& site_name) {
  ExportPlan plan;
  plan.site_name = site_name;
  auto e = db.GetExport(export_id);
  if (!e.ok()) return e.status();
  if (!e->has_value()) return NotFound("no export " + std::to_string(export_id));
  plan.export_row = **e;
  auto r = db.GetFootageRequest(plan.export_row.request_id);
  if (!r.ok()) return r.status();
  if (!r->has_value()) {
    return NotFound("no request " + std::to_string(plan.export_row.request_id));
  }
  plan.request = **r;
  const RequestState s = plan.request.state;
  if (!requests::MayExport(s)) {
    return FailedPrecondition("request " + std::to_string(plan.request.id) + " is " +
                              records::Name(s) + "; only an approved request is exported");
  }
  auto name_of = [&](std::optional<int64_t> id) -> std::string {
    if (!id) return "";
    auto u = db.GetUserById(*id);
    return u.ok() && u->has_value() ? (*u)->name : "user " + std::to_string(*id);
  };
  plan.exporter_name = name_of(plan.export_row.created_by);
  plan.approver_name = name_of(plan.request.decided_by);

  auto cameras = db.ListCameras();
  if (!cameras.ok()) return cameras.status();
  std::map<std::string, std::string> names;
  std::map<std::string, records::CameraRow> rows;
  for (const records::CameraRow& c : *cameras) {
    names[c.id] = c.name;
    rows[c.id] = c;
  }

  for (const records::FootageRange& range : plan.export_row.ranges) {
    RangePlan rp;
    rp.range = range;
    rp.camera_name = names.count(range.camera_id) ? names[range.camera_id] : range.camera_id;
    if (rows.count(range.camera_id)) rp.camera = rows[range.camera_id];
    auto segments = db.ListSegments(range.camera_id, range.from, range.to);
    if (!segments.ok()) return segments.status();
    rp.segments = std::move(segments).value();
    auto gaps = db.ListGaps(range.camera_id, range.from, range.to);
    if (!gaps.ok()) return gaps.status();
    rp.gaps = std::move(gaps).value();
    plan.ranges.push_back(std::move(rp));
  }
  return plan;
}

}  // namespace custodian::exports
