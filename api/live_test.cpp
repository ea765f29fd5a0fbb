// Live view's pure parts: fragment scanning of real files written by the recorder's
// writer (whole, growing and cut short), window selection, the playlist text and the
// discontinuity numbering.
#include "api/live.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "base/filesystem.h"
#include "base/testing/temp_dir.h"
#include "media/fmp4_writer.h"
#include "media/probe.h"

namespace custodian::api {
namespace {

namespace fs = std::filesystem;

// A fresh directory, removed with everything in it at the end of the test.
class TempDir : public ::custodian::testing::TempDir {
 public:
  TempDir() : ::custodian::testing::TempDir("custodian-live") {}
};

// A 10 s, 25 fps H.264 clip with a keyframe every 4 s: a camera with a long GOP.
std::string LongGopClip(const TempDir& dir) {
  const std::string path = dir.File("source.mp4");
  const std::string cmd =
      std::string(CUSTODIAN_FFMPEG_CLI) +
      " -nostdin -loglevel error -y -f lavfi -i testsrc=size=320x240:rate=25 -t 10 "
      "-c:v libx264 -preset ultrafast -g 100 -keyint_min 100 -sc_threshold 0 -pix_fmt yuv420p " +
      path;
  REQUIRE(std::system(cmd.c_str()) == 0);
  return path;
}

// Copies every packet of `in` through FragmentedMp4Writer into `out`; returns the number
// the next file's first fragment would take.
uint32_t Remux(const std::string& in, const std::string& out, media::FragmentOptions options) {
  AVFormatContext* raw = nullptr;
  REQUIRE(avformat_open_input(&raw, in.c_str(), nullptr, nullptr) == 0);
  media::InputContext ic(raw);
  REQUIRE(avformat_find_stream_info(raw, nullptr) >= 0);
  auto file = PosixFilesystem::Instance().Create(out);
  REQUIRE(file.ok());
  auto w = media::FragmentedMp4Writer::Open(
      std::move(file).value(), {{raw->streams[0]->codecpar, raw->streams[0]->time_base}}, options);
  REQUIRE(w.ok());
  media::Packet pkt = media::MakePacket();
  while (av_read_frame(raw, pkt.get()) >= 0) {
    REQUIRE((*w)->Write(*pkt).ok());
    av_packet_unref(pkt.get());
  }
  REQUIRE((*w)->Finish().ok());
  return (*w)->next_fragment_number();
}

Fmp4Fragments Scan(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  auto parts = ScanFragments(fd, fs::file_size(path));
  ::close(fd);
  INFO(parts.status().ToString());
  REQUIRE(parts.ok());
  return *parts;
}

std::string Prefix(const std::string& path, uint64_t bytes, const std::string& out) {
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(out, std::ios::binary) << data.substr(0, bytes);
  return out;
}

LiveFile Synthetic(int64_t id, UtcMicros start, uint32_t first_number,
                   const std::vector<std::pair<int64_t, bool>>& fragments) {
  LiveFile f;
  f.segment_id = id;
  f.uri = "/api/v1/segments/" + std::to_string(id) + "/live?purpose=system_check";
  f.start = start;
  f.parts.init_length = 1000;
  uint64_t offset = 1000;
  int64_t decode = 0;
  uint32_t number = first_number;
  for (const auto& [duration, key] : fragments) {
    f.parts.fragments.push_back({offset, 5000, number++, decode, duration, key});
    offset += 5000;
    decode += duration;
  }
  f.parts.whole_end = offset;
  return f;
}

constexpr int64_t kSec = kMicrosPerSecond;
constexpr UtcMicros kT0{1767225600LL * kMicrosPerSecond};

}  // namespace

TEST_CASE("live: the writer cuts a long GOP into one-second fragments numbered from first_number") {
  const TempDir dir;
  const std::string src = LongGopClip(dir);
  const std::string out = dir.File("short.mp4");
  REQUIRE(Remux(src, out, {kMicrosPerSecond, 41}) == 51);

  Fmp4Fragments parts = Scan(out);
  REQUIRE(parts.fragments.size() == 10);
  for (size_t i = 0; i < parts.fragments.size(); ++i) {
    const Fmp4Fragment& f = parts.fragments[i];
    INFO("fragment " << i);
    CHECK(f.number == 41 + i);
    CHECK(f.decode_us == static_cast<int64_t>(i) * kSec);
    CHECK(f.duration_us == kSec);
    CHECK(f.starts_with_keyframe == (i % 4 == 0));  // keyframes at 0, 4 and 8 s
    if (i > 0) CHECK(f.offset == parts.fragments[i - 1].offset + parts.fragments[i - 1].length);
  }
  CHECK(parts.fragments.front().offset == parts.init_length);
  CHECK(parts.whole_end == parts.fragments.back().offset + parts.fragments.back().length);
  CHECK(parts.whole_end < fs::file_size(out));  // the mfra index is not a fragment

  // The file still plays and decodes frame by frame, as every recorded segment must.
  auto probe = media::ProbeFile(out, /*decode=*/true);
  INFO(probe.status().ToString());
  REQUIRE(probe.ok());
  CHECK(probe->video_frames == 250);
  CHECK(probe->decode_errors == 0);
}

TEST_CASE("live: without a length limit a fragment is a whole GOP, starting at a keyframe") {
  const TempDir dir;
  const std::string out = dir.File("gop.mp4");
  REQUIRE(Remux(LongGopClip(dir), out, {}) == 4);
  Fmp4Fragments parts = Scan(out);
  REQUIRE(parts.fragments.size() == 3);
  CHECK(parts.fragments[0].duration_us == 4 * kSec);
  CHECK(parts.fragments[2].duration_us == 2 * kSec);
  for (const auto& f : parts.fragments) CHECK(f.starts_with_keyframe);
}

TEST_CASE("live: a file being written lists only its whole fragments, never a partial one") {
  const TempDir dir;
  const std::string out = dir.File("short.mp4");
  Remux(LongGopClip(dir), out, {kMicrosPerSecond, 1});
  const Fmp4Fragments whole = Scan(out);
  const Fmp4Fragment& third = whole.fragments[2];

  // Cut inside the fourth fragment's moof, inside its mdat, and right after the third.
  for (uint64_t cut :
       {third.offset + third.length + 20, third.offset + third.length + 700,
        whole.fragments[3].offset + whole.fragments[3].length - 1, third.offset + third.length}) {
    INFO("cut at " << cut);
    Fmp4Fragments parts = Scan(Prefix(out, cut, dir.File("cut.mp4")));
    REQUIRE(parts.fragments.size() == 3);
    CHECK(parts.whole_end == third.offset + third.length);
  }
  // Only the header so far: no fragments, nothing past the header to serve.
  Fmp4Fragments header_only = Scan(Prefix(out, whole.init_length, dir.File("header.mp4")));
  CHECK(header_only.fragments.empty());
  CHECK(header_only.whole_end == whole.init_length);

  // A header cut short is not a fragmented MP4 yet.
  const std::string torn = Prefix(out, whole.init_length - 10, dir.File("torn.mp4"));
  int fd = ::open(torn.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  auto bad = ScanFragments(fd, fs::file_size(torn));
  ::close(fd);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().kind() == ErrorKind::kDataLoss);
}

TEST_CASE("live: the window holds at least 6 s and starts at a keyframe, across a rollover") {
  // The previous file: 4 one-second fragments, a keyframe every 2 s; the newest: 3 s so far.
  std::vector<LiveFile> files = {
      Synthetic(7, kT0, 10, {{kSec, true}, {kSec, false}, {kSec, true}, {kSec, false}}),
      Synthetic(9, kT0 + 4 * kSec, 14, {{kSec, true}, {kSec, false}, {kSec, true}})};
  // 6 s back from the newest reaches the previous file's second fragment (not a
  // keyframe), so the window goes one further back, to its first.
  std::vector<LiveEntry> w = SelectLiveWindow(files, 6 * kSec);
  REQUIRE(w.size() == 7);
  CHECK(w.front().file == 0);
  CHECK(w.front().fragment == 0);
  CHECK(w.back().file == 1);
  CHECK(w.back().fragment == 2);

  // A short window ends where it starts with a keyframe.
  w = SelectLiveWindow(files, 2 * kSec);
  REQUIRE(w.size() == 3);
  CHECK(w.front().file == 1);
  CHECK(w.front().fragment == 0);

  // No keyframe within reach: everything there is.
  std::vector<LiveFile> none = {Synthetic(3, kT0, 5, {{kSec, false}, {kSec, false}})};
  CHECK(SelectLiveWindow(none, 6 * kSec).size() == 2);
}

TEST_CASE("live: the playlist numbers fragments by run and fragment number, with no end") {
  std::vector<LiveFile> files = {
      Synthetic(7, kT0, 10, {{kSec, true}, {kSec, false}}),
      Synthetic(9, kT0 + 2 * kSec, 12, {{kSec, true}, {1'040'000, false}})};
  std::vector<LiveEntry> all = SelectLiveWindow(files, 60 * kSec);
  const std::string text = FormatLivePlaylist(files, all, /*run=*/3, /*discontinuity=*/5);
  INFO(text);
  CHECK(text.rfind("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n", 0) == 0);
  CHECK(text.find("#EXT-X-MEDIA-SEQUENCE:3000000010\n") != std::string::npos);
  CHECK(text.find("#EXT-X-DISCONTINUITY-SEQUENCE:5\n") != std::string::npos);
  CHECK(text.find("ENDLIST") == std::string::npos);
  CHECK(text.find("PLAYLIST-TYPE") == std::string::npos);
  // One map per file and one discontinuity, where the second file begins.
  const std::string map7 =
      "#EXT-X-MAP:URI=\"/api/v1/segments/7/live?purpose=system_check\",BYTERANGE=\"1000@0\"\n";
  const std::string map9 =
      "#EXT-X-MAP:URI=\"/api/v1/segments/9/live?purpose=system_check\",BYTERANGE=\"1000@0\"\n";
  REQUIRE(text.find(map7) != std::string::npos);
  REQUIRE(text.find(map9) != std::string::npos);
  CHECK(text.find("#EXT-X-DISCONTINUITY\n" + map9) != std::string::npos);
  CHECK(text.find("#EXT-X-DISCONTINUITY\n") == text.rfind("#EXT-X-DISCONTINUITY\n"));
  // Byte ranges and wall-clock times of each fragment.
  CHECK(text.find("#EXT-X-PROGRAM-DATE-TIME:" + FormatUtc(kT0 + kSec) +
                  "\n#EXTINF:1.000,\n#EXT-X-BYTERANGE:5000@6000\n") != std::string::npos);
  CHECK(text.find("#EXT-X-PROGRAM-DATE-TIME:" + FormatUtc(kT0 + 3 * kSec) +
                  "\n#EXTINF:1.040,\n#EXT-X-BYTERANGE:5000@6000\n") != std::string::npos);

  // A fragment of 1.6 s rounds to 2: the target duration follows.
  files[1].parts.fragments[1].duration_us = 1'600'000;
  CHECK(LiveTargetSeconds(files) == 2);
}

TEST_CASE("live: discontinuity numbers stay with their files as the window slides") {
  LiveDiscontinuities d;
  CHECK(d.FirstNumber("lobby", {100}) == 0);
  CHECK(d.FirstNumber("lobby", {100}) == 0);
  CHECK(d.FirstNumber("lobby", {100, 105}) == 0);  // rollover: 105 is 1
  CHECK(d.FirstNumber("lobby", {105}) == 1);       // 100 slid out
  CHECK(d.FirstNumber("lobby", {105, 111}) == 1);
  CHECK(d.FirstNumber("lobby", {111}) == 2);
  CHECK(d.FirstNumber("lobby", {130}) == 3);  // a file not seen before follows the newest
  CHECK(d.FirstNumber("yard", {101}) == 0);   // cameras count on their own
}

}  // namespace custodian::api
