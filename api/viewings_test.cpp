// ViewingLog on a real records database: which requests join an open viewing.
#include "api/viewings.h"

#include <catch2/catch.hpp>
#include <string>

#include "api/access_writer.h"
#include "base/clock.h"
#include "base/testing/temp_dir.h"
#include "records/database.h"

namespace custodian::api {
namespace {

constexpr int64_t kSecond = 1'000'000;

ViewingRequest Live(int64_t reach_from_us) {
  ViewingRequest r;
  r.key = {"session",      ViewingKind::kLive,     "",         "lobby",
           "system_check", "checking the picture", "127.0.0.1"};
  r.user_id = 1;
  r.user_name = "viewer";
  r.action = "live_view";
  r.reach_from = UtcMicros{reach_from_us};
  r.start_detail = "first playlist";
  return r;
}

TEST_CASE("a live viewing is joined by its camera's other stream whose window starts earlier") {
  custodian::testing::TempDir dir;
  ManualClock clock(UtcMicros{1'800'000'000 * kSecond});
  auto db = records::Database::Open(dir.File("records.db"), clock);
  REQUIRE(db.ok());
  AccessLogWriter writer(**db);
  ViewingLog log(writer, clock, 15 * kSecond);
  const int64_t now = clock.Now().us;
  // The sub stream's live window starts 8 s back; a second later the viewer switches to the
  // main stream, whose segments started 3 s earlier than the sub stream's.
  auto sub = log.Enter(Live(now - 8 * kSecond));
  REQUIRE(sub.ok());
  clock.Advance(kSecond);
  auto main = log.Enter(Live(now - 11 * kSecond));
  REQUIRE(main.ok());
  CHECK(*main == *sub);
  CHECK(log.open_count() == 1);
  // Another purpose is another viewing.
  ViewingRequest other = Live(now - 8 * kSecond);
  other.key.purpose_text = "another reason";
  auto second = log.Enter(other);
  REQUIRE(second.ok());
  CHECK(*second != *sub);
  CHECK(log.open_count() == 2);
}

}  // namespace
}  // namespace custodian::api
