#include "requests/statistics.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "requests/testing.h"
#include "requests/workflow.h"

using namespace custodian;
using namespace custodian::requests;
using namespace custodian::requests::testing;

TEST_CASE("monthly statistics count requests, DSAR deadlines and activity without identities") {
  Site s;
  Workflow w(*s.db, s.clock);
  NewRequest police;
  police.type = records::RequestType::kPolice;
  police.requester_name = "DC Secret Name";
  police.reference = "CR/SECRET/1";
  police.legal_basis = records::LegalBasis::kCrimePrevention;
  police.ranges = {{"door-1", kT0 - kHour, kT0}};
  auto p = *w.LogRequest(police, s.staff);
  REQUIRE(w.AddVerification(p, records::VerificationStep::kReceivedInWriting, s.staff, "").ok());
  REQUIRE(w.AddVerification(p, records::VerificationStep::kIdentityCallback, s.staff, "").ok());
  REQUIRE(w.SubmitForDecision(p, s.staff).ok());
  REQUIRE(w.Decide(p, {true, s.manager_b, "lawful", {}}).ok());
  auto refused = *w.LogRequest(police, s.staff);
  REQUIRE(w.Decide(refused, {false, s.manager_b, "not verified", {}}).ok());

  NewRequest dsar;
  dsar.type = records::RequestType::kDsar;
  dsar.requester_name = "Resident Name";
  dsar.legal_basis = records::LegalBasis::kRightOfAccess;
  dsar.ranges = {{"yard", kT0 - kHour, kT0}};
  dsar.received = Utc("2026-01-02T12:00:00Z");  // due 2 February
  auto late = *w.LogRequest(dsar, s.staff);
  dsar.received = Utc("2026-01-05T12:00:00Z");  // due 5 February, refused in time
  auto met = *w.LogRequest(dsar, s.staff);
  REQUIRE(w.Decide(met, {false, s.dpo, "manifestly unfounded", {}}).ok());
  (void)late;

  auto jan = ComputeMonthlyStatistics(*s.db, 2026, 1, s.clock.Now());
  REQUIRE(jan.ok());
  REQUIRE(jan->by_type.at("police").received == 2);
  REQUIRE(jan->by_type.at("police").approved == 1);
  REQUIRE(jan->by_type.at("police").refused == 1);
  REQUIRE(jan->by_type.at("dsar").received == 2);
  REQUIRE(jan->by_type.at("dsar").pending == 1);
  REQUIRE(jan->activity.holds_created == 4);
  REQUIRE(jan->dsar.due == 0);

  s.clock.SetWall(Utc("2026-03-01T00:00:00Z"));
  auto feb = ComputeMonthlyStatistics(*s.db, 2026, 2, s.clock.Now());
  REQUIRE(feb.ok());
  REQUIRE(feb->dsar.due == 2);
  REQUIRE(feb->dsar.met == 1);
  REQUIRE(feb->dsar.missed == 1);
  REQUIRE(feb->by_type.at("police").received == 0);

  std::string json = ToJson(*jan);
  REQUIRE(json.find("Secret") == std::string::npos);
  REQUIRE(json.find("CR/") == std::string::npos);
  REQUIRE(json.find("Resident") == std::string::npos);
  auto parsed = nlohmann::json::parse(json);
  REQUIRE(parsed["period"] == "2026-01");
  REQUIRE(parsed["requests"]["police"]["approved"] == 1);
  REQUIRE(ToJson(*jan) == json);
}

TEST_CASE("a DSAR whose clock is stopped is not missed, and is counted as stopped") {
  Site s;
  Workflow w(*s.db, s.clock);
  NewRequest dsar;
  dsar.type = records::RequestType::kDsar;
  dsar.requester_name = "Resident Name";
  dsar.legal_basis = records::LegalBasis::kRightOfAccess;
  dsar.ranges = {{"yard", kT0 - kHour, kT0}};
  dsar.received = Utc("2026-01-02T12:00:00Z");  // due 2 February
  auto id = *w.LogRequest(dsar, s.staff);
  s.clock.SetWall(Utc("2026-01-30T12:00:00Z"));
  REQUIRE(w.StopDsarClock(id, {ClockStopReason::kIdentity, "photo ID", s.manager_a}).ok());

  s.clock.SetWall(Utc("2026-03-01T00:00:00Z"));
  auto feb = ComputeMonthlyStatistics(*s.db, 2026, 2, s.clock.Now());
  REQUIRE(feb.ok());
  REQUIRE(feb->dsar.due == 1);
  REQUIRE(feb->dsar.clock_stopped == 1);
  REQUIRE(feb->dsar.missed == 0);
  REQUIRE(nlohmann::json::parse(ToJson(*feb))["dsar_deadlines"]["clock_stopped"] == 1);

  // Restarted on 1 March after 30 days stopped: due 4 March, no longer in February.
  REQUIRE(w.RestartDsarClock(id, s.manager_a, "driving licence seen").ok());
  feb = ComputeMonthlyStatistics(*s.db, 2026, 2, s.clock.Now());
  REQUIRE(feb->dsar.due == 0);
  s.clock.SetWall(Utc("2026-04-01T00:00:00Z"));
  auto mar = ComputeMonthlyStatistics(*s.db, 2026, 3, s.clock.Now());
  REQUIRE(mar->dsar.due == 1);
  REQUIRE(mar->dsar.missed == 1);
  REQUIRE(mar->dsar.clock_stopped == 1);
}
