// A bounded queue between two pipeline threads. Close() wakes both sides: Push then refuses
// and Pop drains what is left, then returns nothing. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <optional>

#include "base/mutex.h"

namespace custodian::redaction {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}

  bool Push(T item) {
    MutexLock lock(mu_);
    lock.Wait(not_full_, [&]() REQUIRES(mu_) { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  std::optional<T> Pop() {
    MutexLock lock(mu_);
    lock.Wait(not_empty_, [&]() REQUIRES(mu_) { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }

  void Close() {
    MutexLock lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  Mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> items_ GUARDED_BY(mu_);
  size_t capacity_;
  bool closed_ GUARDED_BY(mu_) = false;
};

}  // namespace custodian::redaction
