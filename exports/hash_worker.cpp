#include "exports/hash_worker.h"

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define CUSTODIAN_SHA_NI 1
#endif

namespace custodian::exports {

namespace {

constexpr uint32_t kInitialState[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

#if CUSTODIAN_SHA_NI

// FIPS 180-4 round constants.
alignas(16) constexpr uint32_t kRoundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

// How far ahead of the block being hashed its data is prefetched. Without it the rounds wait
// on memory: in an export (sources just mapped from the page cache) one stream ran at 1.15
// GB/s, with it at 1.95. A prefetch past the end of the data is harmless (it never faults);
// the address is computed as an integer, since it may lie outside the array.
constexpr uintptr_t kPrefetchAhead = 1024;

inline void PrefetchAhead(const uint8_t* data, size_t offset) {
  _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(data) + offset +
                                             kPrefetchAhead),
               _MM_HINT_T0);
}

#define CUSTODIAN_SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))
#define CUSTODIAN_SHA_INLINE CUSTODIAN_SHA_TARGET __attribute__((always_inline)) inline

// One SHA-256 stream in the SHA-NI register layout: abef = {f, e, b, a} and cdgh =
// {h, g, d, c} (lane 0 first), the message schedule's last sixteen words in w[4], and the
// state at the start of the current block.
struct Lane {
  __m128i abef, cdgh, w[4], abef0, cdgh0;
};

CUSTODIAN_SHA_INLINE void LoadState(Lane& l, const uint32_t* s) {
  __m128i abcd = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
  __m128i efgh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 4));
  abcd = _mm_shuffle_epi32(abcd, 0xB1);  // {b, a, d, c}
  efgh = _mm_shuffle_epi32(efgh, 0x1B);  // {h, g, f, e}
  l.abef = _mm_alignr_epi8(abcd, efgh, 8);
  l.cdgh = _mm_blend_epi16(efgh, abcd, 0xF0);
}

CUSTODIAN_SHA_INLINE void StoreState(const Lane& l, uint32_t* s) {
  const __m128i feba = _mm_shuffle_epi32(l.abef, 0x1B);  // {a, b, e, f}
  const __m128i dchg = _mm_shuffle_epi32(l.cdgh, 0xB1);  // {g, h, c, d}
  _mm_storeu_si128(reinterpret_cast<__m128i*>(s), _mm_blend_epi16(feba, dchg, 0xF0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(s + 4), _mm_alignr_epi8(dchg, feba, 8));
}

CUSTODIAN_SHA_INLINE void StartBlock(Lane& l, const uint8_t* block) {
  const __m128i big_endian = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  l.abef0 = l.abef;
  l.cdgh0 = l.cdgh;
  for (int i = 0; i < 4; ++i) {
    l.w[i] = _mm_shuffle_epi8(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16 * i)), big_endian);
  }
}

// Rounds 4i .. 4i+3; from i = 4 on, their message words are first derived from the last
// sixteen: W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16].
CUSTODIAN_SHA_INLINE void FourRounds(Lane& l, int i) {
  if (i >= 4) {
    __m128i t = _mm_sha256msg1_epu32(l.w[i & 3], l.w[(i + 1) & 3]);
    t = _mm_add_epi32(t, _mm_alignr_epi8(l.w[(i + 3) & 3], l.w[(i + 2) & 3], 4));
    l.w[i & 3] = _mm_sha256msg2_epu32(t, l.w[(i + 3) & 3]);
  }
  __m128i wk = _mm_add_epi32(
      l.w[i & 3], _mm_load_si128(reinterpret_cast<const __m128i*>(kRoundConstants + 4 * i)));
  l.cdgh = _mm_sha256rnds2_epu32(l.cdgh, l.abef, wk);
  wk = _mm_shuffle_epi32(wk, 0x0E);
  l.abef = _mm_sha256rnds2_epu32(l.abef, l.cdgh, wk);
}

CUSTODIAN_SHA_INLINE void EndBlock(Lane& l) {
  l.abef = _mm_add_epi32(l.abef, l.abef0);
  l.cdgh = _mm_add_epi32(l.cdgh, l.cdgh0);
}

CUSTODIAN_SHA_TARGET void ShaNiBlocks(uint32_t* state, const uint8_t* data, size_t blocks) {
  Lane a;
  LoadState(a, state);
  for (size_t b = 0; b < blocks; ++b) {
    PrefetchAhead(data, 64 * b);
    StartBlock(a, data + 64 * b);
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) FourRounds(a, i);
    EndBlock(a);
  }
  StoreState(a, state);
}

// Two independent streams, one block of each in turn: each stream's rounds wait on the
// previous round's result, so the other stream's rounds run in the gaps.
CUSTODIAN_SHA_TARGET void ShaNiBlocks2(uint32_t* state_a, const uint8_t* data_a,
                                       uint32_t* state_b, const uint8_t* data_b, size_t blocks) {
  Lane a, b;
  LoadState(a, state_a);
  LoadState(b, state_b);
  for (size_t k = 0; k < blocks; ++k) {
    PrefetchAhead(data_a, 64 * k);
    PrefetchAhead(data_b, 64 * k);
    StartBlock(a, data_a + 64 * k);
    StartBlock(b, data_b + 64 * k);
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) {
      FourRounds(a, i);
      FourRounds(b, i);
    }
    EndBlock(a);
    EndBlock(b);
  }
  StoreState(a, state_a);
  StoreState(b, state_b);
}

bool DetectShaNi() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  const bool ssse3 = ecx & (1u << 9), sse41 = ecx & (1u << 19);
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  return ssse3 && sse41 && (ebx & (1u << 29));
}

#else

void ShaNiBlocks(uint32_t*, const uint8_t*, size_t) {}
void ShaNiBlocks2(uint32_t*, const uint8_t*, uint32_t*, const uint8_t*, size_t) {}
bool DetectShaNi() { return false; }

#endif

}  // namespace

bool Sha256Stream::ShaExtensionsAvailable() {
  static const bool available = DetectShaNi();
  return available;
}

Sha256Stream::Sha256Stream(Engine engine)
    : sha_ni_(engine == Engine::kAuto && ShaExtensionsAvailable()) {
  if (!sha_ni_) openssl_ = std::make_unique<Sha256>();
  std::memcpy(state_, kInitialState, sizeof state_);
}

bool Sha256Stream::FillPending(const uint8_t*& data, size_t& size) {
  if (pending_size_ == 0) return true;
  const size_t take = std::min(size, sizeof pending_ - pending_size_);
  std::memcpy(pending_ + pending_size_, data, take);
  pending_size_ += take;
  data += take;
  size -= take;
  if (pending_size_ < sizeof pending_) return false;
  ShaNiBlocks(state_, pending_, 1);
  pending_size_ = 0;
  return true;
}

void Sha256Stream::Blocks(const uint8_t* data, size_t blocks) {
  if (blocks > 0) ShaNiBlocks(state_, data, blocks);
}

void Sha256Stream::Update(const uint8_t* data, size_t size) {
  if (size == 0) return;
  total_bytes_ += size;
  if (!sha_ni_) {
    openssl_->Update(data, size);
    return;
  }
  if (!FillPending(data, size)) return;
  Blocks(data, size / 64);
  const size_t tail = size % 64;
  std::memcpy(pending_, data + size - tail, tail);
  pending_size_ = tail;
}

void Sha256Stream::UpdateBoth(Sha256Stream& a, const uint8_t* pa, size_t la, Sha256Stream& b,
                              const uint8_t* pb, size_t lb) {
  if (!a.sha_ni_ || !b.sha_ni_ || &a == &b) {
    a.Update(pa, la);
    b.Update(pb, lb);
    return;
  }
  // Complete any partial block first, so that both streams continue from a block boundary.
  a.total_bytes_ += la;
  b.total_bytes_ += lb;
  const bool a_aligned = a.FillPending(pa, la);
  const bool b_aligned = b.FillPending(pb, lb);
  if (a_aligned && b_aligned) {
    const size_t both = std::min(la / 64, lb / 64);
    if (both > 0) ShaNiBlocks2(a.state_, pa, b.state_, pb, both);
    pa += 64 * both;
    la -= 64 * both;
    pb += 64 * both;
    lb -= 64 * both;
  }
  // What is left (the longer input's excess, or an input used up filling a partial block)
  // goes one stream at a time; its bytes are counted already.
  a.total_bytes_ -= la;
  b.total_bytes_ -= lb;
  a.Update(pa, la);
  b.Update(pb, lb);
}

std::string Sha256Stream::FinishHex() {
  if (!sha_ni_) return openssl_->FinishHex();
  // Padding: 0x80, zeros, then the length in bits, big-endian, to a whole block.
  uint8_t tail[128] = {};
  std::memcpy(tail, pending_, pending_size_);
  tail[pending_size_] = 0x80;
  const size_t blocks = pending_size_ + 9 <= 64 ? 1 : 2;
  const uint64_t bits = total_bytes_ * 8;
  for (int i = 0; i < 8; ++i) tail[64 * blocks - 1 - i] = static_cast<uint8_t>(bits >> (8 * i));
  ShaNiBlocks(state_, tail, blocks);
  uint8_t digest[32];
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 4; ++j) digest[4 * i + j] = static_cast<uint8_t>(state_[i] >> (24 - 8 * j));
  }
  return ToHex(digest, sizeof digest);
}

HashWorker::HashWorker(const char* name) : thread_([this] { Loop(); }) {
  pthread_setname_np(thread_.native_handle(), name);
}

HashWorker::~HashWorker() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void HashWorker::Submit(std::function<void()> task) {
  {
    MutexLock lock(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
}

int HashWorker::Begin() {
  int stream;
  {
    MutexLock lock(mu_);
    stream = next_stream_++;
  }
  Submit([this, stream] { streams_.emplace(stream, Sha256Stream()); });
  return stream;
}

void HashWorker::Update(int stream, std::shared_ptr<const void> keep, const uint8_t* data,
                        size_t size) {
  Submit([this, stream, keep = std::move(keep), data, size] {
    streams_.at(stream).Update(data, size);
  });
}

void HashWorker::Update(std::shared_ptr<const void> keep, std::vector<HashRun> runs,
                        HashRun alongside) {
  Submit([this, keep = std::move(keep), runs = std::move(runs),
          alongside = std::move(alongside)] { HashRuns(runs, alongside); });
}

void HashWorker::HashRuns(const std::vector<HashRun>& runs, const HashRun& alongside) {
  // A cursor through `alongside`, advanced in step with the runs' bytes.
  Sha256Stream* side = alongside.stream >= 0 ? &streams_.at(alongside.stream) : nullptr;
  size_t piece = 0, offset = 0;
  auto side_left = [&]() -> size_t {
    while (side && piece < alongside.pieces.size() && offset == alongside.pieces[piece].size) {
      ++piece;
      offset = 0;
    }
    return side && piece < alongside.pieces.size() ? alongside.pieces[piece].size - offset : 0;
  };
  for (const HashRun& run : runs) {
    Sha256Stream& s = streams_.at(run.stream);
    for (const HashPiece& p : run.pieces) {
      const uint8_t* data = p.data;
      size_t size = p.size;
      while (size > 0) {
        const size_t step = std::min(size, side_left());
        if (step == 0) {
          s.Update(data, size);
          break;
        }
        Sha256Stream::UpdateBoth(s, data, step, *side, alongside.pieces[piece].data + offset, step);
        data += step;
        size -= step;
        offset += step;
      }
    }
  }
  for (size_t left = side_left(); left > 0; left = side_left()) {
    side->Update(alongside.pieces[piece].data + offset, left);
    offset += left;
  }
}

std::future<std::string> HashWorker::Finish(int stream) {
  auto promise = std::make_shared<std::promise<std::string>>();
  std::future<std::string> result = promise->get_future();
  Submit([this, stream, promise] {
    auto it = streams_.find(stream);
    promise->set_value(it->second.FinishHex());
    streams_.erase(it);
  });
  return result;
}

int64_t ThreadCpuNanos() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void HashWorker::Loop() {
  for (;;) {
    std::function<void()> task;
    {
      MutexLock lock(mu_);
      lock.Wait(cv_, [this]() REQUIRES(mu_) { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    const int64_t before = ThreadCpuNanos();
    task();
    cpu_ns_ += ThreadCpuNanos() - before;
  }
}

}  // namespace custodian::exports
