// Text for people: the one-line summary of a pass (logs), the plan of a dry run, and the
// deletion records that `custodian retain --report FROM TO` prints. No personal data:
// cameras, times, counts, bytes, hashes and rules only.
#pragma once

#include <string>
#include <vector>

#include "records/rows.h"
#include "retention/pass.h"

namespace custodian::retention {

// "deleted 120 segment(s) (1.2 GB) in 3 record(s); plan: ...; 2 failure(s)".
std::string SummaryLine(const PassReport& report);
// The whole plan, one item a line: max-age decisions, deletions per camera and rule,
// exports, holds due for review, alarms.
std::string FormatPlan(const PassReport& report);
// One block per deletion record, oldest first.
std::string FormatDeletions(const std::vector<records::DeletionRow>& rows);
// "1.50 GB" style, decimal units.
std::string FormatBytes(int64_t bytes);

}  // namespace custodian::retention
