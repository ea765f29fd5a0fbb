#include "retention/report.h"

#include <cstdio>

namespace custodian::retention {

namespace {

std::string Percent(const DiskSpace& d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", d.UsedFraction() * 100);
  return buf;
}

void Line(std::string* out, const std::string& text) {
  *out += text;
  *out += '\n';
}

}  // namespace

std::string FormatBytes(int64_t bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 5) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
  return buf;
}

std::string SummaryLine(const PassReport& r) {
  const ExecutionReport& e = r.execution;
  std::string s = "pass done: deleted " + std::to_string(e.segments_deleted) + " segment(s) (" +
                  FormatBytes(e.bytes_deleted) + ") and " + std::to_string(e.exports_deleted) +
                  " export(s) in " + std::to_string(e.deletion_records) + " deletion record(s)";
  if (e.interrupted_finished > 0) {
    s += ", " + std::to_string(e.interrupted_finished) + " left by an earlier pass";
  }
  s += "; " + std::to_string(r.segments_considered) + " segment(s) considered in " +
       std::to_string((r.load_us + r.plan_us) / 1000) + " ms";
  if (r.disk) s += "; disk " + Percent(*r.disk) + " used before the pass";
  if (r.plan.held_segments > 0) {
    s += "; " + std::to_string(r.plan.held_segments) + " segment(s) held";
  }
  if (e.segments_skipped > 0) {
    s += "; " + std::to_string(e.segments_skipped) + " skipped (held or read since planning)";
  }
  if (!e.failures.empty()) {
    s += "; " + std::to_string(e.failures.size()) + " failure(s), retried next pass";
  }
  return s;
}

std::string FormatPlan(const PassReport& r) {
  std::string out;
  const DeletionPlan& p = r.plan;
  Line(&out,
       std::string(r.dry_run ? "retention plan (dry run: nothing deleted)" : "retention plan") +
           " at " + FormatUtc(r.now));
  if (r.disk) {
    Line(&out, "disk: " + Percent(*r.disk) + " used of " + FormatBytes(r.disk->total_bytes) +
                   (p.above_high_watermark
                        ? ", above the high watermark: " + FormatBytes(p.bytes_to_free) + " to free"
                        : ""));
  }
  for (const auto& [camera, days] : r.effective_max_age_days) {
    Line(&out, "max age: camera " + camera + " " + std::to_string(days) + " days");
  }
  for (const MaxAgeAction& a : r.max_age_actions) Line(&out, "policy: " + Describe(a));
  for (const PlanGroup& g : p.groups) {
    Line(&out, "delete: camera " + g.camera_id + " " + records::Name(g.rule) + ": " +
                   std::to_string(g.segments) + " segment(s), " + FormatBytes(g.bytes) + ", " +
                   FormatUtc(g.from) + " to " + FormatUtc(g.to));
  }
  for (int64_t id : p.exports) Line(&out, "delete: export " + std::to_string(id) + " (expired)");
  Line(&out, "total: " + std::to_string(p.segments.size()) + " segment(s), " +
                 FormatBytes(p.segment_bytes) + "; " + std::to_string(p.exports.size()) +
                 " export(s), " + FormatBytes(p.export_bytes));
  Line(&out, "kept: " + std::to_string(p.held_segments) + " segment(s) held (" +
                 FormatBytes(p.held_bytes) + "), " + std::to_string(p.expired_but_held) +
                 " of them past their max age; " + std::to_string(p.deferred_by_lease) +
                 " being read; " + std::to_string(p.exports_held) + " expired export(s) held");
  for (int64_t id : p.holds_due_for_review) {
    Line(&out, "review: hold " + std::to_string(id) + " is past its review date (for the DPO)");
  }
  if (p.disk_full) Line(&out, "alarm: disk_full: " + *p.disk_full);
  return out;
}

std::string FormatDeletions(const std::vector<records::DeletionRow>& rows) {
  std::string out;
  for (const records::DeletionRow& d : rows) {
    std::string what = d.camera_id ? "camera " + *d.camera_id
                                   : "export " + std::to_string(d.export_id.value_or(0));
    Line(&out, "deletion " + std::to_string(d.id) + " at " + FormatUtc(d.at) + ": " + what +
                   ", rule " + records::Name(d.rule));
    Line(&out, "  footage " + FormatUtc(d.from) + " to " + FormatUtc(d.to) + ", " +
                   std::to_string(d.segment_count) + " segment(s), " + std::to_string(d.bytes) +
                   " bytes");
    if (d.deleted_by) Line(&out, "  deleted by user " + std::to_string(*d.deleted_by));
    if (!d.detail.empty()) Line(&out, "  why: " + d.detail);
    for (const std::string& h : d.sha256s) Line(&out, "  sha256 " + h);
  }
  Line(&out, std::to_string(rows.size()) + " deletion record(s)");
  return out;
}

}  // namespace custodian::retention
