// HashWorker: computes SHA-256 digests on a thread of its own, so that hashing an export's
// sources and its output overlaps the reading and writing (the benchmark's hour of 1080p
// is 1.8 GB, about a second of SHA-256 per pass on the appliance).
//
// Work items run in the order they were submitted. Data handed to Update must stay valid
// until the item has run: pass the owner (`keep`) and the worker holds it until then.
// Finish(stream) returns the digest once every earlier item has run. Streams are numbered
// by the caller; each is an independent SHA-256.
//
// Thread-safe: any thread may submit; typically one producer.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/sha256.h"

namespace custodian::exports {

class HashWorker {
 public:
  HashWorker();
  ~HashWorker();  // drains the queue, then joins
  HashWorker(const HashWorker&) = delete;
  HashWorker& operator=(const HashWorker&) = delete;

  // Starts a new digest stream; returns its number.
  int Begin();
  void Update(int stream, std::shared_ptr<const void> keep, const uint8_t* data, size_t size);
  // Lowercase hex, after every Update submitted before this call.
  std::future<std::string> Finish(int stream);

 private:
  void Submit(std::function<void()> task);
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                    // GUARDED_BY(mu_)
  int next_stream_ = 0;                      // GUARDED_BY(mu_)
  // Touched only by the worker thread.
  std::map<int, Sha256> streams_;
  std::thread thread_;
};

}  // namespace custodian::exports
