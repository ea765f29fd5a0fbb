#include "requests/rules.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "requests/testing.h"

using namespace custodian;
using namespace custodian::requests;
using namespace custodian::requests::testing;
using records::RequestState;

TEST_CASE("the transition table allows the documented path and nothing backwards") {
  REQUIRE(TransitionAllowed(RequestState::kReceived, RequestState::kVerifying));
  REQUIRE(TransitionAllowed(RequestState::kVerifying, RequestState::kAwaitingDecision));
  REQUIRE(TransitionAllowed(RequestState::kAwaitingDecision, RequestState::kApproved));
  REQUIRE(TransitionAllowed(RequestState::kApproved, RequestState::kExportPrepared));
  REQUIRE(TransitionAllowed(RequestState::kExportPrepared, RequestState::kDisclosed));
  REQUIRE(TransitionAllowed(RequestState::kDisclosed, RequestState::kClosed));
  REQUIRE(TransitionAllowed(RequestState::kVerifying, RequestState::kRefused));
  REQUIRE_FALSE(TransitionAllowed(RequestState::kReceived, RequestState::kApproved));
  REQUIRE_FALSE(TransitionAllowed(RequestState::kVerifying, RequestState::kApproved));
  REQUIRE_FALSE(TransitionAllowed(RequestState::kApproved, RequestState::kRefused));
  REQUIRE_FALSE(TransitionAllowed(RequestState::kApproved, RequestState::kDisclosed));
  REQUIRE_FALSE(TransitionAllowed(RequestState::kClosed, RequestState::kReceived));
  REQUIRE_FALSE(TransitionAllowed(RequestState::kDisclosed, RequestState::kExportPrepared));
  REQUIRE(IsOpen(RequestState::kApproved));
  REQUIRE_FALSE(IsOpen(RequestState::kRefused));
}

TEST_CASE("a DSAR is due a calendar month after its UK receipt date, clamped to month end") {
  REQUIRE(DsarDueDate({2026, 1, 31}, 0) == CivilDate{2026, 2, 28});
  REQUIRE(DsarDueDate({2028, 1, 31}, 0) == CivilDate{2028, 2, 29});
  REQUIRE(DsarDueDate({2026, 1, 15}, 0) == CivilDate{2026, 2, 15});
  REQUIRE(DsarDueDate({2026, 12, 31}, 0) == CivilDate{2027, 1, 31});
  REQUIRE(DsarDueDate({2026, 3, 31}, 0) == CivilDate{2026, 4, 30});
  // Extensions count from receipt: at most three months in all.
  REQUIRE(DsarDueDate({2026, 1, 31}, 1) == CivilDate{2026, 3, 31});
  REQUIRE(DsarDueDate({2026, 1, 31}, 2) == CivilDate{2026, 4, 30});
  REQUIRE(DsarDueDate({2027, 11, 30}, 2) == CivilDate{2028, 2, 29});

  const TimeZone& uk = TimeZone::UkLocal();
  // Received 23:30 UTC on 30 June (00:30 BST on 1 July): the UK date of receipt is 1 July,
  // so it is due on 1 August, i.e. before midnight BST at the end of that day.
  REQUIRE(DsarDeadline(Utc("2026-06-30T23:30:00Z"), 0, uk) == Utc("2026-08-01T23:00:00Z"));
  // Received 31 January in GMT: due 28 February, deadline midnight GMT.
  REQUIRE(DsarDeadline(Utc("2026-01-31T16:00:00Z"), 0, uk) == Utc("2026-03-01T00:00:00Z"));
  REQUIRE(DsarDeadline(Utc("2028-01-31T16:00:00Z"), 0, uk) == Utc("2028-03-01T00:00:00Z"));
  // Due date in BST after receipt in GMT.
  REQUIRE(DsarDeadline(Utc("2026-03-20T12:00:00Z"), 0, uk) == Utc("2026-04-20T23:00:00Z"));
}

TEST_CASE("ranges over a day of one camera or over four cameras are flagged over-broad") {
  const UtcMicros t = kT0;
  auto ok = AssessRanges({{"door-1", t, t + 2 * kHour}, {"yard", t, t + kHour}});
  REQUIRE_FALSE(ok.over_broad);
  REQUIRE(ok.cameras == 2);
  // Overlapping ranges of one camera count once.
  auto overlap =
      AssessRanges({{"door-1", t, t + 20 * kHour}, {"door-1", t + kHour, t + 21 * kHour}});
  REQUIRE_FALSE(overlap.over_broad);
  REQUIRE(overlap.longest_camera_us == 21 * kHour);
  auto long_one = AssessRanges({{"door-1", t, t + 25 * kHour}});
  REQUIRE(long_one.over_broad);
  REQUIRE(long_one.reasons.size() == 1);
  auto split =
      AssessRanges({{"door-1", t, t + 13 * kHour}, {"door-1", t + 20 * kHour, t + 32 * kHour}});
  REQUIRE(split.over_broad);
  auto many = AssessRanges(
      {{"a", t, t + 1}, {"b", t, t + 1}, {"c", t, t + 1}, {"d", t, t + 1}, {"e", t, t + 1}});
  REQUIRE(many.over_broad);
  REQUIRE(many.cameras == 5);
  REQUIRE(ValidateRanges({}).kind() == ErrorKind::kInvalidArgument);
  REQUIRE(ValidateRanges({{"door-1", t, t}}).kind() == ErrorKind::kInvalidArgument);
}

TEST_CASE("each request type needs its own verification steps and legal bases") {
  using records::VerificationStep;
  REQUIRE(RequiredVerifications(records::RequestType::kPolice) ==
          std::vector<VerificationStep>{VerificationStep::kReceivedInWriting,
                                        VerificationStep::kIdentityCallback});
  REQUIRE(RequiredVerifications(records::RequestType::kDsar).back() ==
          VerificationStep::kIdentityDocumentsSeen);
  REQUIRE(RequiredVerifications(records::RequestType::kInternal).empty());
  REQUIRE(LegalBasisFits(records::RequestType::kPolice, records::LegalBasis::kCdaProtocol));
  REQUIRE(
      LegalBasisFits(records::RequestType::kMissingPerson, records::LegalBasis::kVitalInterests));
  REQUIRE_FALSE(
      LegalBasisFits(records::RequestType::kMedia, records::LegalBasis::kLegitimateInterests));
  REQUIRE_FALSE(LegalBasisFits(records::RequestType::kDsar, records::LegalBasis::kConsent));
}

TEST_CASE("undecided, open and exportable states follow the transition table") {
  const std::vector<RequestState> all = AllStates();
  REQUIRE(all.size() == static_cast<size_t>(RequestState::kWithdrawn) + 1);
  for (RequestState s : all) {
    INFO(records::Name(s));
    // Undecided: it can still be refused. Open: it can still be withdrawn.
    CHECK(IsUndecided(s) == TransitionAllowed(s, RequestState::kRefused));
    CHECK(IsOpen(s) == TransitionAllowed(s, RequestState::kWithdrawn));
    CHECK(MayExport(s) == (!IsUndecided(s) && s != RequestState::kRefused &&
                           s != RequestState::kWithdrawn && s != RequestState::kClosed));
  }
}

// The web UI's words for the states (web/static/js/requests_rules.js) name exactly the
// server's states: the pages take which state allows what from GET /api/v1/request-rules,
// and a state missing here would show as its raw name, one extra as a filter that never
// matches.
TEST_CASE("the web UI's state words name exactly the server's states") {
  const std::string path = std::string(CUSTODIAN_SOURCE_DIR) + "/web/static/js/requests_rules.js";
  std::ifstream in(path);
  REQUIRE(in);
  const std::string js((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t start = js.find("export const STATES = {");
  REQUIRE(start != std::string::npos);
  const size_t end = js.find("};", start);
  REQUIRE(end != std::string::npos);
  const std::string block = js.substr(start, end - start);
  std::set<std::string> in_js;
  const std::regex key(R"(([a-z_]+):\s*')");
  for (std::sregex_iterator it(block.begin(), block.end(), key), last; it != last; ++it) {
    in_js.insert((*it)[1]);
  }
  std::set<std::string> on_server;
  for (RequestState s : AllStates()) on_server.insert(records::Name(s));
  CHECK(in_js == on_server);
}
