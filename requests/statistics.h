// Anonymised monthly statistics: requests by type and outcome, DSAR deadlines met, holds,
// exports, disclosures and deletions for one calendar month (UK local time).
//
// The policy allows reports once every identifying detail, reference numbers included, is
// removed; so the result holds counts only: no names, organisations, references, ids or
// free text. ToJson gives a fixed key order so that two runs over the same records give
// the same bytes.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "base/zoneinfo.h"
#include "records/database.h"

namespace custodian::requests {

struct OutcomeCounts {
  int64_t received = 0;  // logged in the month
  // Of those: where they stand now.
  int64_t pending = 0;  // not yet decided
  int64_t approved = 0;
  int64_t refused = 0;
  int64_t withdrawn = 0;
};

struct DsarDeadlines {
  int64_t due = 0;        // DSARs whose deadline fell in the month
  int64_t met = 0;        // answered (refused or disclosed) by the deadline
  int64_t missed = 0;     // answered late, or still unanswered after it
  int64_t withdrawn = 0;  // withdrawn before answering
  int64_t extended = 0;   // of the due ones, how many had been extended
  // Of the due ones, how many had their clock stopped (rules.h); one still stopped is
  // not missed, as its deadline moves on when the clock restarts.
  int64_t clock_stopped = 0;
};

struct MonthlyStatistics {
  int year = 0;
  int month = 0;
  std::map<std::string, OutcomeCounts> by_type;  // keyed by request type name
  DsarDeadlines dsar;
  records::ActivityCounts activity;
};

// Statistics for the UK local calendar month year-month, as of now (requests still open
// are pending; unanswered DSARs past their deadline are missed).
Result<MonthlyStatistics> ComputeMonthlyStatistics(records::Database& db, int year, int month,
                                                   UtcMicros now,
                                                   const TimeZone& zone = TimeZone::UkLocal());

std::string ToJson(const MonthlyStatistics& stats);

}  // namespace custodian::requests
