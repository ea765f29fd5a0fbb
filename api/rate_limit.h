// Per-client-address limits for the API: sign-ins, and requests that come
// without a valid session, are each limited per address by a token bucket; beyond it the
// answer is 429 with Retry-After. And refusals without a session are kept on record
// without one access-log row each: RefusalTally says which refusal to write and how many
// were counted, not written, since the last row for that address.
//
// Both are in memory and per process: a restart forgets them (so does a lock-out's
// purpose, which is to slow guessing, not to punish). The tables are bounded: beyond
// max_addresses, addresses whose state has run out are forgotten first, and the rest share
// one bucket (an attacker spreading over more addresses than that slows only itself and
// the other overflow addresses). Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"
#include "base/time.h"

namespace custodian::api {

struct RateLimit {
  int burst = 10;                              // requests allowed at once
  int64_t refill_us = 6 * kMicrosPerSecond;    // one more allowed every this long
};

struct RateLimits {
  // Sign-in attempts (POST /api/v1/auth/login), successful or not: 10 at once, then one
  // every 6 s (10 a minute).
  RateLimit sign_in{10, 6 * kMicrosPerSecond};
  // Requests to routes that need a session, made without a valid one: 120 at once, then
  // two a second.
  RateLimit no_session{120, kMicrosPerSecond / 2};
  size_t max_addresses = 10000;
  // Refusals without a session: at most one access-log row per address per window.
  int64_t refusal_log_window_us = 60 * kMicrosPerSecond;
};

class AddressLimiter {
 public:
  AddressLimiter(RateLimit limit, size_t max_addresses);
  // Takes one request's allowance for the address. nullopt: allowed. Otherwise refused,
  // and the whole seconds (at least 1) until the next request would be allowed.
  std::optional<int64_t> Take(const std::string& address, MonoMicros now);

 private:
  struct Bucket {
    int64_t tokens_us;  // allowance, in microseconds of refill (burst * refill_us at most)
    int64_t at_us;      // when tokens_us was last brought up to date
  };
  Bucket& BucketFor(const std::string& address, int64_t now_us) REQUIRES(mu_);
  void Refill(Bucket& b, int64_t now_us) const;

  const RateLimit limit_;
  const size_t max_addresses_;
  Mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_ GUARDED_BY(mu_);
  Bucket overflow_ GUARDED_BY(mu_);
  bool overflow_set_ GUARDED_BY(mu_) = false;
};

class RefusalTally {
 public:
  RefusalTally(int64_t window_us, size_t max_addresses);

  struct Decision {
    bool write = false;   // write this refusal's row now
    int64_t earlier = 0;  // refusals counted, not written, in the address's previous window
    UtcMicros earlier_from, earlier_to;
  };
  // One refusal without a session from address at now.
  Decision Note(const std::string& address, UtcMicros now);

  struct Summary {
    std::string address;
    int64_t count = 0;
    UtcMicros from, to;
  };
  // Addresses whose window ended at least one window ago with refusals not yet written;
  // they are forgotten. With all = true, every address with refusals not yet written
  // (at shutdown).
  std::vector<Summary> TakeStale(UtcMicros now, bool all = false);

 private:
  struct Window {
    UtcMicros start;
    UtcMicros last;
    int64_t unwritten = 0;
  };
  const int64_t window_us_;
  const size_t max_addresses_;
  Mutex mu_;
  std::unordered_map<std::string, Window> windows_ GUARDED_BY(mu_);
  UtcMicros last_sweep_ GUARDED_BY(mu_) = UtcMicros{0};
};

}  // namespace custodian::api
