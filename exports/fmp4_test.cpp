#include "exports/fmp4.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>

#include "exports/testing.h"

using namespace custodian;
using namespace custodian::exports;
using namespace custodian::exports::testing;

namespace {

std::vector<uint8_t> Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("a recorder-style segment parses into one fragment per keyframe interval") {
  auto bytes = Slurp(SegmentClip(320, 240, 4));
  auto file = ParseFmp4(bytes.data(), bytes.size());
  INFO(file.status().ToString());
  REQUIRE(file.ok());
  REQUIRE(file->tracks.size() == 1);
  REQUIRE(file->video().handler == "vide");
  REQUIRE(file->width == 320);
  REQUIRE(file->height == 240);
  REQUIRE(file->video_codec == "avc1");
  REQUIRE(file->fragments.size() == 4);
  uint64_t expected_time = 0;
  for (const Fmp4Fragment& f : file->fragments) {
    const TrafTiming* t = file->VideoTiming(f);
    REQUIRE(t != nullptr);
    REQUIRE(t->starts_with_sync);
    REQUIRE(t->decode_time == expected_time);
    REQUIRE(t->duration == file->video().timescale);  // one second each
    expected_time += t->duration;
  }
  REQUIRE(file->header_size < file->fragments.front().moof_offset + 1);
}

TEST_CASE("a change of picture size changes the splice signature") {
  auto small_a = Slurp(SegmentClip(320, 240, 2));
  auto small_b = Slurp(SegmentClip(320, 240, 3));
  auto large = Slurp(SegmentClip(640, 360, 2));
  auto a = ParseFmp4(small_a.data(), small_a.size());
  auto b = ParseFmp4(small_b.data(), small_b.size());
  auto c = ParseFmp4(large.data(), large.size());
  REQUIRE((a.ok() && b.ok() && c.ok()));
  REQUIRE(a->signature == b->signature);
  REQUIRE(a->signature != c->signature);
  REQUIRE(c->width == 640);
}

TEST_CASE("a patched moof carries the new sequence number and decode time") {
  auto bytes = Slurp(SegmentClip(320, 240, 2));
  auto file = ParseFmp4(bytes.data(), bytes.size());
  REQUIRE(file.ok());
  const Fmp4Fragment& f = file->fragments[1];
  auto moof = PatchMoof(bytes.data(), f, *file, 77, {123456789012ULL});
  REQUIRE(moof.ok());
  REQUIRE(moof->size() == f.moof_size);
  // Put the patched moof back and parse again.
  std::copy(moof->begin(), moof->end(), bytes.begin() + static_cast<long>(f.moof_offset));
  auto again = ParseFmp4(bytes.data(), bytes.size());
  REQUIRE(again.ok());
  REQUIRE(again->VideoTiming(again->fragments[1])->decode_time == 123456789012ULL);
  const uint8_t* seq = bytes.data() + f.moof_offset + f.mfhd_offset + 12;
  REQUIRE(((seq[0] << 24) | (seq[1] << 16) | (seq[2] << 8) | seq[3]) == 77);
}

TEST_CASE("a truncated or foreign file is refused, not misread") {
  auto bytes = Slurp(SegmentClip(320, 240, 2));
  auto cut = ParseFmp4(bytes.data(), bytes.size() - 100);
  REQUIRE(cut.status().kind() == ErrorKind::kDataLoss);
  const std::string text = "this is not an mp4 file at all";
  auto junk = ParseFmp4(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  REQUIRE_FALSE(junk.ok());
  REQUIRE_FALSE(ParseFmp4(bytes.data(), 0).ok());
}
