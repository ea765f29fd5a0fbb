// Mutex and MutexLock: std::mutex and a scoped lock on it, annotated for clang's
// thread-safety analysis (libstdc++'s std::mutex is not), so that GUARDED_BY(mu_) members
// are checked at compile time. Same behaviour as std::mutex and std::unique_lock.
// RecursiveMutex and RecursiveMutexLock do the same for std::recursive_mutex.
//
// Waiting on a condition variable goes through the lock: lock.Wait(cv, pred) and the like.
// A predicate that reads guarded members says so: [this]() REQUIRES(mu_) { return done_; }.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>

#include "base/thread_annotations.h"

namespace custodian {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }

 private:
  friend class MutexLock;
  std::mutex mu_;
};

// Holds mu from construction to destruction, or between Unlock() and Lock() calls.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : lock_(mu.mu_) {}
  ~MutexLock() RELEASE() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Unlock() RELEASE() { lock_.unlock(); }
  void Lock() ACQUIRE() { lock_.lock(); }

  // The condition variable's waits; the mutex is held again when they return.
  void Wait(std::condition_variable& cv) { cv.wait(lock_); }
  template <class Predicate>
  void Wait(std::condition_variable& cv, Predicate pred) {
    cv.wait(lock_, std::move(pred));
  }
  template <class Rep, class Period, class Predicate>
  bool WaitFor(std::condition_variable& cv, const std::chrono::duration<Rep, Period>& d,
               Predicate pred) {
    return cv.wait_for(lock_, d, std::move(pred));
  }
  template <class Rep, class Period>
  std::cv_status WaitFor(std::condition_variable& cv, const std::chrono::duration<Rep, Period>& d) {
    return cv.wait_for(lock_, d);
  }
  template <class Clock, class Duration, class Predicate>
  bool WaitUntil(std::condition_variable& cv, const std::chrono::time_point<Clock, Duration>& t,
                 Predicate pred) {
    return cv.wait_until(lock_, t, std::move(pred));
  }

 private:
  std::unique_lock<std::mutex> lock_;
};

// A mutex that the thread holding it may lock again (records::Database: a transaction body
// calls the public methods, each of which locks). The analysis sees it as a plain mutex:
// locking it twice in one function is reported, so a nested lock must be in a called
// function, which is the one case the recursion is for.
class CAPABILITY("mutex") RecursiveMutex {
 public:
  RecursiveMutex() = default;
  RecursiveMutex(const RecursiveMutex&) = delete;
  RecursiveMutex& operator=(const RecursiveMutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }

 private:
  std::recursive_mutex mu_;
};

// Holds mu from construction to destruction.
class SCOPED_CAPABILITY RecursiveMutexLock {
 public:
  explicit RecursiveMutexLock(RecursiveMutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~RecursiveMutexLock() RELEASE() { mu_.Unlock(); }
  RecursiveMutexLock(const RecursiveMutexLock&) = delete;
  RecursiveMutexLock& operator=(const RecursiveMutexLock&) = delete;

 private:
  RecursiveMutex& mu_;
};

}  // namespace custodian
