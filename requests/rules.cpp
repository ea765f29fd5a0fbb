#include "requests/rules.h"

#include <algorithm>
#include <map>

namespace custodian::requests {

namespace {

using S = RequestState;

struct Edge {
  S from;
  S to;
};

constexpr Edge kTransitions[] = {
    {S::kReceived, S::kVerifying},
    {S::kReceived, S::kAwaitingDecision},
    {S::kReceived, S::kRefused},
    {S::kReceived, S::kWithdrawn},
    {S::kVerifying, S::kAwaitingDecision},
    {S::kVerifying, S::kRefused},
    {S::kVerifying, S::kWithdrawn},
    {S::kAwaitingDecision, S::kApproved},
    {S::kAwaitingDecision, S::kRefused},
    {S::kAwaitingDecision, S::kWithdrawn},
    {S::kApproved, S::kExportPrepared},
    {S::kApproved, S::kWithdrawn},
    {S::kExportPrepared, S::kDisclosed},
    {S::kExportPrepared, S::kWithdrawn},
    {S::kRefused, S::kClosed},
    {S::kDisclosed, S::kClosed},
    {S::kWithdrawn, S::kClosed},
};

}  // namespace

bool TransitionAllowed(RequestState from, RequestState to) {
  return std::any_of(std::begin(kTransitions), std::end(kTransitions),
                     [&](const Edge& e) { return e.from == from && e.to == to; });
}

bool IsOpen(RequestState s) {
  return s != S::kRefused && s != S::kDisclosed && s != S::kWithdrawn && s != S::kClosed;
}

bool IsUndecided(RequestState s) {
  return s == S::kReceived || s == S::kVerifying || s == S::kAwaitingDecision;
}

bool MayExport(RequestState s) {
  return s == S::kApproved || s == S::kExportPrepared || s == S::kDisclosed;
}

std::vector<RequestState> AllStates() {
  return {S::kReceived,       S::kVerifying, S::kAwaitingDecision, S::kApproved, S::kRefused,
          S::kExportPrepared, S::kDisclosed, S::kClosed,           S::kWithdrawn};
}

std::vector<VerificationStep> RequiredVerifications(RequestType type) {
  using V = VerificationStep;
  switch (type) {
    case RequestType::kPolice:
    case RequestType::kInsurer:
    case RequestType::kSolicitor:
      return {V::kReceivedInWriting, V::kIdentityCallback};
    case RequestType::kDsar:
      return {V::kReceivedInWriting, V::kIdentityDocumentsSeen};
    case RequestType::kMissingPerson:
      return {V::kIdentityCallback};
    case RequestType::kMedia:
      return {V::kReceivedInWriting, V::kConsentObtained};
    case RequestType::kInternal:
      return {};
  }
  return {};
}

std::vector<LegalBasis> AllowedLegalBases(RequestType type) {
  using L = LegalBasis;
  switch (type) {
    case RequestType::kPolice:
      return {L::kCrimePrevention, L::kProductionOrder, L::kWarrant,
              L::kCourtOrder,      L::kCdaProtocol,     L::kVitalInterests};
    case RequestType::kDsar:
      return {L::kRightOfAccess};
    case RequestType::kMissingPerson:
      return {L::kVitalInterests};
    case RequestType::kInsurer:
    case RequestType::kSolicitor:
      return {L::kLegalProceedings, L::kCourtOrder, L::kConsent};
    case RequestType::kInternal:
      return {L::kLegitimateInterests};
    case RequestType::kMedia:
      return {L::kConsent};
  }
  return {};
}

bool LegalBasisFits(RequestType type, LegalBasis basis) {
  auto allowed = AllowedLegalBases(type);
  return std::find(allowed.begin(), allowed.end(), basis) != allowed.end();
}

const char* LegalBasisText(LegalBasis basis) {
  switch (basis) {
    case LegalBasis::kCrimePrevention:
      return "DPA 2018 Sch. 2 para 2 (prevention or detection of crime)";
    case LegalBasis::kProductionOrder:
      return "production order (PACE 1984 Sch. 1)";
    case LegalBasis::kWarrant:
      return "warrant";
    case LegalBasis::kCourtOrder:
      return "court order";
    case LegalBasis::kCdaProtocol:
      return "Crime and Disorder Act 1998 s115 information-sharing protocol";
    case LegalBasis::kRightOfAccess:
      return "subject access request (UK GDPR Art. 15)";
    case LegalBasis::kVitalInterests:
      return "vital interests of the person (UK GDPR Art. 6(1)(d))";
    case LegalBasis::kLegalProceedings:
      return "legal proceedings (DPA 2018 Sch. 2 para 5)";
    case LegalBasis::kLegitimateInterests:
      return "legitimate interests: internal incident review (UK GDPR Art. 6(1)(f))";
    case LegalBasis::kConsent:
      return "consent of the people shown (UK GDPR Art. 6(1)(a))";
  }
  return "";
}

Status ValidateRanges(const std::vector<FootageRange>& ranges) {
  if (ranges.empty()) return InvalidArgument("a request names at least one camera and range");
  for (const FootageRange& r : ranges) {
    if (r.camera_id.empty()) return InvalidArgument("a range names no camera");
    if (!(r.from < r.to)) {
      return InvalidArgument("the range of camera " + r.camera_id + " ends before it starts");
    }
  }
  return Status::Ok();
}

Status RefuseFutureRanges(const std::vector<FootageRange>& ranges, UtcMicros now) {
  for (const FootageRange& r : ranges) {
    if (r.to.us > now.us + kFutureToleranceUs) {
      return InvalidArgument(
          "the range of camera " + r.camera_id +
          " reaches into the future: footage that has not been recorded yet cannot be "
          "requested. End the range at the present time or earlier, and log a new request "
          "once the rest has happened");
    }
  }
  return Status::Ok();
}

RangeAssessment AssessRanges(const std::vector<FootageRange>& ranges,
                             const MinimisationLimits& limits) {
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> by_camera;
  for (const FootageRange& r : ranges) by_camera[r.camera_id].push_back({r.from.us, r.to.us});
  RangeAssessment a;
  a.cameras = static_cast<int>(by_camera.size());
  for (auto& [camera, spans] : by_camera) {
    std::sort(spans.begin(), spans.end());
    int64_t total = 0, cur_from = spans.front().first, cur_to = spans.front().second;
    for (const auto& [from, to] : spans) {
      if (from > cur_to) {
        total += cur_to - cur_from;
        cur_from = from;
      }
      cur_to = std::max(cur_to, to);
    }
    total += cur_to - cur_from;
    a.longest_camera_us = std::max(a.longest_camera_us, total);
    if (total > limits.max_per_camera_us) {
      a.reasons.push_back(
          "camera " + camera + ": " + std::to_string(total / 60 / kMicrosPerSecond) +
          " minutes asked, more than " +
          std::to_string(limits.max_per_camera_us / 3600 / kMicrosPerSecond) + " hours");
    }
  }
  if (a.cameras > limits.max_cameras) {
    a.reasons.push_back(std::to_string(a.cameras) + " cameras asked, more than " +
                        std::to_string(limits.max_cameras));
  }
  a.over_broad = !a.reasons.empty();
  return a;
}

CivilDate DsarDueDate(const CivilDate& received_local, int extension_months) {
  return AddCalendarMonths(received_local, 1 + extension_months);
}

UtcMicros DsarDeadline(UtcMicros received, int extension_months, const TimeZone& zone,
                       int64_t paused_days) {
  CivilDate due = DsarDueDate(zone.ToLocal(received).date, extension_months);
  return zone.StartOfLocalDay(CivilFromDays(DaysFromCivil(due) + paused_days + 1));
}

const char* Name(ClockStopReason r) {
  return r == ClockStopReason::kIdentity ? "identity" : "clarification";
}

bool ParseClockStopReason(const std::string& text, ClockStopReason* out) {
  for (ClockStopReason r : {ClockStopReason::kIdentity, ClockStopReason::kClarification}) {
    if (text == Name(r)) {
      *out = r;
      return true;
    }
  }
  return false;
}

std::string ClockStoppedAction(ClockStopReason r) {
  return std::string("clock_stopped_") + Name(r);
}

std::string ClockStopBlocker(const records::FootageRequestRow& r, const DsarClock& clock,
                             UtcMicros now) {
  if (r.type != RequestType::kDsar || !r.deadline) {
    return " is not a DSAR; only a DSAR's statutory clock can stop";
  }
  if (r.state != RequestState::kReceived && r.state != RequestState::kVerifying &&
      r.state != RequestState::kAwaitingDecision) {
    return std::string(" is ") + records::Name(r.state) +
           "; the clock stops only while waiting before the decision";
  }
  if (now >= *r.deadline) return "'s deadline has passed; the clock can no longer stop";
  if (clock.stopped_since) return "'s clock is already stopped";
  return "";
}

DsarClock DsarClockFromEvents(const std::vector<records::RequestEventRow>& events,
                              const TimeZone& zone) {
  DsarClock c;
  for (const records::RequestEventRow& e : events) {
    for (ClockStopReason r : {ClockStopReason::kIdentity, ClockStopReason::kClarification}) {
      if (e.action == ClockStoppedAction(r) && !c.stopped_since) {
        c.stopped_since = e.at;
        c.stopped_for = r;
        ++c.stops;
      }
    }
    if (e.action == kClockRestartedAction && c.stopped_since) {
      c.paused_days += DaysFromCivil(zone.ToLocal(e.at).date) -
                       DaysFromCivil(zone.ToLocal(*c.stopped_since).date);
      c.stopped_since.reset();
      c.stopped_for.reset();
    }
  }
  return c;
}

}  // namespace custodian::requests
