#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "base/filesystem.h"
#include "base/sha256.h"
#include "media/fmp4_writer.h"
#include "media/mp4_scan.h"
#include "media/probe.h"

using namespace custodian;
using namespace custodian::media;

namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/custodian-media-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return tmpl;
}

// A 6 s, 25 fps H.264 clip with a keyframe every second, as ffmpeg's own fragmented MP4.
std::string MakeSourceClip(const std::string& dir) {
  std::string path = dir + "/source.mp4";
  std::string cmd =
      "ffmpeg -loglevel error -y -f lavfi -i testsrc=size=320x240:rate=25 -t 6 "
      "-c:v libx264 -preset ultrafast -g 25 -keyint_min 25 -sc_threshold 0 -pix_fmt yuv420p "
      "-movflags frag_keyframe+empty_moov+default_base_moof " + path;
  REQUIRE(std::system(cmd.c_str()) == 0);
  return path;
}

// Copies every packet of `in` through FragmentedMp4Writer into `out`.
FragmentedMp4Writer* Remux(const std::string& in, const std::string& out,
                           std::unique_ptr<FragmentedMp4Writer>* keep) {
  AVFormatContext* raw = nullptr;
  REQUIRE(avformat_open_input(&raw, in.c_str(), nullptr, nullptr) == 0);
  InputContext ic(raw);
  REQUIRE(avformat_find_stream_info(raw, nullptr) >= 0);
  auto file = PosixFilesystem::Instance().Create(out);
  REQUIRE(file.ok());
  auto w = FragmentedMp4Writer::Open(std::move(file).value(),
                                     {{raw->streams[0]->codecpar, raw->streams[0]->time_base}});
  REQUIRE(w.ok());
  Packet pkt = MakePacket();
  while (av_read_frame(raw, pkt.get()) >= 0) {
    REQUIRE((*w)->Write(*pkt).ok());
    av_packet_unref(pkt.get());
  }
  REQUIRE((*w)->Finish().ok());
  *keep = std::move(w).value();
  return keep->get();
}

}  // namespace

TEST_CASE("the fragmented MP4 writer copies every frame and hashes what it writes") {
  std::string dir = TempDir();
  std::string src = MakeSourceClip(dir);
  std::unique_ptr<FragmentedMp4Writer> keep;
  FragmentedMp4Writer* w = Remux(src, dir + "/copy.mp4", &keep);

  REQUIRE(w->video_frames() == 150);
  REQUIRE(w->duration_us() == 6'000'000);
  REQUIRE(w->bytes() == *PosixFilesystem::Instance().FileSize(dir + "/copy.mp4"));
  REQUIRE(w->sha256() == *Sha256File(dir + "/copy.mp4"));

  auto layout = ScanFragmentedMp4(dir + "/copy.mp4");
  REQUIRE(layout.ok());
  REQUIRE(layout->has_header);
  REQUIRE(layout->complete);
  REQUIRE(layout->fragments == 6);

  auto probe = ProbeFile(dir + "/copy.mp4", /*decode=*/true);
  REQUIRE(probe.ok());
  REQUIRE(probe->video_codec == "h264");
  REQUIRE(probe->width == 320);
  REQUIRE(probe->video_frames == 150);
  REQUIRE(probe->keyframes == 6);
  REQUIRE(probe->decode_errors == 0);
  REQUIRE(probe->duration_us == 6'000'000);
}

TEST_CASE("a segment cut at any byte is trimmed to its last whole fragment and still plays") {
  std::string dir = TempDir();
  std::string src = MakeSourceClip(dir);
  std::unique_ptr<FragmentedMp4Writer> keep;
  Remux(src, dir + "/full.mp4", &keep);
  uint64_t size = *PosixFilesystem::Instance().FileSize(dir + "/full.mp4");

  for (uint64_t cut : {size / 7, size / 3, size / 2, size - 100, size - 1}) {
    std::string path = dir + "/cut.mp4";
    std::string cmd = "cp " + dir + "/full.mp4 " + path;
    REQUIRE(std::system(cmd.c_str()) == 0);
    REQUIRE(PosixFilesystem::Instance().Truncate(path, cut).ok());
    auto layout = ScanFragmentedMp4(path);
    REQUIRE(layout.ok());
    REQUIRE_FALSE(layout->complete);
    REQUIRE(layout->valid_end <= cut);
    REQUIRE(PosixFilesystem::Instance().Truncate(path, layout->valid_end).ok());
    auto probe = ProbeFile(path, true);
    REQUIRE(probe.ok());
    REQUIRE(probe->video_frames == layout->fragments * 25);
    REQUIRE(probe->decode_errors == 0);
    REQUIRE(probe->duration_us == layout->fragments * 1'000'000);
  }
}

TEST_CASE("a file with no complete header has nothing to keep") {
  std::string dir = TempDir();
  auto f = PosixFilesystem::Instance().Create(dir + "/torn.mp4");
  REQUIRE(f.ok());
  const unsigned char ftyp_partial[] = {0, 0, 0, 32, 'f', 't', 'y', 'p', 'i', 's'};
  REQUIRE((*f)->Append(ftyp_partial, sizeof ftyp_partial).ok());
  REQUIRE((*f)->Close().ok());
  auto layout = ScanFragmentedMp4(dir + "/torn.mp4");
  REQUIRE(layout.ok());
  REQUIRE_FALSE(layout->has_header);
  REQUIRE(layout->valid_end == 0);
}
