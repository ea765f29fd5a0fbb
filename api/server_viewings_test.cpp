// Viewings: the access log records when a person starts and stops looking at a camera's
// footage, not every HTTP request a player makes. These tests drive the real server over
// HTTPS on real SQLite, with the fixture's manual clock standing in for the passing of time.
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "api/testing/api_fixture.h"

namespace custodian::api::testing {
namespace {

using records::AccessEntry;
using records::AccessResult;
using records::Role;
using json = nlohmann::json;

// One listed entry of a live playlist: its URI and byte range.
struct Listed {
  std::string uri;
  std::string range;  // "bytes=A-B"
};

std::string ByteRangeHeader(const std::string& length_at_offset) {
  const uint64_t length = std::stoull(length_at_offset.substr(0, length_at_offset.find('@')));
  const uint64_t offset = std::stoull(length_at_offset.substr(length_at_offset.find('@') + 1));
  return "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1);
}

// The init sections and fragments a player would fetch from a live playlist.
std::vector<Listed> ListedRanges(const std::string& playlist) {
  std::vector<Listed> out;
  std::istringstream in(playlist);
  std::string line, pending;
  while (std::getline(in, line)) {
    if (line.rfind("#EXT-X-MAP:", 0) == 0) {
      const size_t u = line.find("URI=\"") + 5;
      const size_t b = line.find("BYTERANGE=\"") + 11;
      out.push_back({line.substr(u, line.find('"', u) - u),
                     ByteRangeHeader(line.substr(b, line.find('"', b) - b))});
    } else if (line.rfind("#EXT-X-BYTERANGE:", 0) == 0) {
      pending = ByteRangeHeader(line.substr(17));
    } else if (!line.empty() && line[0] != '#') {
      out.push_back({line, pending});
    }
  }
  return out;
}

// Entries about footage (not the sign-in, not the DPO's own queries).
std::vector<AccessEntry> FootageEntries(ApiServerFixture& f) {
  std::vector<AccessEntry> out;
  for (AccessEntry& e : f.AccessLog()) {
    if (e.camera_id) out.push_back(std::move(e));
  }
  return out;
}

// A minute of live view as hls.js does it: the playlist every second, and each init
// section and fragment it lists fetched once. The recorder is stood in for by a new
// 4-second segment every 4 s of the manual clock, each ending at the clock's now.
struct LiveMinute {
  explicit LiveMinute(ApiServerFixture& fixture) : f(fixture) {
    f.AddUser("sam", Role::kStaff, {"door-1"});
    sam = f.Login("sam");
  }

  // Returns the requests made.
  int Watch(int seconds) {
    int requests = 0;
    for (int s = 0; s < seconds; ++s) {
      if (s % 4 == 0) f.AddSegment("door-1", f.clock.Now() - 4 * kSecond + 100'000);
      f.clock.Advance(kSecond);
      ClientResponse pl = f.Get("/api/v1/cameras/door-1/live.m3u8?" + PurposeParams(), sam);
      ++requests;
      REQUIRE(pl.status == 200);
      entry_headers.insert(pl.Header("x-access-entry"));
      for (const Listed& l : ListedRanges(pl.body)) {
        if (!fetched.insert(l.uri + " " + l.range).second) continue;
        ClientResponse r = f.Get(l.uri, sam, {{"Range", l.range}});
        ++requests;
        INFO(l.uri << " " << l.range << " -> " << r.status << " " << r.body.substr(0, 200));
        REQUIRE(r.status == 206);
        bytes += r.body.size();
        entry_headers.insert(r.Header("x-access-entry"));
      }
    }
    return requests;
  }

  ApiServerFixture& f;
  SignedIn sam;
  std::set<std::string> fetched;
  std::set<std::string> entry_headers;
  uint64_t bytes = 0;
};

}  // namespace

TEST_CASE("api a minute of live view writes a start entry, and sign-out its end entry") {
  ApiServerFixture f;
  LiveMinute live(f);
  const int requests = live.Watch(60);
  INFO(requests << " requests");
  CHECK(requests > 100);
  const std::vector<AccessEntry> during = FootageEntries(f);
  INFO(during.size() << " footage entries after a minute of live view");
  REQUIRE(during.size() == 1);
  const AccessEntry& start = during[0];
  CHECK(start.action == "live_view");
  CHECK(start.user_name == "sam");
  CHECK(start.camera_id == "door-1");
  CHECK(start.purpose_category == "incident_review");
  CHECK(start.purpose_text == kPurposeText);
  CHECK(start.client == "127.0.0.1");
  CHECK(start.result == AccessResult::kOk);
  CHECK(start.from.has_value());
  CHECK_FALSE(start.to.has_value());  // live: open-ended until the viewing ends
  // Every response of the viewing names its start entry.
  CHECK(live.entry_headers == std::set<std::string>{std::to_string(start.id)});

  REQUIRE(f.Call("POST", "/api/v1/auth/logout", live.sam).status == 204);
  const std::vector<AccessEntry> after = FootageEntries(f);
  REQUIRE(after.size() == 2);
  const AccessEntry& end = after[1];
  CHECK(end.action == "live_view_end");
  CHECK(end.user_name == "sam");
  CHECK(end.camera_id == "door-1");
  CHECK(end.purpose_category == "incident_review");
  CHECK(end.purpose_text == kPurposeText);
  CHECK(end.client == "127.0.0.1");
  REQUIRE(end.from.has_value());
  REQUIRE(end.to.has_value());
  CHECK(*end.from >= *start.from);
  CHECK(*end.to > *end.from);
  CHECK(*end.to <= f.clock.Now() + kSecond);
  CHECK(end.detail.find("entry " + std::to_string(start.id)) != std::string::npos);
  CHECK(end.detail.find("signed out") != std::string::npos);
  CHECK(end.detail.find(std::to_string(live.bytes) + " bytes") != std::string::npos);
  // The first playlist came at the first second and the last at the sixtieth.
  CHECK(end.detail.find(std::to_string(requests) + " requests") != std::string::npos);
  CHECK(end.detail.find("59 s from the first request to the last") != std::string::npos);
  auto verified = f.db().VerifyAccessLog();
  REQUIRE(verified.ok());
  CHECK(verified->ok);
}

TEST_CASE("api a viewing ends when idle, and the next request starts another") {
  ApiServerFixture f;
  LiveMinute live(f);
  live.Watch(5);
  REQUIRE(FootageEntries(f).size() == 1);
  // Not yet idle long enough: nothing ends.
  f.clock.Advance(60 * kSecond);
  CHECK(f.api().EndIdleViewings() == 0);
  CHECK(FootageEntries(f).size() == 1);
  f.clock.Advance(60 * kSecond);
  CHECK(f.api().EndIdleViewings() == 1);
  std::vector<AccessEntry> log = FootageEntries(f);
  REQUIRE(log.size() == 2);
  CHECK(log[1].action == "live_view_end");
  CHECK(log[1].detail.find("ended: idle for 120 s") != std::string::npos);
  CHECK(log[1].detail.find(std::to_string(live.bytes) + " bytes") != std::string::npos);
  // Watching again is a new viewing with a start entry of its own.
  live.Watch(2);
  log = FootageEntries(f);
  REQUIRE(log.size() == 3);
  CHECK(log[2].action == "live_view");
  CHECK(live.entry_headers.count(std::to_string(log[2].id)) == 1);
}

TEST_CASE("api playback is one viewing for its playlist, segments and snapshots") {
  ApiServerFixture f;
  f.AddUser("sam", Role::kStaff, {"door-1"});
  const int64_t a = f.AddSegment("door-1", kFootageT0);
  const int64_t b = f.AddSegment("door-1", kFootageT0 + 4 * kSecond);
  const int64_t later = f.AddSegment("door-1", kFootageT0 + 60 * kSecond);
  SignedIn sam = f.Login("sam");
  ClientResponse pl = f.Get("/api/v1/cameras/door-1/playlist.m3u8?from=" + At(kFootageT0) +
                                "&to=" + At(kFootageT0 + 8 * kSecond) + "&" + PurposeParams(),
                            sam);
  REQUIRE(pl.status == 200);
  const std::string viewing = pl.Header("x-access-entry");
  uint64_t bytes = 0;
  // A player seeking about: many byte ranges of both segments, and a snapshot.
  for (int i = 0; i < 20; ++i) {
    const int64_t id = i % 2 ? a : b;
    ClientResponse r =
        f.Get("/api/v1/segments/" + std::to_string(id) + "/file?" + PurposeParams(), sam,
              {{"Range", "bytes=" + std::to_string(i * 100) + "-" + std::to_string(i * 100 + 99)}});
    REQUIRE(r.status == 206);
    CHECK(r.Header("x-access-entry") == viewing);
    bytes += r.body.size();
  }
  ClientResponse snap = f.Get("/api/v1/cameras/door-1/thumbnail.jpg?at=" +
                                  At(kFootageT0 + 5 * kSecond) + "&" + PurposeParams(),
                              sam);
  REQUIRE(snap.status == 200);
  CHECK(snap.Header("x-access-entry") == viewing);
  bytes += snap.body.size();
  std::vector<AccessEntry> log = FootageEntries(f);
  REQUIRE(log.size() == 1);
  CHECK(std::to_string(log[0].id) == viewing);
  CHECK(log[0].action == "play");
  CHECK(log[0].from == kFootageT0);  // the segments listed, whole
  CHECK(log[0].to == kFootageT0 + 8 * kSecond);

  // A segment the playlist did not reach is footage of its own: a second viewing.
  ClientResponse other =
      f.Get("/api/v1/segments/" + std::to_string(later) + "/file?" + PurposeParams(), sam);
  REQUIRE(other.status == 200);
  CHECK(other.Header("x-access-entry") != viewing);
  log = FootageEntries(f);
  REQUIRE(log.size() == 2);
  CHECK(log[1].action == "download");
  CHECK(log[1].from == kFootageT0 + 60 * kSecond);

  // Another purpose is another viewing, even of the same footage.
  ClientResponse again = f.Get("/api/v1/segments/" + std::to_string(a) +
                                   "/file?purpose=safeguarding&purpose_text=welfare%20check",
                               sam);
  REQUIRE(again.status == 200);
  CHECK(FootageEntries(f).size() == 3);

  f.clock.Advance(121 * kSecond);
  CHECK(f.api().EndIdleViewings() == 3);
  log = FootageEntries(f);
  REQUIRE(log.size() == 6);
  const auto end = std::find_if(log.begin(), log.end(), [&](const AccessEntry& e) {
    return e.action == "play_end";
  });
  REQUIRE(end != log.end());
  CHECK(end->from == kFootageT0);  // what was fetched: both segments
  CHECK(end->to == kFootageT0 + 8 * kSecond);
  CHECK(end->detail.find("22 requests, " + std::to_string(bytes) + " bytes") !=
        std::string::npos);
}

TEST_CASE("api a clean shutdown writes the end entry of every open viewing") {
  ApiServerFixture f;
  LiveMinute live(f);
  live.Watch(3);
  REQUIRE(FootageEntries(f).size() == 1);
  f.StopServer();
  std::vector<AccessEntry> log = FootageEntries(f);
  REQUIRE(log.size() == 2);
  CHECK(log[1].action == "live_view_end");
  CHECK(log[1].detail.find("ended: the server stopped") != std::string::npos);
  auto open = f.db().ListOpenViewings();
  REQUIRE(open.ok());
  CHECK(open->empty());
}

TEST_CASE("api a viewing left open by a crash is ended at the next start, as unknown") {
  ApiServerFixture f;
  LiveMinute live(f);
  live.Watch(3);
  const std::vector<AccessEntry> before = FootageEntries(f);
  REQUIRE(before.size() == 1);
  auto open = f.db().ListOpenViewings();
  REQUIRE(open.ok());
  REQUIRE(open->size() == 1);
  CHECK(open->front().id == before[0].id);
  // The process died here: no end entry. The next `custodian serve` starts on the records.
  {
    ApiOptions options;
    options.data_dir = f.data_dir();
    options.viewing_sweep_interval_us = 0;
    Api restarted(f.db(), f.clock, options);
    std::vector<AccessEntry> log = FootageEntries(f);
    REQUIRE(log.size() == 2);
    CHECK(log[1].action == "live_view_end");
    CHECK(log[1].user_name == "sam");
    CHECK(log[1].camera_id == "door-1");
    CHECK(log[1].purpose_text == kPurposeText);
    CHECK_FALSE(log[1].from.has_value());  // what it fetched is not known
    CHECK(log[1].detail.find("entry " + std::to_string(before[0].id)) != std::string::npos);
    CHECK(log[1].detail.find("ended: unknown (server stopped)") != std::string::npos);
    open = f.db().ListOpenViewings();
    REQUIRE(open.ok());
    CHECK(open->empty());
  }
  // The first server cannot end it a second time: one end entry per viewing.
  f.StopServer();
  CHECK(FootageEntries(f).size() == 2);
  auto verified = f.db().VerifyAccessLog();
  REQUIRE(verified.ok());
  CHECK(verified->ok);
}

TEST_CASE("api no footage is sent before its viewing's start entry is written") {
  ApiServerFixture f;
  f.AddUser("sam", Role::kStaff, {"door-1"});
  const int64_t seg = f.AddSegment("door-1", kFootageT0);
  SignedIn sam = f.Login("sam");
  const std::string url = "/api/v1/segments/" + std::to_string(seg) + "/file?" + PurposeParams();
  // The access log refuses every new entry, as a full or failing disk would.
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open((f.data_dir() + "/records.db").c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other,
                       "CREATE TRIGGER test_refuse_access BEFORE INSERT ON access_log "
                       "BEGIN SELECT RAISE(ABORT, 'the disk refused the write'); END",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  ClientResponse refused = f.Get(url, sam);
  CHECK(refused.status >= 500);
  CHECK(refused.body.find("ftyp") == std::string::npos);
  CHECK(refused.Header("x-access-entry").empty());
  // Nothing half-started is left for a second request to join.
  ClientResponse again = f.Get(url, sam, {{"Range", "bytes=0-99"}});
  CHECK(again.status >= 500);
  CHECK(again.body.find("ftyp") == std::string::npos);
  REQUIRE(sqlite3_exec(other, "DROP TRIGGER test_refuse_access", nullptr, nullptr, nullptr) ==
          SQLITE_OK);
  sqlite3_close(other);
  CHECK(FootageEntries(f).empty());

  ClientResponse served = f.Get(url, sam);
  REQUIRE(served.status == 200);
  const std::vector<AccessEntry> log = FootageEntries(f);
  REQUIRE(log.size() == 1);
  CHECK(served.Header("x-access-entry") == std::to_string(log[0].id));
  CHECK(log[0].action == "download");
  CHECK(log[0].result == AccessResult::kOk);
}

TEST_CASE("api requests racing to start one viewing write one start entry") {
  ApiServerFixture f;
  f.AddUser("sam", Role::kStaff, {"door-1"});
  const int64_t seg = f.AddSegment("door-1", kFootageT0);
  SignedIn sam = f.Login("sam");
  const std::string url = "/api/v1/segments/" + std::to_string(seg) + "/file?" + PurposeParams();
  constexpr int kClients = 12;
  std::vector<std::string> named(kClients);
  std::vector<int> status(kClients);
  {
    std::vector<std::thread> clients;
    for (int i = 0; i < kClients; ++i) {
      clients.emplace_back([&, i] {
        HttpsClient client(f.server().port(), f.cert_path());
        ClientResponse r = client.Send(
            "GET", url, {{"Cookie", sam.cookie}, {"Range", "bytes=0-" + std::to_string(i)}});
        status[i] = r.status;
        named[i] = r.Header("x-access-entry");
      });
    }
    for (std::thread& t : clients) t.join();
  }
  const std::vector<AccessEntry> log = FootageEntries(f);
  REQUIRE(log.size() == 1);
  for (int i = 0; i < kClients; ++i) {
    CHECK(status[i] == 206);
    CHECK(named[i] == std::to_string(log[0].id));
  }
  REQUIRE(f.Call("POST", "/api/v1/auth/logout", sam).status == 204);
  const std::vector<AccessEntry> ended = FootageEntries(f);
  REQUIRE(ended.size() == 2);
  CHECK(ended[1].detail.find(std::to_string(kClients) + " requests") != std::string::npos);
}

TEST_CASE("api the DPO asks who looked at a camera between two times and why, in one query") {
  ApiServerFixture f;
  f.AddUser("sam", Role::kStaff, {"door-1", "yard"});
  f.AddUser("kim", Role::kManager, {"door-1"});
  f.AddUser("dee", Role::kDpo, {});
  const int64_t seg = f.AddSegment("door-1", kFootageT0);
  const int64_t yard = f.AddSegment("yard", kFootageT0);
  SignedIn sam = f.Login("sam");
  const UtcMicros morning = f.clock.Now();
  REQUIRE(f.Get("/api/v1/segments/" + std::to_string(seg) + "/file?" + PurposeParams(), sam)
              .status == 200);
  REQUIRE(f.Get("/api/v1/segments/" + std::to_string(yard) + "/file?" + PurposeParams(), sam)
              .status == 200);
  f.clock.Advance(3600 * kSecond);
  SignedIn kim = f.Login("kim");
  REQUIRE(f.Get("/api/v1/segments/" + std::to_string(seg) +
                    "/file?purpose=safeguarding&purpose_text=resident%20welfare",
                kim)
              .status == 200);
  f.clock.Advance(3600 * kSecond);
  f.api().EndIdleViewings();
  SignedIn dee = f.Login("dee");

  // Who looked at door-1 between these times, and why: the start entries.
  auto q = f.Get("/api/v1/access-log?camera=door-1&action=download,play,live_view&from=" +
                     At(morning) + "&to=" + At(f.clock.Now()),
                 dee);
  REQUIRE(q.status == 200);
  json body = json::parse(q.body);
  json entries = body["entries"];
  REQUIRE(entries.size() == 2);
  CHECK(entries[0]["user_name"] == "kim");  // newest first
  CHECK(entries[0]["purpose_category"] == "safeguarding");
  CHECK(entries[0]["purpose_text"] == "resident welfare");
  CHECK(entries[1]["user_name"] == "sam");
  CHECK(entries[1]["purpose_text"] == kPurposeText);
  // Only the first hour: sam alone.
  q = f.Get("/api/v1/access-log?camera=door-1&action=download&from=" + At(morning) + "&to=" +
                At(morning + 1800 * kSecond),
            dee);
  REQUIRE(json::parse(q.body)["entries"].size() == 1);
  // By purpose, and by person: the end entries count too.
  q = f.Get("/api/v1/access-log?purpose=safeguarding", dee);
  entries = json::parse(q.body)["entries"];
  REQUIRE(entries.size() == 2);
  CHECK(entries[0]["action"] == "download_end");
  CHECK(entries[1]["action"] == "download");
  q = f.Get("/api/v1/access-log?user=sam&action=download", dee);
  CHECK(json::parse(q.body)["entries"].size() == 2);  // door-1 and yard
  // By the footage's own time: both viewings reached footage at T0 + 2 s.
  q = f.Get("/api/v1/access-log?camera=door-1&action=download&footage_from=" +
                At(kFootageT0 + 2 * kSecond) + "&footage_to=" + At(kFootageT0 + 3 * kSecond),
            dee);
  CHECK(json::parse(q.body)["entries"].size() == 2);
  q = f.Get("/api/v1/access-log?camera=door-1&footage_from=" + At(kFootageT0 + 5 * kSecond) +
                "&footage_to=" + At(kFootageT0 + 9 * kSecond),
            dee);
  CHECK(json::parse(q.body)["entries"].empty());
  // Bad filters are refused.
  CHECK(f.Get("/api/v1/access-log?purpose=nosiness", dee).status == 400);
  CHECK(f.Get("/api/v1/access-log?action=a,,b", dee).status == 400);

  // Every action an entry can have, for the page's filter.
  std::set<std::string> actions;
  for (const auto& a : body["actions"]) actions.insert(a.get<std::string>());
  for (const char* a : {"live_view", "live_view_end", "play", "play_end", "download",
                        "redaction_contact_sheet", "redaction_sign_off", "request_log",
                        "request_decide", "export_download", "export_download_end", "export",
                        "login_failed", "no_session_refusals", "role_change"}) {
    CHECK(actions.count(a) == 1);
  }

  // The statistics count viewings by purpose.
  auto stats = f.Get("/api/v1/statistics?month=2026-01", dee);
  REQUIRE(stats.status == 200);
  json viewings = json::parse(stats.body)["viewings"];
  CHECK(viewings["total"] == 3);
  CHECK(viewings["by_purpose"]["incident_review"] == 2);
  CHECK(viewings["by_purpose"]["safeguarding"] == 1);
}

// The figures in docs/design/api.md ("Viewings"): an hour of each, as a player makes the
// requests. Hidden (run with `api_server_test "[.measure]"`): it makes some 9,000 requests.
TEST_CASE("api an hour of live view and an hour of playback, counted", "[.measure]") {
  ApiServerFixture f;
  LiveMinute live(f);
  const int live_requests = live.Watch(3600);
  REQUIRE(f.Call("POST", "/api/v1/auth/logout", live.sam).status == 204);
  const size_t live_entries = FootageEntries(f).size();

  // An hour of recorded footage as 4-second segments; hls.js fetches each one's init
  // section and its fragments' byte range, and a snapshot now and then.
  SignedIn sam = f.Login("sam");
  const UtcMicros hour = kFootageT0 - 7200 * kSecond;
  for (int i = 0; i < 900; ++i) f.AddSegment("door-1", hour + i * 4 * kSecond);
  ClientResponse pl = f.Get("/api/v1/cameras/door-1/playlist.m3u8?from=" + At(hour) + "&to=" +
                                At(hour + 3600 * kSecond) + "&" + PurposeParams(),
                            sam);
  REQUIRE(pl.status == 200);
  int play_requests = 1;
  for (const Listed& l : ListedRanges(pl.body)) {
    REQUIRE(f.Get(l.uri, sam, {{"Range", l.range}}).status == 206);
    ++play_requests;
    if (play_requests % 300 == 0) {
      f.clock.Advance(kSecond);
      REQUIRE(f.Get("/api/v1/cameras/door-1/thumbnail.jpg?at=" +
                        At(hour + play_requests * kSecond) + "&" + PurposeParams(),
                    sam)
                  .status == 200);
      ++play_requests;
    }
  }
  REQUIRE(f.Call("POST", "/api/v1/auth/logout", sam).status == 204);
  const size_t play_entries = FootageEntries(f).size() - live_entries;
  std::printf("an hour of live view: %d requests, %zu entries\n", live_requests, live_entries);
  std::printf("an hour of playback: %d requests, %zu entries\n", play_requests, play_entries);
  CHECK(live_entries <= 4);
  CHECK(play_entries <= 4);
}

}  // namespace custodian::api::testing
