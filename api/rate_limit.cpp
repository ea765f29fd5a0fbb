#include "api/rate_limit.h"

#include <algorithm>

namespace custodian::api {

namespace {

constexpr char kOverflowAddress[] = "(other addresses)";

}  // namespace

AddressLimiter::AddressLimiter(RateLimit limit, size_t max_addresses)
    : limit_{std::max(limit.burst, 1), std::max<int64_t>(limit.refill_us, 1)},
      max_addresses_(std::max<size_t>(max_addresses, 1)) {}

void AddressLimiter::Refill(Bucket& b, int64_t now_us) const {
  const int64_t full = int64_t{limit_.burst} * limit_.refill_us;
  if (now_us > b.at_us) b.tokens_us = std::min(full, b.tokens_us + (now_us - b.at_us));
  b.at_us = std::max(b.at_us, now_us);
}

AddressLimiter::Bucket& AddressLimiter::BucketFor(const std::string& address, int64_t now_us) {
  const int64_t full = int64_t{limit_.burst} * limit_.refill_us;
  if (auto it = buckets_.find(address); it != buckets_.end()) return it->second;
  if (buckets_.size() >= max_addresses_) {
    // Forget the addresses whose allowance is whole again: they are as if never seen.
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      Refill(it->second, now_us);
      it = it->second.tokens_us >= full ? buckets_.erase(it) : std::next(it);
    }
  }
  if (buckets_.size() >= max_addresses_) {
    if (!overflow_set_) overflow_ = Bucket{full, now_us};
    overflow_set_ = true;
    return overflow_;
  }
  return buckets_.emplace(address, Bucket{full, now_us}).first->second;
}

std::optional<int64_t> AddressLimiter::Take(const std::string& address, MonoMicros now) {
  MutexLock lock(mu_);
  Bucket& b = BucketFor(address, now.us);
  Refill(b, now.us);
  if (b.tokens_us >= limit_.refill_us) {
    b.tokens_us -= limit_.refill_us;
    return std::nullopt;
  }
  const int64_t wait_us = limit_.refill_us - b.tokens_us;
  return std::max<int64_t>(1, (wait_us + kMicrosPerSecond - 1) / kMicrosPerSecond);
}

RefusalTally::RefusalTally(int64_t window_us, size_t max_addresses)
    : window_us_(std::max<int64_t>(window_us, 1)),
      max_addresses_(std::max<size_t>(max_addresses, 1)) {}

RefusalTally::Decision RefusalTally::Note(const std::string& address, UtcMicros now) {
  MutexLock lock(mu_);
  Decision d;
  auto it = windows_.find(address);
  if (it == windows_.end()) {
    const bool full = windows_.size() >= max_addresses_;
    const std::string& key = full ? std::string(kOverflowAddress) : address;
    it = windows_.find(key);
    if (it == windows_.end()) {
      windows_.emplace(key, Window{now, now, 0});
      d.write = true;
      return d;
    }
  }
  Window& w = it->second;
  if (now.us - w.start.us < window_us_ && now.us >= w.start.us) {
    ++w.unwritten;
    w.last = now;
    return d;
  }
  d.write = true;
  d.earlier = w.unwritten;
  d.earlier_from = w.start;
  d.earlier_to = w.last;
  w = Window{now, now, 0};
  return d;
}

std::vector<RefusalTally::Summary> RefusalTally::TakeStale(UtcMicros now, bool all) {
  MutexLock lock(mu_);
  std::vector<Summary> out;
  // A sweep walks every address: at most a few per window unless asked for all.
  if (!all && now.us - last_sweep_.us < window_us_ / 4 && now.us >= last_sweep_.us) return out;
  last_sweep_ = now;
  for (auto it = windows_.begin(); it != windows_.end();) {
    const Window& w = it->second;
    const int64_t age = now.us - w.start.us;
    const bool ended = age >= window_us_ || age < 0;
    if (w.unwritten > 0 && (all || age >= 2 * window_us_ || age < 0)) {
      out.push_back({it->first, w.unwritten, w.start, w.last});
      it = windows_.erase(it);
    } else if (w.unwritten == 0 && ended) {
      it = windows_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

}  // namespace custodian::api
