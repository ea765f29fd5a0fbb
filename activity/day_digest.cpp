#include "activity/day_digest.h"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <map>
#include <string_view>

namespace custodian::activity {

namespace {

constexpr char kMagic[8] = {'C', 'U', 'S', 'T', 'D', 'A', 'Y', '1'};
// A day of one-second segments at most, each a day's index at most: far beyond any real day,
// small enough to refuse garbage before allocating it.
constexpr uint64_t kMaxDigestBytes = uint64_t{256} << 20;

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "…/20261207T090000.000Z.mp4" -> "20261207T090000.000Z".
std::string Stem(const std::string& segment_path) {
  std::string name = BaseName(segment_path);
  const size_t dot = name.rfind(".mp4");
  if (dot != std::string::npos && dot + 4 == name.size()) name.resize(dot);
  return name;
}

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t GetU32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

// Stem -> encoded index. Empty when the digest is missing or does not decode.
std::map<std::string, std::string> ParseDigest(std::string_view bytes) {
  std::map<std::string, std::string> out;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 12 || std::memcmp(p, kMagic, sizeof kMagic) != 0) return {};
  const uint32_t n = GetU32(p + 8);
  size_t at = 12;
  for (uint32_t i = 0; i < n; ++i) {
    if (at + 1 > bytes.size()) return {};
    const size_t name_len = p[at++];
    if (at + name_len + 4 > bytes.size()) return {};
    std::string name(bytes.substr(at, name_len));
    at += name_len;
    const uint32_t len = GetU32(p + at);
    at += 4;
    if (len > bytes.size() - at) return {};
    out[std::move(name)] = std::string(bytes.substr(at, len));
    at += len;
  }
  if (at != bytes.size()) return {};
  return out;
}

std::string EncodeDigest(const std::map<std::string, std::string>& entries) {
  std::string out(kMagic, sizeof kMagic);
  PutU32(&out, static_cast<uint32_t>(entries.size()));
  for (const auto& [name, index] : entries) {
    out.push_back(static_cast<char>(name.size()));
    out += name;
    PutU32(&out, static_cast<uint32_t>(index.size()));
    out += index;
  }
  return out;
}

// A temporary name no other writer in this or another process uses at the same time.
std::string TempPath(const std::string& dir) {
  static std::atomic<uint64_t> counter{0};
  return JoinPath(
      dir, "day." + std::to_string(getpid()) + "-" + std::to_string(++counter) + ".activity.tmp");
}

// Writes the digest, then checks that each entry's index file still exists: retention may
// have deleted a segment between the read of its index and the rename, and then the digest
// must not stay (retention's own unlink of the digest may have come before the rename).
void WriteDigest(Filesystem& fs, const std::string& dir,
                 const std::map<std::string, std::string>& entries) {
  const std::string tmp = TempPath(dir);
  const std::string path = JoinPath(dir, kDayDigestName);
  const std::string data = EncodeDigest(entries);
  auto file = fs.Create(tmp);
  if (!file.ok()) return;
  if (!(*file)->Append(data.data(), data.size()).ok() || !(*file)->Close().ok() ||
      !fs.Rename(tmp, path).ok()) {
    (void)fs.Unlink(tmp);
    return;
  }
  for (const auto& entry : entries) {
    if (!fs.Exists(JoinPath(dir, entry.first + ".activity"))) {
      (void)fs.Unlink(path);
      return;
    }
  }
}

}  // namespace

std::string DayDigestPathFor(const std::string& segment_path) {
  return JoinPath(DirName(segment_path), kDayDigestName);
}

bool IsDayDigestName(const std::string& name) {
  return name == kDayDigestName || (name.starts_with("day.") && name.ends_with(".activity.tmp"));
}

Status UnlinkDayDigest(Filesystem& fs, const std::string& segment_path) {
  Status st = fs.Unlink(DayDigestPathFor(segment_path));
  if (!st.ok() && st.kind() == ErrorKind::kNotFound) return Status::Ok();
  return st;
}

std::vector<Result<SegmentActivity>> ReadDayIndexes(Filesystem& fs,
                                                    const std::vector<std::string>& segment_paths) {
  std::vector<Result<SegmentActivity>> out;
  out.reserve(segment_paths.size());
  if (segment_paths.empty()) return out;
  const std::string dir = DirName(segment_paths.front());
  std::map<std::string, std::string> entries;
  if (auto bytes = ReadFileToString(fs, JoinPath(dir, kDayDigestName), kMaxDigestBytes);
      bytes.ok()) {
    entries = ParseDigest(*bytes);
  }
  bool added = false;
  for (const std::string& seg : segment_paths) {
    const std::string stem = Stem(seg);
    auto it = entries.find(stem);
    if (it != entries.end()) {
      auto index = DecodeActivity(it->second);
      if (index.ok()) {
        out.push_back(std::move(index));
        continue;
      }
      entries.erase(it);  // a damaged entry is read again from its file
    }
    auto bytes = ReadFileToString(fs, ActivityPathFor(seg), kMaxDigestBytes);
    if (!bytes.ok()) {
      out.push_back(bytes.status());
      continue;
    }
    auto index = DecodeActivity(*bytes);
    // Only an index that decodes joins the digest, and only one whose name is a segment's
    // of this directory (a stem fits the u8 length).
    if (index.ok() && DirName(seg) == dir && stem.size() < 256) {
      entries[stem] = std::move(bytes).value();
      added = true;
    }
    out.push_back(std::move(index));
  }
  if (added) WriteDigest(fs, dir, entries);
  return out;
}

std::vector<Result<SegmentActivity>> ReadIndexes(Filesystem& fs,
                                                 const std::vector<std::string>& segment_paths) {
  std::vector<Result<SegmentActivity>> out;
  out.reserve(segment_paths.size());
  std::vector<std::string> day;
  auto flush = [&] {
    for (Result<SegmentActivity>& r : ReadDayIndexes(fs, day)) out.push_back(std::move(r));
    day.clear();
  };
  for (const std::string& p : segment_paths) {
    if (!day.empty() && DirName(p) != DirName(day.back())) flush();
    day.push_back(p);
  }
  flush();
  return out;
}

}  // namespace custodian::activity
