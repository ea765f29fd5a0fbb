#include "activity/activity_file.h"

#include <bit>
#include <cstring>

namespace custodian::activity {

namespace {

constexpr char kMagic[8] = {'C', 'U', 'S', 'T', 'A', 'C', 'T', '1'};
constexpr size_t kHeaderBytes = 16;
constexpr size_t kSpanBytes = 4 + kGridCells / 8;
// A segment is cut within minutes; a day is far more than any segment holds.
constexpr uint32_t kMaxSeconds = 86'400;

void PutU16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v & 0xff));
  out->push_back(static_cast<char>(v >> 8));
}

uint16_t GetU16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

uint32_t GetU32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

}  // namespace

bool ActivityGrid::Any() const {
  for (uint8_t b : bits)
    if (b) return true;
  return false;
}

int ActivityGrid::Count() const {
  int n = 0;
  for (uint8_t b : bits) n += std::popcount(b);
  return n;
}

bool ActivityGrid::Intersects(const ActivityGrid& other) const {
  for (size_t i = 0; i < bits.size(); ++i)
    if (bits[i] & other.bits[i]) return true;
  return false;
}

std::string ActivityPathFor(const std::string& segment_path) {
  constexpr std::string_view kMp4 = ".mp4";
  std::string stem = segment_path;
  if (stem.size() > kMp4.size() && stem.ends_with(kMp4)) stem.resize(stem.size() - kMp4.size());
  return stem + ".activity";
}

std::string EncodeActivity(const SegmentActivity& a) {
  std::string out(kMagic, sizeof kMagic);
  out.push_back(static_cast<char>(kGridCols));
  out.push_back(static_cast<char>(kGridRows));
  PutU16(&out, static_cast<uint16_t>(a.grids.size()));
  const uint32_t seconds = static_cast<uint32_t>(a.scores.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((seconds >> (8 * i)) & 0xff));
  out.append(reinterpret_cast<const char*>(a.scores.data()), a.scores.size());
  for (const GridSpan& g : a.grids) {
    PutU16(&out, g.first_second);
    PutU16(&out, g.end_second);
    out.append(reinterpret_cast<const char*>(g.cells.bits.data()), g.cells.bits.size());
  }
  return out;
}

Result<SegmentActivity> DecodeActivity(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < kHeaderBytes || std::memcmp(p, kMagic, sizeof kMagic) != 0) {
    return DataLoss("activity index: not a version 1 index");
  }
  if (p[8] != kGridCols || p[9] != kGridRows) {
    return DataLoss("activity index: grid is not 16x9");
  }
  const uint16_t spans = GetU16(p + 10);
  const uint32_t seconds = GetU32(p + 12);
  if (seconds > kMaxSeconds ||
      bytes.size() != kHeaderBytes + seconds + static_cast<size_t>(spans) * kSpanBytes) {
    return DataLoss("activity index: size does not match its header (torn or truncated)");
  }
  SegmentActivity a;
  a.scores.assign(p + kHeaderBytes, p + kHeaderBytes + seconds);
  a.grids.resize(spans);
  const unsigned char* q = p + kHeaderBytes + seconds;
  for (GridSpan& g : a.grids) {
    g.first_second = GetU16(q);
    g.end_second = GetU16(q + 2);
    std::memcpy(g.cells.bits.data(), q + 4, g.cells.bits.size());
    if (g.end_second < g.first_second)
      return DataLoss("activity index: a span ends before it starts");
    q += kSpanBytes;
  }
  return a;
}

Status WriteActivityFile(Filesystem& fs, const std::string& path, const SegmentActivity& activity) {
  const std::string data = EncodeActivity(activity);
  const std::string tmp = path + ".tmp";
  auto file = fs.Create(tmp);
  if (!file.ok()) return file.status();
  CUSTODIAN_RETURN_IF_ERROR((*file)->Append(data.data(), data.size()));
  CUSTODIAN_RETURN_IF_ERROR((*file)->Close());
  return fs.Rename(tmp, path);
}

Result<SegmentActivity> ReadActivityFile(Filesystem& fs, const std::string& path) {
  // A day of seconds and the spans a day can hold: anything larger is not an index.
  constexpr uint64_t kMaxBytes = kHeaderBytes + kMaxSeconds + uint64_t{65'535} * kSpanBytes;
  auto bytes = ReadFileToString(fs, path, kMaxBytes);
  if (!bytes.ok()) return bytes.status();
  return DecodeActivity(*bytes);
}

}  // namespace custodian::activity
