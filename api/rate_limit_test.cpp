// Per-address limits and the tally of refusals without a session.
#include "api/rate_limit.h"

#include <catch2/catch.hpp>

#include "api/routes.h"

namespace custodian::api {
namespace {

constexpr int64_t kS = kMicrosPerSecond;

TEST_CASE("an address gets its burst, then one request per refill, and says how long to wait") {
  AddressLimiter limiter({3, 10 * kS}, 100);
  MonoMicros t{1000 * kS};
  for (int i = 0; i < 3; ++i) CHECK_FALSE(limiter.Take("10.0.0.1", t).has_value());
  CHECK(limiter.Take("10.0.0.1", t) == 10);
  CHECK(limiter.Take("10.0.0.2", t) == std::nullopt);  // another address: its own bucket
  CHECK(limiter.Take("10.0.0.1", MonoMicros{t.us + 4 * kS}) == 6);
  CHECK(limiter.Take("10.0.0.1", MonoMicros{t.us + 10 * kS}) == std::nullopt);
  CHECK(limiter.Take("10.0.0.1", MonoMicros{t.us + 10 * kS}).has_value());
}

TEST_CASE("beyond max_addresses, rested addresses are forgotten and the rest share one bucket") {
  AddressLimiter limiter({1, 10 * kS}, 2);
  MonoMicros t{1000 * kS};
  CHECK_FALSE(limiter.Take("a", t).has_value());
  CHECK_FALSE(limiter.Take("b", t).has_value());
  CHECK_FALSE(limiter.Take("c", t).has_value());  // the shared overflow bucket
  CHECK(limiter.Take("d", t).has_value());        // shares c's, now empty
  // Once a and b have rested they are forgotten, and new addresses get their own again.
  MonoMicros later{t.us + 10 * kS};
  CHECK_FALSE(limiter.Take("e", later).has_value());
}

TEST_CASE("refusals without a session: the first written, the rest counted into one later row") {
  RefusalTally tally(60 * kS, 100);
  const UtcMicros t0{1767225600LL * kS};
  CHECK(tally.Note("10.0.0.1", t0).write);
  for (int i = 1; i <= 9; ++i) CHECK_FALSE(tally.Note("10.0.0.1", UtcMicros{t0.us + i * kS}).write);
  CHECK(tally.Note("10.0.0.2", t0).write);
  CHECK(tally.TakeStale(UtcMicros{t0.us + 30 * kS}).empty());  // the window is still open
  // A window that ended a window ago with refusals not written is summarised once.
  auto stale = tally.TakeStale(UtcMicros{t0.us + 121 * kS});
  REQUIRE(stale.size() == 1);
  CHECK(stale[0].address == "10.0.0.1");
  CHECK(stale[0].count == 9);
  CHECK(stale[0].from == t0);
  CHECK(stale[0].to == UtcMicros{t0.us + 9 * kS});
  CHECK(tally.TakeStale(UtcMicros{t0.us + 300 * kS}).empty());
  // At shutdown everything not yet written comes out.
  CHECK(tally.Note("10.0.0.3", UtcMicros{t0.us + 400 * kS}).write);
  CHECK_FALSE(tally.Note("10.0.0.3", UtcMicros{t0.us + 401 * kS}).write);
  auto rest = tally.TakeStale(UtcMicros{t0.us + 402 * kS}, /*all=*/true);
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].count == 1);
}

TEST_CASE("sign-in, password change and account creation are the routes that hash passwords") {
  CHECK(UsesPasswordHashing(Method::kPost, "/api/v1/auth/login"));
  CHECK(UsesPasswordHashing(Method::kPost, "/api/v1/auth/password"));
  CHECK(UsesPasswordHashing(Method::kPost, "/api/v1/users"));
  CHECK_FALSE(UsesPasswordHashing(Method::kGet, "/api/v1/auth/session"));
  CHECK_FALSE(UsesPasswordHashing(Method::kGet, "/api/v1/segments/1/file"));
  CHECK_FALSE(UsesPasswordHashing(Method::kGet, "/nowhere"));
}

}  // namespace
}  // namespace custodian::api
