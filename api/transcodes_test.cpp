// The H.264 copy for browsers without an H.265 decoder: a real H.265 clip (libx265 through
// the ffmpeg CLI) written as the recorder writes segments, transcoded through the cache
// as playback and live view read it, and the output read back with libavformat.
#include "api/transcodes.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "api/live.h"
#include "base/filesystem.h"
#include "base/testing/temp_dir.h"
#include "media/av_util.h"
#include "media/fmp4_writer.h"

namespace custodian::api {
namespace {

namespace fs = std::filesystem;

// A fresh directory, removed with everything in it at the end of the test.
class TempDir : public ::custodian::testing::TempDir {
 public:
  TempDir() : ::custodian::testing::TempDir("custodian-transcode") {}
};

// 4 s of 25 fps H.265 with B-frames and a keyframe every second, as a camera sends it,
// stored as the recorder stores it: one-second fragments starting at keyframes.
std::string HevcSegment(const TempDir& dir, const std::string& size = "320x240",
                        int seconds = 4) {
  const std::string raw = dir.File("camera.mp4"), out = dir.File("segment.mp4");
  const std::string cmd =
      std::string(CUSTODIAN_FFMPEG_CLI) +
      " -nostdin -loglevel error -y -f lavfi -i testsrc=size=" + size + ":rate=25 -t " +
      std::to_string(seconds) +
      " -c:v libx265 -preset ultrafast -x265-params "
      "log-level=none:keyint=25:min-keyint=25:scenecut=0:open-gop=0:bframes=2 "
      "-pix_fmt yuv420p " + raw;
  REQUIRE(std::system(cmd.c_str()) == 0);
  AVFormatContext* ctx = nullptr;
  REQUIRE(avformat_open_input(&ctx, raw.c_str(), nullptr, nullptr) == 0);
  media::InputContext in(ctx);
  REQUIRE(avformat_find_stream_info(ctx, nullptr) >= 0);
  auto file = PosixFilesystem::Instance().Create(out);
  REQUIRE(file.ok());
  auto w = media::FragmentedMp4Writer::Open(std::move(file).value(),
                                            {{ctx->streams[0]->codecpar, ctx->streams[0]->time_base}},
                                            {kMicrosPerSecond, 1});
  REQUIRE(w.ok());
  media::Packet pkt = media::MakePacket();
  while (av_read_frame(ctx, pkt.get()) >= 0) {
    REQUIRE((*w)->Write(*pkt).ok());
    av_packet_unref(pkt.get());
  }
  REQUIRE((*w)->Finish().ok());
  return out;
}

struct Probed {
  std::string codec;
  int width = 0, height = 0, frames = 0;
};

// Decodes every picture of an MP4 file with libavformat and libavcodec.
Probed Probe(const std::string& path) {
  Probed p;
  AVFormatContext* ctx = nullptr;
  REQUIRE(avformat_open_input(&ctx, path.c_str(), nullptr, nullptr) == 0);
  media::InputContext in(ctx);
  REQUIRE(avformat_find_stream_info(ctx, nullptr) >= 0);
  const AVCodecParameters* par = ctx->streams[0]->codecpar;
  p.codec = media::CodecName(par->codec_id);
  p.width = par->width;
  p.height = par->height;
  const AVCodec* codec = avcodec_find_decoder(par->codec_id);
  AVCodecContext* dec = avcodec_alloc_context3(codec);
  REQUIRE(avcodec_parameters_to_context(dec, par) >= 0);
  REQUIRE(avcodec_open2(dec, codec, nullptr) == 0);
  AVFrame* frame = av_frame_alloc();
  media::Packet pkt = media::MakePacket();
  auto drain = [&] {
    while (avcodec_receive_frame(dec, frame) == 0) ++p.frames;
  };
  while (av_read_frame(ctx, pkt.get()) >= 0) {
    avcodec_send_packet(dec, pkt.get());
    av_packet_unref(pkt.get());
    drain();
  }
  avcodec_send_packet(dec, nullptr);
  drain();
  av_frame_free(&frame);
  avcodec_free_context(&dec);
  return p;
}

struct Opened {
  explicit Opened(const std::string& path) : fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    REQUIRE(fd >= 0);
  }
  ~Opened() { ::close(fd); }
  int fd;
};

// Reads a transcode from offset 0 until it says it is complete.
std::string ReadAll(TranscodeCache& cache, const TranscodeKey& key, int fd, uint64_t size) {
  std::string all;
  for (int i = 0; i < 100; ++i) {
    auto chunk = cache.Read(key, fd, size, /*closed=*/true, all.size());
    INFO(chunk.status().ToString());
    REQUIRE(chunk.ok());
    all += chunk->bytes;
    if (chunk->complete) return all;
  }
  FAIL("the transcode never completed");
  return all;
}

}  // namespace

TEST_CASE("transcode: a recorded H.265 segment becomes H.264 with every picture, read in pieces") {
  TempDir dir;
  const std::string segment = HevcSegment(dir);
  Opened f(segment);
  TranscodeCache cache({1280, 720}, 64 << 20);
  const std::string copy = ReadAll(cache, {7, 0}, f.fd, fs::file_size(segment));
  std::ofstream(dir.File("copy.mp4"), std::ios::binary) << copy;
  const Probed p = Probe(dir.File("copy.mp4"));
  CHECK(p.codec == "h264");
  CHECK(p.width == 320);
  CHECK(p.height == 240);
  CHECK(p.frames == 100);
  CHECK(cache.transcodes() == 1);
  CHECK(cache.bytes() == copy.size());

  SECTION("a second reader gets the same bytes from the cache") {
    CHECK(ReadAll(cache, {7, 0}, f.fd, fs::file_size(segment)) == copy);
  }
}

TEST_CASE("transcode: a file still being written is followed as it grows, from a keyframe") {
  TempDir dir;
  const std::string segment = HevcSegment(dir);
  Opened f(segment);
  auto parts = ScanFragments(f.fd, fs::file_size(segment));
  REQUIRE(parts.ok());
  REQUIRE(parts->fragments.size() == 4);
  TranscodeCache cache({1280, 720}, 64 << 20);
  // Live view asks from the second fragment while only three are whole.
  const TranscodeKey key{9, parts->fragments[1].number};
  const uint64_t three = parts->fragments[2].offset + parts->fragments[2].length;
  std::string copy;
  auto first = cache.Read(key, f.fd, three, /*closed=*/false, 0);
  REQUIRE(first.ok());
  CHECK_FALSE(first->complete);
  CHECK(first->from_us == parts->fragments[1].decode_us);
  CHECK(first->to_us == parts->fragments[2].decode_us + parts->fragments[2].duration_us);
  copy += first->bytes;
  // Nothing new on disk: nothing new to send, and still not complete.
  auto again = cache.Read(key, f.fd, three, /*closed=*/false, copy.size());
  REQUIRE(again.ok());
  CHECK(again->bytes.empty());
  CHECK_FALSE(again->complete);
  // The file is closed with its fourth fragment.
  auto rest = cache.Read(key, f.fd, fs::file_size(segment), /*closed=*/true, copy.size());
  REQUIRE(rest.ok());
  CHECK(rest->complete);
  CHECK_FALSE(rest->bytes.empty());
  copy += rest->bytes;
  std::ofstream(dir.File("live.mp4"), std::ios::binary) << copy;
  const Probed p = Probe(dir.File("live.mp4"));
  CHECK(p.codec == "h264");
  CHECK(p.frames == 75);  // fragments 2 to 4
}

TEST_CASE("transcode: pictures larger than the limit are scaled down, keeping their shape") {
  TempDir dir;
  const std::string segment = HevcSegment(dir);
  Opened f(segment);
  TranscodeCache cache({160, 160}, 64 << 20);
  const std::string copy = ReadAll(cache, {1, 0}, f.fd, fs::file_size(segment));
  std::ofstream(dir.File("small.mp4"), std::ios::binary) << copy;
  const Probed p = Probe(dir.File("small.mp4"));
  CHECK(p.width == 160);
  CHECK(p.height == 120);
}

TEST_CASE("transcode: a file that is not a recording is refused with a reason, and an offset past the copy") {
  TempDir dir;
  const std::string junk = dir.File("junk.mp4");
  std::ofstream(junk, std::ios::binary) << std::string(5000, 'x');
  Opened bad(junk);
  TranscodeCache cache({1280, 720}, 64 << 20);
  auto r = cache.Read({2, 0}, bad.fd, 5000, true, 0);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().kind() == ErrorKind::kDataLoss);

  const std::string segment = HevcSegment(dir);
  Opened f(segment);
  const std::string copy = ReadAll(cache, {3, 0}, f.fd, fs::file_size(segment));
  auto past = cache.Read({3, 0}, f.fd, fs::file_size(segment), true, copy.size() + 1);
  REQUIRE_FALSE(past.ok());
  CHECK(past.status().kind() == ErrorKind::kInvalidArgument);
}

TEST_CASE("transcode: copies beyond the memory limit are dropped, least recently used first") {
  TempDir dir;
  const std::string segment = HevcSegment(dir);
  Opened f(segment);
  TranscodeCache probe({1280, 720}, 64 << 20);
  const uint64_t one = ReadAll(probe, {1, 0}, f.fd, fs::file_size(segment)).size();
  TranscodeCache cache({1280, 720}, one * 2 + one / 2);
  for (int64_t id = 1; id <= 3; ++id) ReadAll(cache, {id, 0}, f.fd, fs::file_size(segment));
  CHECK(cache.transcodes() == 2);
  CHECK(cache.bytes() <= one * 2 + one / 2);
}

// Not run by ctest: `api_live_test "[.measure]"`. One viewer's copy of 1080p H.265 (the
// cache's 1280x720 limit), timed as CPU and wall clock against the media's duration.
TEST_CASE("transcode: speed of one 1080p viewer's copy", "[.measure]") {
  TempDir dir;
  constexpr int kSeconds = 20;
  const std::string segment = HevcSegment(dir, "1920x1080", kSeconds);
  Opened f(segment);
  TranscodeCache cache({1280, 720}, 256 << 20);
  const auto wall0 = std::chrono::steady_clock::now();
  const std::clock_t cpu0 = std::clock();
  std::string copy;
  double first_piece_s = -1;
  for (int i = 0; i < 1000; ++i) {
    auto chunk = cache.Read({1, 0}, f.fd, fs::file_size(segment), true, copy.size());
    REQUIRE(chunk.ok());
    if (first_piece_s < 0) {
      first_piece_s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    }
    copy += chunk->bytes;
    if (chunk->complete) break;
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  std::printf("transcode 1080p H.265 -> 720p H.264, %d s of media: wall %.2f s (%.2fx real time), "
              "cpu %.2f s, first piece after %.2f s, %zu bytes\n",
              kSeconds, wall, kSeconds / wall, cpu, first_piece_s, copy.size());
  CHECK(wall > 0);
}

}  // namespace custodian::api
