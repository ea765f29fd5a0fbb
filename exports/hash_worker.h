// HashWorker: computes an export's SHA-256 digests on a thread of its own, so that hashing
// overlaps the writing (the benchmark's hour of 1080p is 1.8 GB of output and 1.8 GB of
// source segments to hash). The builder runs two: one for the output files, one for the
// source segments it checks against their recorded hashes.
//
// A work item is a list of runs (pieces of one stream each, in order) and, optionally, a
// stream hashed `alongside` them in the same pass: the source worker hashes two segments at a
// time that way. On a CPU with the SHA extensions (SHA-NI) the two streams are computed
// interleaved, block by block: one SHA-256 stream is bound by the latency of the round
// instruction, so a second independent one runs in its gaps for much less than twice the
// cost. Elsewhere OpenSSL hashes each stream in turn.
//
// Work items run in the order they were submitted. Data handed to Update must stay valid
// until the item has run: pass the owner (`keep`) and the worker holds it until then.
// Finish(stream) returns the digest once every earlier item has run. Streams are numbered
// by Begin; each is an independent SHA-256.
//
// Thread-safe: any thread may submit; typically one producer.
#pragma once

#include <atomic>
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
#include <vector>

#include "base/mutex.h"
#include "base/sha256.h"

namespace custodian::exports {

// One SHA-256 stream, on SHA-NI when the CPU has it (kAuto), else on OpenSSL.
class Sha256Stream {
 public:
  enum class Engine { kAuto, kOpenSsl };
  explicit Sha256Stream(Engine engine = Engine::kAuto);
  void Update(const uint8_t* data, size_t size);
  // Lowercase hex; the stream must not be updated afterwards.
  std::string FinishHex();
  // a.Update(pa, la) and b.Update(pb, lb), computed interleaved where both run on SHA-NI.
  static void UpdateBoth(Sha256Stream& a, const uint8_t* pa, size_t la, Sha256Stream& b,
                         const uint8_t* pb, size_t lb);
  // Whether kAuto streams use SHA-NI on this CPU.
  static bool ShaExtensionsAvailable();

 private:
  // Completes a partly filled block from the input; true when no partial block remains.
  bool FillPending(const uint8_t*& data, size_t& size);
  void Blocks(const uint8_t* data, size_t blocks);

  bool sha_ni_;
  std::unique_ptr<Sha256> openssl_;  // when !sha_ni_
  uint32_t state_[8];
  uint8_t pending_[64];
  size_t pending_size_ = 0;
  uint64_t total_bytes_ = 0;
};

// CPU time used by the calling thread so far, in nanoseconds (for the build's step times).
int64_t ThreadCpuNanos();

struct HashPiece {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

// Pieces of one stream, in order.
struct HashRun {
  int stream = -1;  // -1: none
  std::vector<HashPiece> pieces;
};

class HashWorker {
 public:
  // `name` names the thread (at most 15 characters), for profilers and `top -H`.
  explicit HashWorker(const char* name = "export-hash");
  ~HashWorker();  // drains the queue, then joins
  HashWorker(const HashWorker&) = delete;
  HashWorker& operator=(const HashWorker&) = delete;

  // Starts a new digest stream; returns its number.
  int Begin();
  void Update(int stream, std::shared_ptr<const void> keep, const uint8_t* data, size_t size);
  // Hashes `runs` in order and, in the same pass, `alongside` (stream -1: none).
  void Update(std::shared_ptr<const void> keep, std::vector<HashRun> runs, HashRun alongside);
  // Lowercase hex, after every Update submitted before this call.
  std::future<std::string> Finish(int stream);
  // CPU seconds the worker's thread has spent on its items so far.
  double cpu_seconds() const { return static_cast<double>(cpu_ns_.load()) / 1e9; }

 private:
  void Submit(std::function<void()> task);
  void Loop();
  void HashRuns(const std::vector<HashRun>& runs, const HashRun& alongside);

  Mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  int next_stream_ GUARDED_BY(mu_) = 0;
  // Touched only by the worker thread.
  std::map<int, Sha256Stream> streams_;
  std::atomic<int64_t> cpu_ns_{0};
  std::thread thread_;
};

}  // namespace custodian::exports
