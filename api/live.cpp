#include "api/live.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

namespace custodian::api {

namespace {

// A moov or moof larger than this is not one the recorder wrote.
constexpr uint64_t kMaxMetadataBox = 4 * 1024 * 1024;
constexpr int kMaxBoxesBeforeMedia = 64;

// trun and tfhd flags (ISO/IEC 14496-12, 8.8.7 and 8.8.8).
constexpr uint32_t kTfhdBaseDataOffset = 0x1, kTfhdDescriptionIndex = 0x2,
                   kTfhdDefaultDuration = 0x8, kTfhdDefaultSize = 0x10, kTfhdDefaultFlags = 0x20;
constexpr uint32_t kTrunDataOffset = 0x1, kTrunFirstSampleFlags = 0x4, kTrunDuration = 0x100,
                   kTrunSize = 0x200, kTrunFlags = 0x400, kTrunCompositionOffset = 0x800;
constexpr uint32_t kSampleIsNonSync = 0x10000;

uint64_t Be(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

// A byte span with bounds-checked big-endian reads; a read past the end sets failed.
struct Reader {
  const uint8_t* p;
  size_t n;
  bool failed = false;

  uint64_t Read(int bytes) {
    if (failed || n < static_cast<size_t>(bytes)) {
      failed = true;
      return 0;
    }
    uint64_t v = Be(p, bytes);
    p += bytes;
    n -= static_cast<size_t>(bytes);
    return v;
  }
  void Skip(size_t bytes) {
    if (failed || n < bytes) {
      failed = true;
      return;
    }
    p += bytes;
    n -= bytes;
  }
};

struct Box {
  char type[5] = {};
  Reader body{nullptr, 0};
};

// The next child box of in; false at the end or on a malformed size.
bool NextBox(Reader& in, Box* box) {
  if (in.failed || in.n < 8) return false;
  uint64_t size = Be(in.p, 4);
  size_t header = 8;
  if (size == 1) {
    if (in.n < 16) return false;
    size = Be(in.p + 8, 8);
    header = 16;
  } else if (size == 0) {
    size = in.n;
  }
  if (size < header || size > in.n) return false;
  std::memcpy(box->type, in.p + 4, 4);
  box->body = Reader{in.p + header, static_cast<size_t>(size) - header};
  in.p += size;
  in.n -= static_cast<size_t>(size);
  return true;
}

bool Is(const Box& b, const char* type) { return std::memcmp(b.type, type, 4) == 0; }

struct VideoTrack {
  uint32_t id = 0;
  uint32_t timescale = 0;
  uint32_t default_duration = 0;  // from trex
  uint32_t default_flags = 0;
};

struct TrackInfo {
  uint32_t id = 0;
  uint32_t timescale = 0;
  bool video = false;
};

TrackInfo ParseTrak(Reader trak) {
  TrackInfo t;
  Box b;
  while (NextBox(trak, &b)) {
    if (Is(b, "tkhd")) {
      const uint64_t version = b.body.Read(1);
      b.body.Skip(3 + (version == 1 ? 16 : 8));
      t.id = static_cast<uint32_t>(b.body.Read(4));
    } else if (Is(b, "mdia")) {
      Box m;
      while (NextBox(b.body, &m)) {
        if (Is(m, "mdhd")) {
          const uint64_t version = m.body.Read(1);
          m.body.Skip(3 + (version == 1 ? 16 : 8));
          t.timescale = static_cast<uint32_t>(m.body.Read(4));
        } else if (Is(m, "hdlr")) {
          m.body.Skip(8);  // version, flags, pre_defined
          t.video = m.body.n >= 4 && std::memcmp(m.body.p, "vide", 4) == 0;
        }
      }
    }
  }
  return t;
}

std::optional<VideoTrack> ParseMoov(Reader moov) {
  std::optional<VideoTrack> video;
  std::vector<std::pair<uint32_t, std::pair<uint32_t, uint32_t>>> trex;  // id -> duration, flags
  Box b;
  while (NextBox(moov, &b)) {
    if (Is(b, "trak")) {
      TrackInfo t = ParseTrak(b.body);
      if (t.video && t.timescale > 0 && !video) video = VideoTrack{t.id, t.timescale, 0, 0};
    } else if (Is(b, "mvex")) {
      Box x;
      while (NextBox(b.body, &x)) {
        if (!Is(x, "trex")) continue;
        x.body.Skip(4);  // version, flags
        const auto id = static_cast<uint32_t>(x.body.Read(4));
        x.body.Skip(4);  // default sample description index
        const auto duration = static_cast<uint32_t>(x.body.Read(4));
        x.body.Skip(4);  // default sample size
        const auto flags = static_cast<uint32_t>(x.body.Read(4));
        if (!x.body.failed) trex.push_back({id, {duration, flags}});
      }
    }
  }
  if (video) {
    for (const auto& [id, d] : trex) {
      if (id == video->id) {
        video->default_duration = d.first;
        video->default_flags = d.second;
      }
    }
  }
  return video;
}

int64_t ToMicros(uint64_t t, uint32_t timescale) {
  return static_cast<int64_t>(t / timescale * kMicrosPerSecond +
                              t % timescale * kMicrosPerSecond / timescale);
}

// The video track's part of one traf: decode time, duration and the first sample's flags.
bool ParseVideoTraf(Reader traf, const VideoTrack& video, Fmp4Fragment* f, bool* is_video) {
  uint32_t default_duration = video.default_duration, default_flags = video.default_flags;
  uint64_t decode = 0, duration = 0;
  bool seen_trun = false;
  std::optional<uint32_t> first_flags;
  Box b;
  while (NextBox(traf, &b)) {
    if (Is(b, "tfhd")) {
      const auto flags = static_cast<uint32_t>(b.body.Read(4) & 0xffffff);
      if (static_cast<uint32_t>(b.body.Read(4)) != video.id) {
        *is_video = false;
        return true;
      }
      if (flags & kTfhdBaseDataOffset) b.body.Skip(8);
      if (flags & kTfhdDescriptionIndex) b.body.Skip(4);
      if (flags & kTfhdDefaultDuration) default_duration = static_cast<uint32_t>(b.body.Read(4));
      if (flags & kTfhdDefaultSize) b.body.Skip(4);
      if (flags & kTfhdDefaultFlags) default_flags = static_cast<uint32_t>(b.body.Read(4));
      if (b.body.failed) return false;
      *is_video = true;
    } else if (Is(b, "tfdt")) {
      const uint64_t version = b.body.Read(1);
      b.body.Skip(3);
      decode = b.body.Read(version == 1 ? 8 : 4);
      if (b.body.failed) return false;
    } else if (Is(b, "trun")) {
      const auto flags = static_cast<uint32_t>(b.body.Read(4) & 0xffffff);
      const uint64_t count = b.body.Read(4);
      if (flags & kTrunDataOffset) b.body.Skip(4);
      std::optional<uint32_t> run_first_flags;
      if (flags & kTrunFirstSampleFlags) run_first_flags = static_cast<uint32_t>(b.body.Read(4));
      for (uint64_t i = 0; i < count && !b.body.failed; ++i) {
        duration += (flags & kTrunDuration) ? b.body.Read(4) : default_duration;
        if (flags & kTrunSize) b.body.Skip(4);
        uint32_t sample_flags = default_flags;
        if (flags & kTrunFlags) sample_flags = static_cast<uint32_t>(b.body.Read(4));
        if (flags & kTrunCompositionOffset) b.body.Skip(4);
        if (i == 0 && !seen_trun) first_flags = run_first_flags.value_or(sample_flags);
      }
      if (b.body.failed) return false;
      if (count > 0) seen_trun = true;
    }
  }
  if (!*is_video) return true;
  f->decode_us = ToMicros(decode, video.timescale);
  f->duration_us = ToMicros(decode + duration, video.timescale) - f->decode_us;
  f->starts_with_keyframe = first_flags && !(*first_flags & kSampleIsNonSync);
  return true;
}

// A fragment without video (audio only) keeps zero video duration.
bool ParseMoof(Reader moof, const VideoTrack& video, Fmp4Fragment* f) {
  Box b;
  while (NextBox(moof, &b)) {
    if (Is(b, "mfhd")) {
      b.body.Skip(4);
      f->number = static_cast<uint32_t>(b.body.Read(4));
      if (b.body.failed) return false;
    } else if (Is(b, "traf")) {
      bool is_video = false;
      if (!ParseVideoTraf(b.body, video, f, &is_video)) return false;
    }
  }
  return true;
}

Status ReadAt(int fd, void* buf, size_t n, uint64_t offset) {
  ssize_t r = ::pread(fd, buf, n, static_cast<off_t>(offset));
  if (r < 0) return IoError(std::string("read: ") + std::strerror(errno));
  if (static_cast<size_t>(r) != n) return DataLoss("the file is shorter than it was");
  return Status::Ok();
}

struct BoxHeader {
  char type[5] = {};
  uint64_t size = 0;  // 0: not whole within the file
  uint64_t header = 8;
};

Result<BoxHeader> ReadBoxHeader(int fd, uint64_t pos, uint64_t file_size) {
  BoxHeader h;
  if (pos + 8 > file_size) return h;
  uint8_t buf[16];
  CUSTODIAN_RETURN_IF_ERROR(ReadAt(fd, buf, 8, pos));
  std::memcpy(h.type, buf + 4, 4);
  uint64_t size = Be(buf, 4);
  if (size == 1) {
    if (pos + 16 > file_size) return h;
    CUSTODIAN_RETURN_IF_ERROR(ReadAt(fd, buf + 8, 8, pos + 8));
    size = Be(buf + 8, 8);
    h.header = 16;
  }
  // Size 0 ("to the end of the file") is never whole in a file that may still grow.
  if (size >= h.header && size <= file_size - pos) h.size = size;
  return h;
}

Result<std::vector<uint8_t>> ReadBox(int fd, uint64_t pos, uint64_t size) {
  if (size > kMaxMetadataBox)
    return DataLoss("a metadata box of " + std::to_string(size) + " bytes");
  std::vector<uint8_t> buf(size);
  CUSTODIAN_RETURN_IF_ERROR(ReadAt(fd, buf.data(), buf.size(), pos));
  return buf;
}

std::string Seconds(int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", static_cast<double>(us) / 1e6);
  return buf;
}

}  // namespace

Result<Fmp4Fragments> ScanFragments(int fd, uint64_t file_size) {
  Fmp4Fragments out;
  std::optional<VideoTrack> video;
  uint64_t pos = 0;
  for (int i = 0; !video && i < kMaxBoxesBeforeMedia; ++i) {
    auto h = ReadBoxHeader(fd, pos, file_size);
    if (!h.ok()) return h.status();
    if (h->size == 0) break;
    if (std::memcmp(h->type, "moof", 4) == 0) break;
    if (std::memcmp(h->type, "moov", 4) == 0) {
      auto moov = ReadBox(fd, pos, h->size);
      if (!moov.ok()) return moov.status();
      video = ParseMoov(Reader{moov->data() + h->header, moov->size() - h->header});
      if (!video) return DataLoss("the moov has no video track");
    }
    pos += h->size;
  }
  if (!video) return DataLoss("not a fragmented MP4 with a moov before its fragments");
  out.init_length = out.whole_end = pos;

  for (;;) {
    auto moof_h = ReadBoxHeader(fd, pos, file_size);
    if (!moof_h.ok()) return moof_h.status();
    if (moof_h->size == 0 || std::memcmp(moof_h->type, "moof", 4) != 0) break;
    auto mdat_h = ReadBoxHeader(fd, pos + moof_h->size, file_size);
    if (!mdat_h.ok()) return mdat_h.status();
    if (mdat_h->size == 0 || std::memcmp(mdat_h->type, "mdat", 4) != 0) break;
    auto moof = ReadBox(fd, pos, moof_h->size);
    if (!moof.ok()) return moof.status();
    Fmp4Fragment f;
    f.offset = pos;
    f.length = moof_h->size + mdat_h->size;
    if (!ParseMoof(Reader{moof->data() + moof_h->header, moof->size() - moof_h->header}, *video,
                   &f)) {
      return DataLoss("malformed moof at byte " + std::to_string(pos));
    }
    out.fragments.push_back(f);
    pos += f.length;
    out.whole_end = pos;
  }
  return out;
}

std::vector<LiveEntry> SelectLiveWindow(const std::vector<LiveFile>& files, int64_t window_us) {
  std::vector<LiveEntry> newest_first;
  int64_t span = 0;
  bool keyframe_needed = false;
  for (size_t fi = files.size(); fi-- > 0;) {
    const auto& frags = files[fi].parts.fragments;
    for (size_t k = frags.size(); k-- > 0;) {
      if (span >= window_us && !keyframe_needed) break;
      newest_first.push_back({fi, k});
      span += frags[k].duration_us;
      keyframe_needed = !frags[k].starts_with_keyframe;
    }
    if (span >= window_us && !keyframe_needed) break;
  }
  // No keyframe within reach: list what there is; a player drops frames up to the next one.
  return {newest_first.rbegin(), newest_first.rend()};
}

int64_t LiveTargetSeconds(const std::vector<LiveFile>& files) {
  int64_t longest = 0;
  for (const auto& f : files) {
    for (const auto& frag : f.parts.fragments) longest = std::max(longest, frag.duration_us);
  }
  return std::max<int64_t>(1, (longest + kMicrosPerSecond / 2) / kMicrosPerSecond);
}

std::string FormatLivePlaylist(const std::vector<LiveFile>& files,
                               const std::vector<LiveEntry>& entries, int64_t run,
                               uint64_t discontinuity) {
  std::string out = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:" +
                    std::to_string(LiveTargetSeconds(files)) + "\n";
  if (entries.empty()) return out;
  const uint64_t first =
      static_cast<uint64_t>(run) * kRunSequenceStride +
      files[entries.front().file].parts.fragments[entries.front().fragment].number;
  out += "#EXT-X-MEDIA-SEQUENCE:" + std::to_string(first) + "\n";
  out += "#EXT-X-DISCONTINUITY-SEQUENCE:" + std::to_string(discontinuity) + "\n";
  size_t current = files.size();
  for (const LiveEntry& e : entries) {
    const LiveFile& file = files[e.file];
    const Fmp4Fragment& f = file.parts.fragments[e.fragment];
    if (e.file != current) {
      if (current != files.size()) out += "#EXT-X-DISCONTINUITY\n";
      out += "#EXT-X-MAP:URI=\"" + file.uri + "\",BYTERANGE=\"" +
             std::to_string(file.parts.init_length) + "@0\"\n";
      current = e.file;
    }
    out += "#EXT-X-PROGRAM-DATE-TIME:" + FormatUtc(file.start + f.decode_us) + "\n";
    out += "#EXTINF:" + Seconds(f.duration_us) + ",\n";
    out += "#EXT-X-BYTERANGE:" + std::to_string(f.length) + "@" + std::to_string(f.offset) + "\n";
    out += file.uri + "\n";
  }
  return out;
}

uint64_t LiveDiscontinuities::FirstNumber(const std::string& camera,
                                          const std::vector<int64_t>& files) {
  MutexLock l(mu_);
  std::map<int64_t, uint64_t>& known = numbers_[camera];
  std::optional<uint64_t> first;
  for (size_t i = 0; i < files.size() && !first; ++i) {
    auto it = known.find(files[i]);
    if (it != known.end() && it->second >= i) first = it->second - i;
  }
  if (!first) {
    // Files not seen before follow the newest one seen (a later file, or a new run).
    uint64_t next = 0;
    for (const auto& [id, number] : known) next = std::max(next, number + 1);
    first = next;
  }
  for (size_t i = 0; i < files.size(); ++i) known[files[i]] = *first + i;
  while (known.size() > kRememberedFiles) known.erase(known.begin());
  return *first;
}

}  // namespace custodian::api
