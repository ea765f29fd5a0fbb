// Clock: the injectable seam for reading time. Production code takes a Clock& and never
// calls time()/clock_gettime() directly, so tests can move time forwards and backwards.
// Implementations are thread-safe.
#pragma once

#include <atomic>
#include <string>

#include "base/time.h"

namespace custodian {

// Time as people read it, beside FormatUtc and its kin in time.h (all in clock.cpp).
// "2026-11-25 03:57:52 UTC" (second precision: alarms, e-mail bodies)
std::string FormatUtcReadable(UtcMicros t);
// "Wed, 25 Nov 2026 03:57:52 +0000" (RFC 5322 date-time, as a mail's Date header wants;
// English names whatever the locale)
std::string FormatUtcRfc5322(UtcMicros t);

class Clock {
 public:
  virtual ~Clock() = default;
  virtual UtcMicros Now() const = 0;          // wall clock, UTC
  virtual MonoMicros Monotonic() const = 0;   // never goes backwards
  // Whether the kernel reports the wall clock as synchronised (NTP/timesyncd).
  virtual bool Synchronized() const = 0;
  // Sleeps for d_us of this clock's time (tests' clocks return at once).
  virtual void SleepFor(int64_t d_us) const = 0;
};

class SystemClock final : public Clock {
 public:
  UtcMicros Now() const override;
  MonoMicros Monotonic() const override;
  bool Synchronized() const override;
  void SleepFor(int64_t d_us) const override;
  static SystemClock& Instance();
};

// A clock for tests: time moves only when the test says so.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(UtcMicros start) : wall_(start.us) {}
  UtcMicros Now() const override { return {wall_.load()}; }
  MonoMicros Monotonic() const override { return {mono_.load()}; }
  bool Synchronized() const override { return synced_.load(); }
  void SleepFor(int64_t d_us) const override { (void)d_us; }

  void Advance(int64_t d_us) { wall_ += d_us; mono_ += d_us < 0 ? 0 : d_us; }
  void SetWall(UtcMicros t) { wall_ = t.us; }  // may go backwards, as a real clock can
  void SetSynchronized(bool s) { synced_ = s; }

 private:
  std::atomic<int64_t> wall_;
  std::atomic<int64_t> mono_{0};
  std::atomic<bool> synced_{true};
};

}  // namespace custodian
