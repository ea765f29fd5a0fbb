#include "records/migrations.h"
#include "records/test_util.h"

using namespace custodian;
using namespace custodian::records;
using namespace custodian::records::testing;

namespace {

FootageRequestRow PoliceRequest(int64_t logged_by) {
  FootageRequestRow r;
  r.type = RequestType::kPolice;
  r.requester_name = "PC 1234 Example";
  r.organisation = "Example Constabulary";
  r.reference = "CR/2026/0001";
  r.legal_basis = LegalBasis::kCrimePrevention;
  r.received = kT0;
  r.logged_by = logged_by;
  r.ranges = {{"door-1", kT0 - 10 * kMinute, kT0}};
  return r;
}

int64_t AddUser(Database& db, const std::string& name, Role role) {
  auto id = db.CreateUser({name, role, "hash:x", false});
  REQUIRE(id.ok());
  return *id;
}

}  // namespace

TEST_CASE("a footage request is stored with its ranges and a logged event") {
  TestDb t;
  Database& db = *t.db;
  auto id = db.InsertFootageRequest(PoliceRequest(t.manager_id));
  REQUIRE(id.ok());
  auto got = db.GetFootageRequest(*id);
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  const FootageRequestRow& r = **got;
  REQUIRE(r.state == RequestState::kReceived);
  REQUIRE(r.legal_basis == LegalBasis::kCrimePrevention);
  REQUIRE(r.ranges.size() == 1);
  REQUIRE(r.created == kT0);
  auto events = db.ListRequestEvents(*id);
  REQUIRE(events->size() == 1);
  REQUIRE(events->front().action == "logged");
  REQUIRE_FALSE(events->front().from_state.has_value());
  REQUIRE(db.ListFootageRequests({})->size() == 1);
  REQUIRE(db.ListFootageRequests({RequestState::kClosed, {}, {}, {}})->empty());
  REQUIRE(db.ListFootageRequests({{}, RequestType::kPolice, kT0, kT0 + 1})->size() == 1);
}

TEST_CASE("request transitions are compare-and-set on the state") {
  TestDb t;
  Database& db = *t.db;
  auto id = *db.InsertFootageRequest(PoliceRequest(t.manager_id));
  REQUIRE(db.TransitionRequest(id, RequestState::kReceived, RequestState::kVerifying, t.manager_id,
                               "verifying", "")
              .ok());
  Status again = db.TransitionRequest(id, RequestState::kReceived, RequestState::kVerifying,
                                      t.manager_id, "verifying", "");
  REQUIRE(again.kind() == ErrorKind::kFailedPrecondition);
  REQUIRE(again.message().find("is verifying") != std::string::npos);
  REQUIRE(db.TransitionRequest(999, RequestState::kReceived, RequestState::kVerifying, t.manager_id,
                               "x", "")
              .kind() == ErrorKind::kNotFound);
  REQUIRE(db.ListRequestEvents(id)->size() == 2);
}

TEST_CASE("the schema refuses a decision by the person who logged the request") {
  TestDb t;
  Database& db = *t.db;
  auto id = *db.InsertFootageRequest(PoliceRequest(t.manager_id));
  REQUIRE(db.TransitionRequest(id, RequestState::kReceived, RequestState::kAwaitingDecision,
                               t.manager_id, "x", "")
              .ok());
  RequestDecision d;
  d.approve = true;
  d.decided_by = t.manager_id;
  d.reason = "lawful";
  REQUIRE(db.RecordRequestDecision(id, d).kind() == ErrorKind::kFailedPrecondition);
  d.decided_by = AddUser(db, "manager-2", Role::kManager);
  d.reason = "";
  REQUIRE(db.RecordRequestDecision(id, d).kind() == ErrorKind::kFailedPrecondition);
  d.reason = "lawful under Sch. 2 para 2";
  REQUIRE(db.RecordRequestDecision(id, d).ok());
  auto r = **db.GetFootageRequest(id);
  REQUIRE(r.state == RequestState::kApproved);
  REQUIRE(r.decided == kT0);
  REQUIRE(db.ListRequestEvents(id)->back().action == "approved");
}

TEST_CASE("an extension is recorded once per length and only upwards") {
  TestDb t;
  Database& db = *t.db;
  FootageRequestRow dsar = PoliceRequest(t.manager_id);
  dsar.type = RequestType::kDsar;
  dsar.legal_basis = LegalBasis::kRightOfAccess;
  auto id = *db.InsertFootageRequest(dsar);
  DeadlineExtension e{1, kT0 + 60 * kMicrosPerDay, "complex", kT0, t.manager_id};
  REQUIRE(db.ExtendRequestDeadline(id, e).ok());
  REQUIRE(db.ExtendRequestDeadline(id, e).kind() == ErrorKind::kFailedPrecondition);
  e.total_months = 3;
  REQUIRE(db.ExtendRequestDeadline(id, e).kind() == ErrorKind::kFailedPrecondition);
  e.total_months = 2;
  e.reason = "";
  REQUIRE_FALSE(db.ExtendRequestDeadline(id, e).ok());
  auto r = **db.GetFootageRequest(id);
  REQUIRE(r.extension_months == 1);
  REQUIRE(r.extension_reason == "complex");
}

TEST_CASE("exports go building to ready once, and only ready exports are handed over") {
  TestDb t;
  Database& db = *t.db;
  auto req = *db.InsertFootageRequest(PoliceRequest(t.manager_id));
  ExportRow e;
  e.request_id = req;
  e.created_by = t.manager_id;
  REQUIRE(db.CreateExport(e).status().kind() == ErrorKind::kInvalidArgument);
  e.ranges = {{"door-1", kT0 - kMinute, kT0}};
  auto id = db.CreateExport(e);
  REQUIRE(id.ok());
  DisclosureRow d;
  d.export_id = *id;
  d.recipient_name = "PC 1234 Example";
  d.method = DisclosureMethod::kInPerson;
  d.at = kT0;
  d.authorised_by = t.manager_id;
  d.recorded_by = t.manager_id;
  REQUIRE(db.RecordDisclosure(d).status().kind() == ErrorKind::kFailedPrecondition);

  REQUIRE(db.MarkExportFailed(*id, "disk full").ok());
  REQUIRE(db.MarkExportReady(*id, {"exports/x", 10, std::string(64, 'b'), "K", {}}).kind() ==
          ErrorKind::kFailedPrecondition);
  REQUIRE(db.RestartExport(*id).ok());
  REQUIRE(db.MarkExportReady(*id, {"exports/x", 10, std::string(64, 'b'), "K", {}}).ok());
  REQUIRE(db.RestartExport(*id).kind() == ErrorKind::kFailedPrecondition);
  auto disclosure = db.RecordDisclosure(d);
  REQUIRE(disclosure.ok());
  auto listed = db.ListDisclosuresForExport(*id);
  REQUIRE(listed->size() == 1);
  REQUIRE(listed->front().manifest_sha256 == std::string(64, 'b'));
  REQUIRE(db.ListDisclosures(kT0, kT0 + 1)->size() == 1);
  // Disclosures are append-only.
  REQUIRE(RawExec(t.path, "UPDATE disclosures SET recipient_name = 'x'") != SQLITE_OK);

  REQUIRE(db.JustifyUnredactedExport(*id, t.manager_id, "").kind() == ErrorKind::kInvalidArgument);
  REQUIRE(db.JustifyUnredactedExport(*id, t.manager_id, "subject alone in view").ok());
  REQUIRE(db.JustifyUnredactedExport(*id, t.manager_id, "again").kind() ==
          ErrorKind::kFailedPrecondition);
  auto got = **db.GetExport(*id);
  REQUIRE(got.state == ExportState::kReady);
  REQUIRE(got.unredacted_justification == "subject alone in view");
  REQUIRE(got.ranges.size() == 1);
  REQUIRE(db.ListExportsForRequest(req)->size() == 1);
}

TEST_CASE("closing a request makes its hold due once its retention has passed") {
  TestDb t;
  Database& db = *t.db;
  auto req = *db.InsertFootageRequest(PoliceRequest(t.manager_id));
  HoldRow hold;
  hold.reason = "request";
  hold.owner_user_id = t.manager_id;
  hold.request_id = req;
  hold.review = kT0 + kMicrosPerDay;
  hold.ranges = {{"door-1", kT0 - kMinute, kT0}};
  REQUIRE(db.CreateHold(hold).ok());
  REQUIRE(db.TransitionRequest(req, RequestState::kReceived, RequestState::kWithdrawn, t.manager_id,
                               "withdrawn", "")
              .ok());
  REQUIRE(db.CloseFootageRequest(req, RequestState::kWithdrawn, t.manager_id, kT0 + kMicrosPerDay,
                                 "done")
              .ok());
  REQUIRE(db.ListRequestHoldsDue()->empty());
  t.clock.Advance(kMicrosPerDay);
  REQUIRE(db.ListRequestHoldsDue()->size() == 1);
}

TEST_CASE("version 2 keeps a version 1 request and renames fulfilled to disclosed") {
  TempDir dir;
  std::string path = dir.File("records.db");
  REQUIRE(RawExec(path, std::string("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                                    "applied_us INTEGER NOT NULL, summary TEXT NOT NULL) STRICT;") +
                            kSchemaV1 +
                            "INSERT INTO schema_version VALUES (1, 0, 'initial schema');"
                            "INSERT INTO users (id, name, role, password_hash, created_us) "
                            "VALUES (1, 'a', 'manager', 'h', 0), (2, 'b', 'manager', 'h', 0);"
                            "INSERT INTO footage_requests (id, type, requester_name, legal_basis, "
                            "received_us, state, logged_by, decided_by, decided_us, "
                            "decision_reason, created_us, updated_us) VALUES (7, 'police', "
                            "'PC', 'crime_prevention', 1, 'fulfilled', 1, 2, 2, 'ok', 1, 2);") ==
          SQLITE_OK);
  ManualClock clock(kT0);
  auto db = Database::Open(path, clock);
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  REQUIRE((*db)->SchemaVersion() == LatestSchemaVersion());  // v1 -> latest, through v2
  auto r = (*db)->GetFootageRequest(7);
  REQUIRE(r.ok());
  REQUIRE((*r)->state == RequestState::kDisclosed);
  REQUIRE((*r)->decided_by == 2);
}

// The records' own guard behind POST /holds/{id}/release: checked in the release's
// transaction, so no path (API, CLI, a future caller) lets an open request's footage expire.
TEST_CASE("a request's hold cannot be released while the request is open, withdrawn included") {
  TestDb t;
  Database& db = *t.db;
  const int64_t req = *db.InsertFootageRequest(PoliceRequest(t.manager_id));
  HoldRow hold;
  hold.reason = "request " + std::to_string(req);
  hold.owner_user_id = t.manager_id;
  hold.request_id = req;
  hold.review = kT0 + 90 * kMicrosPerDay;
  hold.ranges = {{"door-1", kT0 - 10 * kMinute, kT0}};
  const int64_t hold_id = *db.CreateHold(hold);

  Status st = db.ReleaseHold(hold_id, t.manager_id);
  REQUIRE(st.kind() == ErrorKind::kFailedPrecondition);
  REQUIRE(st.message().find("not closed") != std::string::npos);
  REQUIRE(db.TransitionRequest(req, RequestState::kReceived, RequestState::kWithdrawn,
                               t.manager_id, "withdrawn", "")
              .ok());
  REQUIRE(db.ReleaseHold(hold_id, t.manager_id).kind() == ErrorKind::kFailedPrecondition);
  REQUIRE(*db.IsSegmentHeld("door-1", kT0 - kMinute, kT0));

  REQUIRE(db.CloseFootageRequest(req, RequestState::kWithdrawn, t.manager_id,
                                 kT0 + 31 * kMicrosPerDay, "")
              .ok());
  REQUIRE(db.ReleaseHold(hold_id, t.manager_id).ok());
  REQUIRE_FALSE(*db.IsSegmentHeld("door-1", kT0 - kMinute, kT0));
}
