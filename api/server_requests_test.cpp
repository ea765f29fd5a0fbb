// Footage requests over HTTP: the police flow from logging to handover through the
// real server, with the export built by serve's own worker (JobWorker) from recorded
// footage, downloaded as one file and verified with the minisign CLI and with
// `custodian export verify`; refusals, the access log, the encrypted zip's password, the
// disclosure register, the statistics and the worker's start-up and hold release.
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/testing/api_fixture.h"
#include "api/testing/serve_worker.h"
#include "api/testing/shell.h"
#include "base/filesystem.h"
#include "base/sha256.h"

namespace custodian::api::testing {
namespace {

using records::AccessResult;
using records::Role;
using json = nlohmann::json;
namespace fs = std::filesystem;

std::string Id(const ClientResponse& r) {
  return std::to_string(json::parse(r.body)["id"].get<int64_t>());
}

// door-1 recorded for 12 s from kFootageT0; two managers, staff, the DPO; serve's worker.
class Flow {
 public:
  Flow() {
    ann_id = f.AddUser("ann", Role::kManager, {"door-1"});
    f.AddUser("ben", Role::kManager, {"door-1"});
    f.AddUser("sam", Role::kStaff, {"door-1"});
    f.AddUser("dee", Role::kDpo, {"door-1"});
    for (int i = 0; i < 3; ++i) f.AddSegment("door-1", kFootageT0 + i * 4 * kSecond);
    ann = f.Login("ann");
    ben = f.Login("ben");
    sam = f.Login("sam");
    dee = f.Login("dee");
  }
  ~Flow() { StopWorker(); }

  void StartWorker() { worker_.Start(); }
  void StopWorker() { worker_.Stop(); }

  std::string RequestBody() const {
    return json{{"type", "police"},
                {"requester_name", "DC Jo Example"},
                {"organisation", "Example Constabulary"},
                {"contact", "CID office via switchboard"},
                {"reference", "CR/2026/0042"},
                {"legal_basis", "crime_prevention"},
                {"description", "assault at the front door"},
                {"ranges",
                 {{{"camera", "door-1"},
                   {"from", At(kFootageT0 + kSecond)},
                   {"to", At(kFootageT0 + 10 * kSecond)}}}}}
        .dump();
  }

  // Logs, verifies and submits a police request as ann; returns its path.
  std::string SubmittedRequest() {
    auto logged = f.Call("POST", "/api/v1/requests", ann, RequestBody());
    INFO(logged.body);
    REQUIRE(logged.status == 201);
    const std::string path = "/api/v1/requests/" + Id(logged);
    for (const char* step : {"received_in_writing", "identity_callback"}) {
      auto v = f.Call("POST", path + "/verifications", ann,
                      json{{"step", step}, {"note", "checked"}}.dump());
      INFO(v.body);
      REQUIRE(v.status == 204);
    }
    REQUIRE(f.Call("POST", path + "/submit", ann).status == 204);
    return path;
  }

  // Waits (real time) for the worker to finish the export; returns its last state.
  json WaitForExport(const std::string& export_path) {
    json e;
    for (int i = 0; i < 600; ++i) {
      auto r = f.Get(export_path, ben);
      REQUIRE(r.status == 200);
      e = json::parse(r.body);
      if (e["state"] != "building") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return e;
  }

  // An approved request's export, ready; returns the export's path.
  std::string ReadyExport(std::string* request_path = nullptr) {
    const std::string path = SubmittedRequest();
    REQUIRE(f.Call("POST", path + "/decision", ben,
                   json{{"approve", true}, {"reason", "crime reference checked"}}.dump())
                .status == 204);
    auto queued = f.Call("POST", path + "/exports", ben, "{}");
    INFO(queued.body);
    REQUIRE(queued.status == 202);
    const std::string export_path =
        "/api/v1/exports/" + std::to_string(json::parse(queued.body)["export_id"].get<int64_t>());
    CHECK(queued.Header("location") == export_path);
    json e = WaitForExport(export_path);
    INFO(e.dump());
    REQUIRE(e["state"] == "ready");
    if (request_path) *request_path = path;
    return export_path;
  }

  // A DSAR logged by ann, verified, approved by ben and exported, not redacted and with no
  // recorded justification; returns the export's path.
  std::string ReadyDsarExport() {
    auto logged = f.Call("POST", "/api/v1/requests", ann,
                         json{{"type", "dsar"},
                              {"requester_name", "A. Subject"},
                              {"contact", "by post"},
                              {"legal_basis", "right_of_access"},
                              {"description", "me at the front door"},
                              {"ranges",
                               {{{"camera", "door-1"},
                                 {"from", At(kFootageT0 + kSecond)},
                                 {"to", At(kFootageT0 + 6 * kSecond)}}}}}
                             .dump());
    INFO(logged.body);
    REQUIRE(logged.status == 201);
    const std::string path = "/api/v1/requests/" + Id(logged);
    for (const char* step : {"received_in_writing", "identity_documents_seen"}) {
      REQUIRE(f.Call("POST", path + "/verifications", ann,
                     json{{"step", step}, {"note", "checked"}}.dump())
                  .status == 204);
    }
    REQUIRE(f.Call("POST", path + "/submit", ann).status == 204);
    REQUIRE(f.Call("POST", path + "/decision", ben,
                   json{{"approve", true}, {"reason", "identity checked"}}.dump())
                .status == 204);
    auto queued = f.Call("POST", path + "/exports", ben, "{}");
    REQUIRE(queued.status == 202);
    const std::string export_path =
        "/api/v1/exports/" + std::to_string(json::parse(queued.body)["export_id"].get<int64_t>());
    json e = WaitForExport(export_path);
    INFO(e.dump());
    REQUIRE(e["state"] == "ready");
    return export_path;
  }

  ApiServerFixture f;
  int64_t ann_id = 0;
  SignedIn ann, ben, sam, dee;

 private:
  ServeWorker worker_{f};
};

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE(
    "api police flow over HTTP: log, verify, second manager approves, export, verify, hand over") {
  Flow t;
  t.StartWorker();
  ApiServerFixture& f = t.f;

  // 1. ann logs the request; the hold is placed at once.
  const std::string path = t.SubmittedRequest();
  auto holds = json::parse(f.Get("/api/v1/holds", t.ann).body)["holds"];
  REQUIRE(holds.size() == 1);
  CHECK(holds[0]["request_id"].get<int64_t>() == std::stoll(path.substr(path.rfind('/') + 1)));

  // 2. ann may not decide her own request; the UI is told so, and so is she when she tries.
  auto as_ann = json::parse(f.Get(path, t.ann).body);
  CHECK(as_ann["state"] == "awaiting_decision");
  CHECK(as_ann["open"] == true);
  CHECK(as_ann["can_decide"] == false);
  CHECK(Contains(as_ann["cannot_decide_reason"].get<std::string>(), "logged"));
  CHECK(as_ann["verifications"].size() == 2);
  CHECK(as_ann["history"].size() >= 3);
  // People by name and role, not number.
  CHECK(as_ann["logged_by_who"] == "ann (manager)");
  CHECK(as_ann["history"][0]["user_who"] == "ann (manager)");
  CHECK(as_ann["verifications"][0]["done_by_who"] == "ann (manager)");
  CHECK(as_ann["assessment"]["over_broad"] == false);
  CHECK(json::parse(f.Get(path, t.ben).body)["can_decide"] == true);
  CHECK(f.LastAccess().action == "request_view");

  const json approve = {{"approve", true}, {"reason", "crime reference checked"}};
  auto refused = f.Call("POST", path + "/decision", t.ann, approve.dump());
  CHECK(refused.status == 403);
  CHECK(Contains(json::parse(refused.body)["error"]["message"], "cannot decide"));
  auto e = f.LastAccess();
  CHECK(e.action == "request_decide");
  CHECK(e.user_name == "ann");
  CHECK(e.result == AccessResult::kDenied);
  CHECK(f.Call("POST", path + "/decision", t.sam, approve.dump()).status == 403);
  CHECK(f.LastAccess().user_name == "sam");
  CHECK(f.Call("POST", path + "/exports", t.ben, "{}").status == 409);  // not approved yet

  // 3. ben approves; the export is queued and built by the worker.
  REQUIRE(f.Call("POST", path + "/decision", t.ben, approve.dump()).status == 204);
  CHECK(f.LastAccess().action == "request_decide");
  CHECK(f.LastAccess().result == AccessResult::kOk);
  auto queued = f.Call("POST", path + "/exports", t.ben, "{}");
  REQUIRE(queued.status == 202);
  const std::string export_path =
      "/api/v1/exports/" + std::to_string(json::parse(queued.body)["export_id"].get<int64_t>());
  json ex = t.WaitForExport(export_path);
  INFO(ex.dump());
  REQUIRE(ex["state"] == "ready");
  CHECK(ex["progress"] == 100);
  REQUIRE(ex["files"].size() >= 3);
  for (const auto& file : ex["files"]) {
    CHECK(file["sha256"].get<std::string>().size() == 64);
    CHECK(file["bytes"].get<int64_t>() > 0);
  }
  CHECK(ex["manifest_sha256"].get<std::string>().size() == 64);
  CHECK(json::parse(f.Get(path, t.ann).body)["state"] == "export_prepared");

  // 4. No purpose: refused, and logged with the camera.
  const size_t before = f.AccessLog().size();
  auto no_purpose = f.Get(export_path + "/download", t.ben);
  CHECK(no_purpose.status == 400);
  auto log = f.AccessLog();
  REQUIRE(log.size() == before + 1);
  CHECK(log.back().action == "export_download");
  CHECK(log.back().result == AccessResult::kDenied);
  CHECK(log.back().camera_id == "door-1");
  // No session: refused and logged as well.
  CHECK(f.Get(export_path + "/download?" + PurposeParams()).status == 401);
  CHECK(f.LastAccess().user_name == "(no session)");
  CHECK(f.LastAccess().action == "export_download");
  // Staff cannot download a package.
  CHECK(f.Get(export_path + "/download?" + PurposeParams(), t.sam).status == 403);

  // 5. The entry comes before the bytes: while another writer holds the records, the
  // entry cannot be written and nothing is sent.
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open((f.data_dir() + "/records.db").c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  auto locked = f.Get(export_path + "/download?" + PurposeParams(), t.ben);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  CHECK(locked.status == 503);
  CHECK_FALSE(Contains(locked.body, "manifest.json"));

  // With a purpose: the entry names the bytes sent; the tar holds the package.
  auto got = f.Get(export_path + "/download?" + PurposeParams(), t.ben);
  REQUIRE(got.status == 200);
  CHECK(got.Header("content-type") == "application/x-tar");
  e = f.LastAccess();
  CHECK(e.action == "export_download");
  CHECK(e.result == AccessResult::kOk);
  CHECK(e.user_name == "ben");
  CHECK(e.purpose_text == kPurposeText);
  CHECK(e.camera_id == "door-1");
  CHECK(e.from == kFootageT0 + kSecond);
  CHECK(Contains(e.detail, std::to_string(got.body.size()) + " bytes"));
  auto part = f.Get(export_path + "/download?" + PurposeParams(), t.ben, {{"Range", "bytes=0-99"}});
  CHECK(part.status == 206);
  CHECK(part.body == got.body.substr(0, 100));

  const std::string out = f.data_dir() + "/../received";
  fs::create_directories(out);
  std::ofstream(out + "/package.tar", std::ios::binary) << got.body;
  std::string said;
  REQUIRE(Run("tar -xf '" + out + "/package.tar' -C '" + out + "'", &said) == 0);
  const std::string export_id = export_path.substr(export_path.rfind('/') + 1);
  const std::string package = out + "/export-" + export_id;
  REQUIRE(fs::exists(package + "/manifest.json"));
  CHECK(Sha256Hex(ReadFile(package + "/manifest.json")) == ex["manifest_sha256"]);

  auto key = json::parse(f.Get("/api/v1/signing-key", t.sam).body);
  const std::string pubkey = key["public_key"];
  CHECK(key["key_id"] == ex["key_id"]);
  INFO(said);
  CHECK(Run("cd '" + package + "' && " CUSTODIAN_MINISIGN_CLI " -Vm manifest.json -P " + pubkey,
            &said) == 0);
  CHECK(Run(std::string(CUSTODIAN_BINARY) + " export verify '" + package + "' --pubkey " + pubkey,
            &said) == 0);
  CHECK(Contains(said, "VERIFIED"));

  // 6. The handover, the notification and closing. The police guide asks for the
  // officer's collar or warrant number: without it nothing is recorded.
  auto anonymous_officer = f.Call("POST", "/api/v1/disclosures", t.ben,
                                  json{{"export_id", std::stoll(export_id)},
                                       {"recipient_name", "DC Jo Example"},
                                       {"method", "download"}}
                                      .dump());
  CHECK(anonymous_officer.status == 400);
  CHECK(Contains(anonymous_officer.body, "collar or warrant number"));
  auto handed = f.Call("POST", "/api/v1/disclosures", t.ben,
                       json{{"export_id", std::stoll(export_id)},
                            {"recipient_name", "DC Jo Example"},
                            {"organisation", "Example Constabulary"},
                            {"reference", "collar 4411"},
                            {"method", "download"},
                            {"note", "collected at the office"}}
                           .dump());
  INFO(handed.body);
  REQUIRE(handed.status == 201);
  CHECK(f.LastAccess().action == "disclosure_record");
  CHECK(f.Call("POST", path + "/close", t.ben).status == 409);  // subject notification first
  REQUIRE(f.Call("POST", path + "/subject-notification", t.ben,
                 json{{"told", false}, {"note", "would prejudice the investigation"}}.dump())
              .status == 204);
  REQUIRE(f.Call("POST", path + "/close", t.ben).status == 204);
  auto closed = json::parse(f.Get(path, t.dee).body);
  CHECK(closed["state"] == "closed");
  REQUIRE(closed["disclosures"].size() == 1);
  CHECK(closed["disclosures"][0]["reference"] == "collar 4411");

  // 7. The DPO's register and the anonymised statistics show it; both reads are logged.
  auto reg = f.Get(
      "/api/v1/disclosures?from=" + At(kFootageT0) + "&to=" + At(f.clock.Now() + kMicrosPerDay),
      t.dee);
  REQUIRE(reg.status == 200);
  auto rows = json::parse(reg.body)["disclosures"];
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["recipient_name"] == "DC Jo Example");
  // The register links each handover to its request, not only to the export.
  CHECK(rows[0]["request_id"].get<int64_t>() == std::stoll(path.substr(path.rfind('/') + 1)));
  CHECK(rows[0]["authorised_by"].get<int64_t>() != t.ann_id);
  CHECK(rows[0]["manifest_sha256"] == ex["manifest_sha256"]);
  CHECK(f.LastAccess().action == "disclosure_list");
  CHECK(f.Get("/api/v1/disclosures?from=" + At(kFootageT0) + "&to=" + At(f.clock.Now()), t.ben)
            .status == 403);

  auto stats = f.Get("/api/v1/statistics?month=2026-01", t.dee);
  REQUIRE(stats.status == 200);
  auto s = json::parse(stats.body);
  CHECK(s["requests"]["police"]["received"] == 1);
  CHECK(s["requests"]["police"]["approved"] == 1);
  CHECK(s["disclosures"]["total"] == 1);
  for (const char* secret : {"DC Jo", "Example Constabulary", "CR/2026", "collar", "ann", "ben"}) {
    INFO(secret);
    CHECK_FALSE(Contains(stats.body, secret));
  }
  CHECK(f.LastAccess().action == "statistics");
  CHECK(f.Get("/api/v1/statistics?month=2026-13", t.dee).status == 400);

  // 8. The list: managers see requests on their cameras, filtered.
  auto listed = json::parse(f.Get("/api/v1/requests?state=closed", t.ann).body)["requests"];
  CHECK(listed.size() == 1);
  CHECK(json::parse(f.Get("/api/v1/requests?state=received", t.ann).body)["requests"].empty());
  CHECK(f.LastAccess().action == "request_list");
}

TEST_CASE("api the encrypted zip's password is shown once and stored nowhere") {
  Flow t;
  t.StartWorker();
  ApiServerFixture& f = t.f;
  const std::string export_path = t.ReadyExport();
  // Not before it is asked for.
  CHECK(f.Get(export_path + "/download?format=zip&" + PurposeParams(), t.ben).status == 404);

  auto made = f.Call("POST", export_path + "/encrypted-zip", t.ben);
  INFO(made.body);
  REQUIRE(made.status == 201);
  const std::string password = json::parse(made.body)["password"];
  REQUIRE(password.size() >= 20);
  CHECK(f.Call("POST", export_path + "/encrypted-zip", t.sam).status == 403);
  auto ex = json::parse(f.Get(export_path, t.ben).body);
  CHECK(ex["encrypted_zip"] == true);
  CHECK_FALSE(Contains(ex.dump(), password));

  auto zip = f.Get(export_path + "/download?format=zip&" + PurposeParams(), t.ben);
  REQUIRE(zip.status == 200);
  CHECK(zip.Header("content-type") == "application/zip");
  const std::string zip_path = f.data_dir() + "/../copy.zip";
  std::ofstream(zip_path, std::ios::binary) << zip.body;
  std::string said;
  CHECK(Run(std::string(CUSTODIAN_7Z_CLI) + " t -p'" + password + "' '" + zip_path + "'", &said) ==
        0);
  CHECK(Run(std::string(CUSTODIAN_7Z_CLI) + " t -p'wrong-password' '" + zip_path + "'", &said) !=
        0);

  // Nowhere in the records (database and its WAL) nor in the access log.
  for (const auto& entry : f.AccessLog()) {
    CHECK_FALSE(Contains(entry.detail + entry.purpose_text, password));
  }
  for (const char* file : {"/records.db", "/records.db-wal"}) {
    CHECK_FALSE(Contains(ReadFile(f.data_dir() + file), password));
  }
  for (const auto& p : fs::recursive_directory_iterator(f.data_dir() + "/exports")) {
    if (p.is_regular_file() && p.path().extension() != ".zip") {
      CHECK_FALSE(Contains(ReadFile(p.path()), password));
    }
  }
}

TEST_CASE("api request routes refuse bad input and keep scope") {
  Flow t;
  ApiServerFixture& f = t.f;
  json body = json::parse(t.RequestBody());
  body["type"] = "astrology";
  CHECK(f.Call("POST", "/api/v1/requests", t.ann, body.dump()).status == 400);
  body = json::parse(t.RequestBody());
  body["legal_basis"] = "right_of_access";  // a DSAR's basis on a police request
  CHECK(f.Call("POST", "/api/v1/requests", t.ann, body.dump()).status == 400);
  body = json::parse(t.RequestBody());
  body["ranges"][0]["camera"] = "yard";  // not permitted to ann
  CHECK(f.Call("POST", "/api/v1/requests", t.ann, body.dump()).status == 403);
  CHECK(f.Call("POST", "/api/v1/requests", t.ann, "[1,2]").status == 400);
  CHECK(f.Get("/api/v1/requests/0", t.ann).status == 400);
  CHECK(f.Get("/api/v1/requests/1%20OR%201=1", t.ann).status == 400);
  CHECK(f.Get("/api/v1/requests/999", t.ann).status == 404);
  CHECK(f.Get("/api/v1/exports/999", t.ann).status == 404);

  // Staff see and act on their own requests only.
  auto own = f.Call("POST", "/api/v1/requests", t.sam, t.RequestBody());
  REQUIRE(own.status == 201);
  const std::string path = t.SubmittedRequest();
  CHECK(f.Get("/api/v1/requests/" + Id(own), t.sam).status == 200);
  CHECK(f.Get(path, t.sam).status == 403);
  CHECK(f.Call("POST", path + "/withdraw", t.sam).status == 403);
  // Submitting before the steps are recorded names the missing ones.
  auto early = f.Call("POST", "/api/v1/requests/" + Id(own) + "/submit", t.sam);
  CHECK(early.status == 409);
  CHECK(Contains(early.body, "identity_callback"));
  // Deciding needs a reason; extensions are for DSARs.
  CHECK(f.Call("POST", path + "/decision", t.ben, json{{"approve", true}}.dump()).status == 400);
  CHECK(
      f.Call(
           "POST", path + "/extension", t.ben,
           json{{"further_months", 1}, {"reason", "complex"}, {"requester_told", At(f.clock.Now())}}
               .dump())
          .status == 409);
}

TEST_CASE("api staff list the requests they logged and withdraw their own before a decision") {
  Flow t;
  ApiServerFixture& f = t.f;
  auto own = f.Call("POST", "/api/v1/requests", t.sam, t.RequestBody());
  REQUIRE(own.status == 201);
  auto decided = f.Call("POST", "/api/v1/requests", t.sam, t.RequestBody());
  REQUIRE(decided.status == 201);
  const std::string others = t.SubmittedRequest();  // ann's
  auto list = f.Get("/api/v1/requests", t.sam);
  REQUIRE(list.status == 200);
  json requests = json::parse(list.body)["requests"];
  REQUIRE(requests.size() == 2);
  for (const auto& r : requests) CHECK(r["logged_by_who"] == "sam (staff)");

  CHECK(f.Call("POST", "/api/v1/requests/" + Id(own) + "/withdraw", t.sam).status == 204);
  const std::string path = "/api/v1/requests/" + Id(decided);
  for (const char* step : {"received_in_writing", "identity_callback"}) {
    REQUIRE(f.Call("POST", path + "/verifications", t.sam,
                   json{{"step", step}, {"note", "checked"}}.dump())
                .status == 204);
  }
  REQUIRE(f.Call("POST", path + "/submit", t.sam).status == 204);
  REQUIRE(f.Call("POST", path + "/decision", t.ben,
                 json{{"approve", true}, {"reason", "crime reference checked"}}.dump())
              .status == 204);
  auto late = f.Call("POST", path + "/withdraw", t.sam);
  CHECK(late.status == 409);
  CHECK(Contains(late.body, "ask a manager"));
  CHECK(f.Call("POST", path + "/withdraw", t.ben).status == 204);
  (void)others;
}

TEST_CASE("api the request rules come from the server, with a DSAR's due date") {
  Flow t;
  auto r = t.f.Get("/api/v1/request-rules?received=2026-01-31T12:00:00Z", t.sam);
  REQUIRE(r.status == 200);
  const json rules = json::parse(r.body);
  const json& police = rules["types"]["police"];
  REQUIRE(police["legal_bases"].size() == 6);
  CHECK(police["legal_bases"][0]["id"] == "crime_prevention");
  CHECK(police["legal_bases"][0]["text"] ==
        "DPA 2018 Sch. 2 para 2 (prevention or detection of crime)");
  CHECK(police["required_verifications"] ==
        json::array({"received_in_writing", "identity_callback"}));
  CHECK(rules["types"]["internal"]["required_verifications"].empty());
  CHECK(rules["types"].size() == 7);
  CHECK(rules["dsar"]["due_date"] == "2026-02-28");  // clamped to February's end
  CHECK(rules["dsar"]["max_extension_months"] == 2);
  // Per state what the pages offer, from requests/rules.h.
  const json& states = rules["states"];
  CHECK(states.size() == 9);
  CHECK(states["awaiting_decision"]["undecided"] == true);
  CHECK(states["awaiting_decision"]["next"] == json::array({"approved", "refused", "withdrawn"}));
  CHECK(states["approved"]["undecided"] == false);
  CHECK(states["approved"]["may_export"] == true);
  CHECK(states["approved"]["open"] == true);
  CHECK(states["disclosed"]["open"] == false);
  CHECK(states["disclosed"]["may_export"] == true);
  CHECK(states["disclosed"]["next"] == json::array({"closed"}));
  CHECK(states["closed"]["next"].empty());
  // Received at 00:30 BST on 1 July (23:30 UTC on 30 June): the UK date counts.
  r = t.f.Get("/api/v1/request-rules?received=2026-06-30T23:30:00Z", t.sam);
  CHECK(json::parse(r.body)["dsar"]["due_date"] == "2026-08-01");
  CHECK(t.f.Get("/api/v1/request-rules?received=yesterday", t.sam).status == 400);
  CHECK_FALSE(
      json::parse(t.f.Get("/api/v1/request-rules", t.sam).body)["dsar"].contains("due_date"));
}

TEST_CASE("api a DSAR's clock stops and restarts with who and why, and its deadline moves on") {
  Flow t;
  ApiServerFixture& f = t.f;
  auto logged = f.Call("POST", "/api/v1/requests", t.sam,
                       json{{"type", "dsar"},
                            {"requester_name", "A. Subject"},
                            {"legal_basis", "right_of_access"},
                            {"ranges",
                             {{{"camera", "door-1"},
                               {"from", At(kFootageT0 + kSecond)},
                               {"to", At(kFootageT0 + 6 * kSecond)}}}}}
                           .dump());
  REQUIRE(logged.status == 201);
  const std::string path = "/api/v1/requests/" + Id(logged);
  json r = json::parse(f.Get(path, t.ann).body);
  const std::string first_deadline = r["deadline"];
  CHECK(r["clock"]["stopped_since"].is_null());
  CHECK(r["clock"]["stopped_days"] == 0);
  CHECK(r["clock"]["can_stop"] == true);

  const json stop = {{"reason", "identity"}, {"asked", "photo ID, by letter"}};
  CHECK(f.Call("POST", path + "/clock-stop", t.sam, stop.dump()).status == 403);
  auto bad = f.Call("POST", path + "/clock-stop", t.ann,
                    json{{"reason", "holiday"}, {"asked", "x"}}.dump());
  CHECK(bad.status == 400);
  CHECK(Contains(bad.body, "identity"));
  CHECK(f.Call("POST", path + "/clock-stop", t.ann, json{{"reason", "identity"}}.dump()).status ==
        400);
  const size_t before = f.AccessLog().size();
  REQUIRE(f.Call("POST", path + "/clock-stop", t.ann, stop.dump()).status == 204);
  CHECK(f.AccessLog().size() == before + 1);
  CHECK(f.LastAccess().action == "request_clock_stop");
  CHECK(f.Call("POST", path + "/clock-stop", t.ann, stop.dump()).status == 409);
  r = json::parse(f.Get(path, t.ann).body);
  CHECK(r["clock"]["stopped_since"] == At(f.clock.Now()));
  CHECK(r["clock"]["stopped_for"] == "identity");
  CHECK(r["clock"]["can_stop"] == false);
  CHECK(r["clock"]["cannot_stop_reason"] ==
        "request " + Id(logged) + "'s clock is already stopped");
  CHECK(r["history"].back()["action"] == "clock_stopped_identity");
  CHECK(r["history"].back()["user_who"] == "ann (manager)");
  CHECK(r["history"].back()["note"] == "photo ID, by letter");

  // Answered three days later: the deadline is three days later too.
  f.clock.Advance(3 * 24 * 3600 * kSecond);
  t.ann = f.Login("ann");  // the sessions have expired meanwhile
  t.dee = f.Login("dee");
  CHECK(f.Call("POST", path + "/clock-restart", t.dee, "{}").status == 400);
  REQUIRE(f.Call("POST", path + "/clock-restart", t.dee, json{{"answer", "passport seen"}}.dump())
              .status == 204);
  CHECK(f.LastAccess().action == "request_clock_restart");
  CHECK(f.Call("POST", path + "/clock-restart", t.dee, json{{"answer", "again"}}.dump()).status ==
        409);
  r = json::parse(f.Get(path, t.ann).body);
  CHECK(r["clock"]["stopped_since"].is_null());
  CHECK(r["clock"]["stopped_days"] == 3);
  UtcMicros was, now;
  REQUIRE(ParseUtc(first_deadline, &was));
  REQUIRE(ParseUtc(r["deadline"].get<std::string>(), &now));
  CHECK(now.us - was.us == 3 * 24 * 3600 * kSecond);  // no clock change in between

  // A police request has no statutory clock.
  const std::string police = t.SubmittedRequest();
  auto refused = f.Call("POST", police + "/clock-stop", t.ann, stop.dump());
  CHECK(refused.status == 409);
  CHECK(Contains(refused.body, "not a DSAR"));
}

TEST_CASE("api a request for footage in the future is refused with a clear message") {
  Flow t;
  json body = json::parse(t.RequestBody());
  body["ranges"][0]["from"] = At(t.f.clock.Now() + 3600 * kSecond);
  body["ranges"][0]["to"] = At(t.f.clock.Now() + 7200 * kSecond);
  auto r = t.f.Call("POST", "/api/v1/requests", t.ann, body.dump());
  CHECK(r.status == 400);
  CHECK(Contains(r.body, "footage that has not been recorded yet cannot be requested"));
}

TEST_CASE("api serve's worker recovers interrupted exports and releases due holds") {
  Flow t;
  ApiServerFixture& f = t.f;
  // A request withdrawn and closed 32 days ago: its hold is due for release.
  auto logged = f.Call("POST", "/api/v1/requests", t.ann, t.RequestBody());
  REQUIRE(logged.status == 201);
  const std::string path = "/api/v1/requests/" + Id(logged);
  REQUIRE(f.Call("POST", path + "/withdraw", t.ann).status == 204);
  REQUIRE(f.Call("POST", path + "/close", t.ben).status == 204);
  f.clock.Advance(32 * kMicrosPerDay);
  t.ann = f.Login("ann");
  t.ben = f.Login("ben");

  // An approved request whose export job a dead process left running.
  const std::string approved = t.SubmittedRequest();
  REQUIRE(f.Call("POST", approved + "/decision", t.ben,
                 json{{"approve", true}, {"reason", "ok"}}.dump())
              .status == 204);
  auto queued = f.Call("POST", approved + "/exports", t.ben, "{}");
  REQUIRE(queued.status == 202);
  auto claimed = f.db().ClaimNextJob({"export"}, "dead-process");
  REQUIRE(claimed.ok());
  REQUIRE(*claimed);

  const auto started = std::chrono::steady_clock::now();
  t.StartWorker();
  const std::string export_path =
      "/api/v1/exports/" + std::to_string(json::parse(queued.body)["export_id"].get<int64_t>());
  json ex = t.WaitForExport(export_path);
  CHECK(ex["state"] == "ready");
  CHECK(ex["job"]["attempts"] == 2);
  CHECK(json::parse(f.Get("/api/v1/holds", t.ann).body)["holds"].size() == 1);  // the open one
  t.StopWorker();  // idle: returns at once
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(60));
}

// Releasing the hold that a request placed on receipt would let retention delete footage
// the open request names (and that a DSAR or the police are owed). Only the request's own
// closing releases it; holds placed by hand keep working as before.
TEST_CASE("api a request's hold cannot be released by hand while the request is open") {
  Flow t;
  ApiServerFixture& f = t.f;
  auto logged = f.Call("POST", "/api/v1/requests", t.ann, t.RequestBody());
  REQUIRE(logged.status == 201);
  const std::string path = "/api/v1/requests/" + Id(logged);
  auto holds = json::parse(f.Get("/api/v1/holds", t.ben).body)["holds"];
  REQUIRE(holds.size() == 1);
  const std::string release =
      "/api/v1/holds/" + std::to_string(holds[0]["id"].get<int64_t>()) + "/release";

  auto refused = f.Call("POST", release, t.ben);
  INFO(refused.body);
  CHECK(refused.status == 409);
  CHECK(Contains(refused.body, "request " + Id(logged)));
  CHECK(Contains(refused.body, "closed"));
  CHECK(f.Call("POST", release, t.dee).status == 409);  // the DPO too
  CHECK(json::parse(f.Get("/api/v1/holds", t.ben).body)["holds"].size() == 1);
  CHECK(*f.db().IsSegmentHeld("door-1", kFootageT0, kFootageT0 + 4 * kSecond));
  // Withdrawn is not closed yet: the hold stays until the request is closed.
  REQUIRE(f.Call("POST", path + "/withdraw", t.ann).status == 204);
  CHECK(f.Call("POST", release, t.ben).status == 409);
  CHECK(*f.db().IsSegmentHeld("door-1", kFootageT0, kFootageT0 + 4 * kSecond));

  // Once closed, the request no longer names the footage; the hold may go.
  REQUIRE(f.Call("POST", path + "/close", t.ben).status == 204);
  CHECK(f.Call("POST", release, t.ben).status == 204);
  CHECK(json::parse(f.Get("/api/v1/holds", t.ben).body)["holds"].empty());

  // A hold placed by hand, for no request, is released by hand.
  json hold = {
      {"reason", "insurer claim"},
      {"review", At(f.clock.Now() + kMicrosPerDay)},
      {"ranges",
       {{{"camera", "door-1"}, {"from", At(kFootageT0)}, {"to", At(kFootageT0 + kSecond)}}}}};
  auto made = f.Call("POST", "/api/v1/holds", t.ben, hold.dump());
  REQUIRE(made.status == 201);
  CHECK(f.Call("POST", "/api/v1/holds/" + Id(made) + "/release", t.ben).status == 204);
}

// An export must not leave the box once its request no longer allows it (withdrawn), once it
// has expired, or, for a DSAR, unredacted without a recorded justification. Every way out
// (download as tar or zip, the encrypted zip, the recorded handover) follows the same rule
// and sends nothing when refused.
TEST_CASE(
    "api an export cannot leave the box once withdrawn or expired or as a DSAR unredacted and "
    "unjustified") {
  Flow t;
  t.StartWorker();
  ApiServerFixture& f = t.f;
  const auto handover = [](const std::string& export_path) {
    return json{{"export_id", std::stoll(export_path.substr(export_path.rfind('/') + 1))},
                {"recipient_name", "DC Jo Example"},
                {"organisation", "Example Constabulary"},
                {"reference", "collar 4411"},
                {"method", "download"}}
        .dump();
  };
  // Refused with a 409 and a reason, nothing of the package sent, the refusal logged.
  const auto refused = [&](const std::string& export_path, const std::string& why) {
    const std::string tar = export_path + "/download?" + PurposeParams();
    for (const std::string& target : {tar, tar + "&format=zip"}) {
      auto r = f.Get(target, t.ben);
      INFO(target << " -> " << r.status << " " << r.body.substr(0, 300));
      CHECK(r.status == 409);
      CHECK(Contains(r.body, why));
      CHECK_FALSE(Contains(r.body, "manifest"));
      CHECK(f.LastAccess().action == "export_download");
      CHECK(f.LastAccess().result != AccessResult::kOk);
    }
    auto zip = f.Call("POST", export_path + "/encrypted-zip", t.ben);
    INFO(zip.body);
    CHECK(zip.status == 409);
    CHECK_FALSE(Contains(zip.body, "password"));
    auto handed = f.Call("POST", "/api/v1/disclosures", t.ben, handover(export_path));
    INFO(handed.body);
    CHECK(handed.status == 409);
  };

  SECTION("the request was withdrawn") {
    std::string request;
    const std::string export_path = t.ReadyExport(&request);
    // An encrypted zip made while the request stood is not downloadable after either.
    REQUIRE(f.Call("POST", export_path + "/encrypted-zip", t.ben).status == 201);
    REQUIRE(f.Call("POST", request + "/withdraw", t.ann).status == 204);
    refused(export_path, "withdrawn");
  }
  SECTION("the export has expired") {
    const std::string export_path = t.ReadyExport();
    REQUIRE(f.Call("POST", export_path + "/encrypted-zip", t.ben).status == 201);
    t.StopWorker();
    const auto ex = json::parse(f.Get(export_path, t.ben).body);
    UtcMicros expires{};
    REQUIRE(ParseUtc(ex["expires"].get<std::string>(), &expires));
    f.clock.Advance(expires - f.clock.Now() + kSecond);
    t.ann = f.Login("ann");
    t.ben = f.Login("ben");
    refused(export_path, "expired");
  }
  SECTION("a DSAR's package, unredacted, with no recorded justification") {
    const std::string export_path = t.ReadyDsarExport();
    refused(export_path, "redact");
    // With the justification on record it may go, by every way out.
    REQUIRE(f.Call("POST", export_path + "/justify-unredacted", t.ben,
                   json{{"why", "the subject is alone in every frame"}}.dump())
                .status == 204);
    auto got = f.Get(export_path + "/download?" + PurposeParams(), t.ben);
    CHECK(got.status == 200);
    CHECK(f.Call("POST", export_path + "/encrypted-zip", t.ben).status == 201);
    CHECK(f.Get(export_path + "/download?format=zip&" + PurposeParams(), t.ben).status == 200);
    CHECK(f.Call("POST", "/api/v1/disclosures", t.ben, handover(export_path)).status == 201);
  }
}

// An export whose range reaches into a segment still being recorded waits for it, and says
// so: GET shows what it waits for and how much of the range is recorded, instead of 0%.
TEST_CASE("api an export of footage still being recorded shows that it waits, then builds") {
  Flow t;
  ApiServerFixture& f = t.f;
  records::SegmentRow open;
  open.camera_id = "door-1";
  open.start = kFootageT0 + 12 * kSecond;
  open.path = "footage/door-1/open.mp4";
  open.video_codec = "h264";
  auto open_id = f.db().BeginSegment(open);
  REQUIRE(open_id.ok());
  json body = json::parse(t.RequestBody());
  body["ranges"][0]["to"] = At(kFootageT0 + 14 * kSecond);
  auto logged = f.Call("POST", "/api/v1/requests", t.ann, body.dump());
  REQUIRE(logged.status == 201);
  const std::string path = "/api/v1/requests/" + Id(logged);
  for (const char* step : {"received_in_writing", "identity_callback"}) {
    REQUIRE(f.Call("POST", path + "/verifications", t.ann,
                   json{{"step", step}, {"note", "checked"}}.dump())
                .status == 204);
  }
  REQUIRE(f.Call("POST", path + "/submit", t.ann).status == 204);
  REQUIRE(f.Call("POST", path + "/decision", t.ben,
                 json{{"approve", true}, {"reason", "ok"}}.dump())
              .status == 204);
  auto queued = f.Call("POST", path + "/exports", t.ben, "{}");
  REQUIRE(queued.status == 202);
  const std::string export_path =
      "/api/v1/exports/" + std::to_string(json::parse(queued.body)["export_id"].get<int64_t>());

  json waiting = json::parse(f.Get(export_path, t.ben).body)["waiting_for_recording"];
  INFO(waiting.dump());
  REQUIRE(waiting.is_object());
  CHECK(waiting["text"].get<std::string>().find("camera door-1 is still recording") !=
        std::string::npos);
  CHECK(waiting["recorded_percent"] == 84);  // complete footage reaches 12 s of 1..14 s

  // Crash recovery finds the open segment held no whole fragment and removes it: nothing is
  // being recorded any more, the wait ends and the export is built, the hole reported.
  REQUIRE(f.db().RemoveSegment(*open_id).ok());
  CHECK(json::parse(f.Get(export_path, t.ben).body)["waiting_for_recording"].is_null());
  t.StartWorker();
  json e = t.WaitForExport(export_path);
  INFO(e.dump());
  CHECK(e["state"] == "ready");
}

}  // namespace
}  // namespace custodian::api::testing
