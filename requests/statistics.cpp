#include "requests/statistics.h"

#include <nlohmann/json.hpp>

#include "requests/rules.h"

namespace custodian::requests {

using records::RequestState;

namespace {

// The outcome a request reached, from its history: the last decision, or a withdrawal.
enum class Outcome { kPending, kApproved, kRefused, kWithdrawn };

Outcome OutcomeOf(const std::vector<records::RequestEventRow>& events) {
  Outcome o = Outcome::kPending;
  for (const records::RequestEventRow& e : events) {
    if (e.to_state == RequestState::kApproved) o = Outcome::kApproved;
    if (e.to_state == RequestState::kRefused) o = Outcome::kRefused;
    if (e.to_state == RequestState::kWithdrawn) o = Outcome::kWithdrawn;
  }
  return o;
}

// When the requester had their answer: the first refusal or handover.
std::optional<UtcMicros> AnsweredAt(const std::vector<records::RequestEventRow>& events) {
  for (const records::RequestEventRow& e : events) {
    if (e.to_state == RequestState::kRefused || e.to_state == RequestState::kDisclosed) {
      return e.at;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<MonthlyStatistics> ComputeMonthlyStatistics(records::Database& db, int year, int month,
                                                   UtcMicros now, const TimeZone& zone) {
  if (month < 1 || month > 12) return InvalidArgument("month must be 1 to 12");
  MonthlyStatistics s;
  s.year = year;
  s.month = month;
  const UtcMicros from = zone.StartOfLocalDay({year, month, 1});
  const UtcMicros to = zone.StartOfLocalDay(AddCalendarMonths({year, month, 1}, 1));

  for (int t = 0; t <= static_cast<int>(records::RequestType::kMedia); ++t) {
    s.by_type[records::Name(static_cast<records::RequestType>(t))] = OutcomeCounts{};
  }
  auto received = db.ListFootageRequests({{}, {}, from, to});
  if (!received.ok()) return received.status();
  for (const records::FootageRequestRow& r : *received) {
    auto events = db.ListRequestEvents(r.id);
    if (!events.ok()) return events.status();
    OutcomeCounts& c = s.by_type[records::Name(r.type)];
    ++c.received;
    switch (OutcomeOf(*events)) {
      case Outcome::kPending:
        ++c.pending;
        break;
      case Outcome::kApproved:
        ++c.approved;
        break;
      case Outcome::kRefused:
        ++c.refused;
        break;
      case Outcome::kWithdrawn:
        ++c.withdrawn;
        break;
    }
  }

  // DSARs due this month may have been received up to three months earlier, or more when
  // their clock was stopped.
  const UtcMicros dsar_from = zone.StartOfLocalDay(AddCalendarMonths({year, month, 1}, -12));
  auto dsars = db.ListFootageRequests({{}, records::RequestType::kDsar, dsar_from, to});
  if (!dsars.ok()) return dsars.status();
  for (const records::FootageRequestRow& r : *dsars) {
    if (!r.deadline || *r.deadline <= from || *r.deadline > to) continue;
    auto events = db.ListRequestEvents(r.id);
    if (!events.ok()) return events.status();
    ++s.dsar.due;
    if (r.extension_months > 0) ++s.dsar.extended;
    const DsarClock clock = DsarClockFromEvents(*events, zone);
    if (clock.stops > 0) ++s.dsar.clock_stopped;
    std::optional<UtcMicros> answered = AnsweredAt(*events);
    if (answered && *answered < *r.deadline) {
      ++s.dsar.met;
    } else if (!answered && OutcomeOf(*events) == Outcome::kWithdrawn) {
      ++s.dsar.withdrawn;
    } else if (answered || (now >= *r.deadline && !clock.stopped_since)) {
      ++s.dsar.missed;
    }
  }

  auto activity = db.CountActivity(from, to);
  if (!activity.ok()) return activity.status();
  s.activity = *activity;
  return s;
}

std::string ToJson(const MonthlyStatistics& s) {
  using J = nlohmann::ordered_json;
  char period[16];
  std::snprintf(period, sizeof period, "%04d-%02d", s.year, s.month);
  J requests = J::object();
  for (const auto& [type, c] : s.by_type) {
    requests[type] = J{{"received", c.received},
                       {"pending", c.pending},
                       {"approved", c.approved},
                       {"refused", c.refused},
                       {"withdrawn", c.withdrawn}};
  }
  J by_method = J::object();
  for (const auto& [method, n] : s.activity.disclosures_by_method) by_method[method] = n;
  J by_rule = J::object();
  for (const auto& [rule, n] : s.activity.deletions_by_rule) by_rule[rule] = n;
  J by_purpose = J::object();
  for (const auto& [purpose, n] : s.activity.viewings_by_purpose) by_purpose[purpose] = n;
  const records::ActivityCounts& a = s.activity;
  J out = {
      {"period", period},
      {"time_zone", "Europe/London"},
      {"requests", requests},
      {"dsar_deadlines",
       {{"due", s.dsar.due},
        {"met", s.dsar.met},
        {"missed", s.dsar.missed},
        {"withdrawn", s.dsar.withdrawn},
        {"extended", s.dsar.extended},
        {"clock_stopped", s.dsar.clock_stopped}}},
      {"holds",
       {{"created", a.holds_created},
        {"released", a.holds_released},
        {"active_at_month_end", a.holds_active_at_end}}},
      {"exports", {{"created", a.exports_created}, {"completed", a.exports_ready}}},
      {"disclosures", {{"total", a.disclosures}, {"by_method", by_method}}},
      {"deletions",
       {{"records", a.deletions},
        {"segments", a.segments_deleted},
        {"bytes", a.bytes_deleted},
        {"segments_by_rule", by_rule}}},
      {"viewings", {{"total", a.viewings}, {"by_purpose", by_purpose}}},
  };
  return out.dump(2) + "\n";
}

}  // namespace custodian::requests
