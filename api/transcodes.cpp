#include "api/transcodes.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <optional>
#include <vector>

#include "api/live.h"
#include "base/mutex.h"

namespace custodian::api {

namespace {

using SteadyClock = std::chrono::steady_clock;

// One request's share of the transcoder: it stops feeding once this much time has passed
// (always feeding one fragment), so a viewer gets the first picture soon and others wait
// for the slot at most about this long per request ahead of them.
constexpr auto kWorkPerRequest = std::chrono::milliseconds(800);
// A fragment larger than this is refused rather than read into memory.
constexpr uint64_t kMaxFragmentBytes = 64 * 1024 * 1024;

Result<std::string> ReadAt(int fd, uint64_t offset, uint64_t length) {
  std::string data(length, '\0');
  uint64_t done = 0;
  while (done < length) {
    ssize_t r = ::pread(fd, data.data() + done, length - done, static_cast<off_t>(offset + done));
    if (r < 0) return ErrnoStatus("read the segment", errno);
    if (r == 0) return DataLoss("the segment file is shorter than its fragments");
    done += static_cast<uint64_t>(r);
  }
  return data;
}

int64_t MonotonicUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             SteadyClock::now().time_since_epoch())
      .count();
}

}  // namespace

struct TranscodeCache::Transcode {
  explicit Transcode(media::TranscodeSize size) : coder(size) {}
  Mutex mu;
  media::H264Transcoder coder GUARDED_BY(mu);
  std::string init GUARDED_BY(mu);                       // the source's ftyp+moov
  std::optional<uint32_t> next_fragment GUARDED_BY(mu);  // the moof number to feed next
  bool started GUARDED_BY(mu) = false;
  int64_t from_us GUARDED_BY(mu) = 0;
  int64_t to_us GUARDED_BY(mu) = 0;
  std::atomic<uint64_t> bytes{0};
  std::atomic<int64_t> last_used_us{0};
};

TranscodeCache::TranscodeCache(media::TranscodeSize size, uint64_t max_bytes)
    : size_(size), max_bytes_(max_bytes) {}
TranscodeCache::~TranscodeCache() = default;

std::shared_ptr<TranscodeCache::Transcode> TranscodeCache::Find(const TranscodeKey& key) {
  MutexLock lock(mu_);
  auto& t = by_key_[key];
  if (!t) t = std::make_shared<Transcode>(size_);
  t->last_used_us = MonotonicUs();
  return t;
}

void TranscodeCache::Trim() {
  MutexLock lock(mu_);
  const int64_t now = MonotonicUs();
  uint64_t total = 0;
  for (auto it = by_key_.begin(); it != by_key_.end();) {
    if (it->second.use_count() == 1 && now - it->second->last_used_us > kIdleDropUs) {
      it = by_key_.erase(it);
    } else {
      total += it->second->bytes;
      ++it;
    }
  }
  while (total > max_bytes_) {
    auto oldest = by_key_.end();
    for (auto it = by_key_.begin(); it != by_key_.end(); ++it) {
      if (it->second.use_count() != 1) continue;  // a reader is using it
      if (oldest == by_key_.end() || it->second->last_used_us < oldest->second->last_used_us) {
        oldest = it;
      }
    }
    if (oldest == by_key_.end()) return;
    total -= oldest->second->bytes;
    by_key_.erase(oldest);
  }
}

size_t TranscodeCache::transcodes() const {
  MutexLock lock(mu_);
  return by_key_.size();
}

uint64_t TranscodeCache::bytes() const {
  MutexLock lock(mu_);
  uint64_t total = 0;
  for (const auto& [key, t] : by_key_) total += t->bytes;
  return total;
}

Result<TranscodeChunk> TranscodeCache::Read(const TranscodeKey& key, int fd, uint64_t file_size,
                                            bool closed, uint64_t offset) {
  std::shared_ptr<Transcode> t = Find(key);
  TranscodeChunk chunk;
  {
    MutexLock lock(t->mu);
    const bool caught_up = offset >= t->coder.Output().size();
    if (caught_up && !t->coder.finished()) {
      auto fragments = ScanFragments(fd, file_size);
      if (!fragments.ok()) return fragments.status();
      std::unique_lock slot(slot_, std::chrono::milliseconds(kSlotWaitMs));
      if (!slot.owns_lock()) {
        return Unavailable("the transcoder is busy with other viewers; try again shortly");
      }
      if (t->init.empty()) {
        auto init = ReadAt(fd, 0, fragments->init_length);
        if (!init.ok()) return init.status();
        t->init = std::move(init).value();
      }
      const auto deadline = SteadyClock::now() + kWorkPerRequest;
      int fed_now = 0;
      for (const Fmp4Fragment& f : fragments->fragments) {
        if (!t->started) {
          // Decoding must begin at a keyframe: the first one at or after the asked fragment.
          if (f.number < key.first_fragment || !f.starts_with_keyframe) continue;
          t->started = true;
          t->from_us = f.decode_us;
        } else if (f.number < *t->next_fragment) {
          continue;
        }
        if (fed_now > 0 && SteadyClock::now() > deadline) break;
        if (f.length > kMaxFragmentBytes) return DataLoss("a fragment is too large to transcode");
        auto bytes = ReadAt(fd, f.offset, f.length);
        if (!bytes.ok()) return bytes.status();
        auto fed = t->coder.Feed(t->init, *bytes);
        if (!fed.ok()) return fed.status();
        t->next_fragment = f.number + 1;
        t->to_us = f.decode_us + f.duration_us;
        ++fed_now;
      }
      const bool all_fed =
          fragments->fragments.empty() ||
          (t->next_fragment && *t->next_fragment > fragments->fragments.back().number);
      if (closed && all_fed) CUSTODIAN_RETURN_IF_ERROR(t->coder.Finish());
      t->bytes = t->coder.Output().size();
    }
    const std::string& out = t->coder.Output();
    if (offset > out.size()) {
      return InvalidArgument("offset " + std::to_string(offset) + " lies past the " +
                             std::to_string(out.size()) + " bytes transcoded so far");
    }
    chunk.offset = offset;
    chunk.bytes = out.substr(offset, kMaxChunkBytes);
    chunk.complete = t->coder.finished() && offset + chunk.bytes.size() == out.size();
    chunk.from_us = t->from_us;
    chunk.to_us = t->to_us;
  }
  t->last_used_us = MonotonicUs();
  t.reset();
  Trim();
  return chunk;
}

}  // namespace custodian::api
