// ExportPlan: everything an export build needs, read from the records in one go: the
// export and its request, the people involved, and for each camera range the segments
// and recorded gaps that overlap it. The build itself then reads only files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "records/database.h"

namespace custodian::exports {

struct RangePlan {
  records::FootageRange range;
  std::string camera_name;
  records::CameraRow camera;                  // its make, model and firmware ("" when unknown)
  std::vector<records::SegmentRow> segments;  // overlapping the range, by start
  std::vector<records::GapRow> gaps;          // recorded gaps overlapping the range
};

struct ExportPlan {
  records::ExportRow export_row;
  records::FootageRequestRow request;
  std::string site_name;
  std::string exporter_name;
  std::string approver_name;
  std::vector<RangePlan> ranges;
  // Asked for with the export (its job's parameters): a re-encoded copy of each working
  // copy with the time burned into the picture (burned_copy.h).
  bool burned_in_copy = false;

  // Bytes of source segments to read (a segment in two ranges counts twice).
  int64_t SourceBytes() const;
};

// kNotFound for a missing export or request; kFailedPrecondition when the request has
// not been approved (nothing is exported before a manager's decision).
Result<ExportPlan> PlanExport(records::Database& db, int64_t export_id,
                              const std::string& site_name);

}  // namespace custodian::exports
