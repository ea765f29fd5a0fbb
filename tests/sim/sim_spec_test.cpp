// Unit tests of the simulator's text formats and clip cache (no RTSP, no GStreamer).
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/sim/media_cache.h"
#include "tests/sim/media_spec.h"
#include "tests/sim/sim_command.h"
#include "tests/sim/stream_spec.h"

using namespace custodian;
using namespace custodian::sim;

TEST_CASE("a stream spec with only a name gets camera-like defaults") {
  auto spec = ParseStreamSpec("lobby");
  REQUIRE(spec.ok());
  CHECK(spec->name == "lobby");
  CHECK(spec->source == SourceKind::kFile);
  CHECK(spec->media.codec == VideoCodec::kH264);
  CHECK(spec->media.width == 1280);
  CHECK(spec->media.height == 720);
  CHECK(spec->media.fps == 25);
  CHECK(EffectiveGop(spec->media) == 50);
  CHECK_FALSE(spec->media.audio);
  CHECK(spec->user.empty());
}

TEST_CASE("a stream spec sets every documented key") {
  auto spec = ParseStreamSpec(
      "yard-2:codec=h265,width=640,height=360,fps=15,bitrate=500,gop=45,audio=aac,"
      "source=pattern,clip=4,input=pattern,user=admin,password=pw,bframes=2");
  REQUIRE(spec.ok());
  CHECK(spec->name == "yard-2");
  CHECK(spec->media.codec == VideoCodec::kH265);
  CHECK(spec->media.width == 640);
  CHECK(spec->media.height == 360);
  CHECK(spec->media.fps == 15);
  CHECK(spec->media.bitrate_kbps == 500);
  CHECK(spec->media.gop_frames == 45);
  CHECK(spec->media.bframes == 2);
  CHECK(spec->media.audio);
  CHECK(spec->source == SourceKind::kPattern);
  CHECK(spec->media.seconds == 4);
  CHECK(spec->media.input == "pattern");
  CHECK(spec->user == "admin");
  CHECK(spec->password == "pw");
}

TEST_CASE("a stream spec rejects unknown keys, bad values and bad names") {
  CHECK_FALSE(ParseStreamSpec("lobby:colour=red").ok());
  CHECK_FALSE(ParseStreamSpec("lobby:codec=vp8").ok());
  CHECK_FALSE(ParseStreamSpec("lobby:width=abc").ok());
  CHECK_FALSE(ParseStreamSpec("lobby:width=641").ok());  // odd sizes do not encode
  CHECK_FALSE(ParseStreamSpec("lobby:fps").ok());
  CHECK_FALSE(ParseStreamSpec("lobby:user=admin").ok());  // password missing
  CHECK(ParseStreamSpec("lobby:clock_offset=-30")->clock_offset_s == -30);
  CHECK_FALSE(ParseStreamSpec("lobby:clock_offset=soon").ok());
  CHECK_FALSE(ParseStreamSpec("lob/by").ok());
  CHECK_FALSE(ParseStreamSpec(":codec=h264").ok());
  CHECK_FALSE(ParseStreamSpec("lobby:source=pattern,file=/tmp/x.mkv").ok());
  CHECK_FALSE(ParseStreamSpec("lobby:bframes=17").ok());  // more than x264 or x265 take
}

TEST_CASE("fault commands parse with their targets and durations") {
  auto drop = ParseSimCommand("  drop   all ");
  REQUIRE(drop.ok());
  CHECK(drop->kind == SimCommand::Kind::kDrop);
  CHECK(drop->target == "all");
  CHECK(drop->text == "drop all");

  auto stall = ParseSimCommand("stall lobby 2.5");
  REQUIRE(stall.ok());
  CHECK(stall->kind == SimCommand::Kind::kStall);
  CHECK(stall->duration_us == 2'500'000);

  auto refuse = ParseSimCommand("refuse yard 3");
  REQUIRE(refuse.ok());
  CHECK(refuse->kind == SimCommand::Kind::kRefuse);
  CHECK(refuse->duration_us == 3'000'000);

  CHECK(ParseSimCommand("quit").ok());
  CHECK(ParseSimCommand("clients lobby").ok());
  CHECK_FALSE(ParseSimCommand("clients all").ok());
  CHECK_FALSE(ParseSimCommand("stall lobby").ok());
  CHECK_FALSE(ParseSimCommand("stall lobby -1").ok());
  CHECK_FALSE(ParseSimCommand("drop").ok());
  CHECK_FALSE(ParseSimCommand("reboot all").ok());
  CHECK_FALSE(ParseSimCommand("").ok());
}

TEST_CASE("a media spec survives the trip through custodian-sim flags") {
  MediaSpec in = Benchmark1080pSpec();
  in.codec = VideoCodec::kH265;
  in.audio = true;
  in.bframes = 3;
  in.input = "/srv/clips/car park.avi";
  std::vector<std::string> flags = ToMediaFlags(in);
  MediaSpec out;
  for (size_t i = 0; i < flags.size();) REQUIRE(ParseMediaFlag(flags, &i, &out).ok());
  CHECK(MediaFileName(out) == MediaFileName(in));
  CHECK(out.input == in.input);
  CHECK(out.bframes == 3);

  size_t i = 0;
  std::vector<std::string> other = {"--stream", "x"};
  CHECK(ParseMediaFlag(other, &i, &out).kind() == ErrorKind::kNotFound);
}

TEST_CASE("clip names tell different parameters apart") {
  MediaSpec a;
  MediaSpec b = a;
  b.bitrate_kbps += 1;
  MediaSpec c = a;
  c.input = "/x/vtest.avi";
  MediaSpec d = a;
  d.input = "/y/vtest.avi";
  CHECK(MediaFileName(a) == "h264-1280x720-25fps-2000k-gop50-10s-vtest.r1.mkv");
  CHECK(MediaFileName(a) != MediaFileName(b));
  CHECK(MediaFileName(c) != MediaFileName(d));
  MediaSpec e = a;
  e.bframes = 2;
  CHECK(MediaFileName(e) == "h264-1280x720-25fps-2000k-gop50-10s-b2-vtest.r1.mkv");
  CHECK(MediaFileName(Benchmark1080pSpec()) == "h264-1920x1080-25fps-4000k-gop50-20s-vtest.r1.mkv");
}

TEST_CASE("the clip cache encodes a clip once and then reuses it") {
  char dir_template[] = "/tmp/custodian-sim-cache-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  std::string dir = std::string(dir_template) + "/clips";
  int encodes = 0;
  MediaEncoder fake = [&](const MediaSpec&, const std::string& out) {
    ++encodes;
    std::ofstream(out) << "clip";
    return Status::Ok();
  };
  MediaSpec spec;
  auto first = EnsureCachedMedia(spec, dir, fake);
  REQUIRE(first.ok());
  auto second = EnsureCachedMedia(spec, dir, fake);
  REQUIRE(second.ok());
  CHECK(*first == *second);
  CHECK(encodes == 1);

  MediaEncoder failing = [](const MediaSpec&, const std::string&) {
    return Internal("encoder broke");
  };
  spec.seconds = 3;
  CHECK_FALSE(EnsureCachedMedia(spec, dir, failing).ok());
  std::ifstream partial(dir + "/" + MediaFileName(spec) + ".partial");
  CHECK_FALSE(partial.good());
  std::filesystem::remove_all(dir_template);
}
