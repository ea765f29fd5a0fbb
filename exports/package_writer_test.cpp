#include "exports/package_writer.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <random>

#include "base/sha256.h"
#include "base/testing/temp_dir.h"

using namespace custodian;
using namespace custodian::exports;

namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Pieces of random sizes (some larger than a buffer), as the splice appends them.
std::vector<std::string> RandomPieces(size_t total, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> pieces;
  for (size_t done = 0; done < total;) {
    size_t n = std::min<size_t>(total - done, 1 + rng() % 40000);
    std::string p(n, '\0');
    for (char& c : p) c = static_cast<char>(rng());
    pieces.push_back(std::move(p));
    done += n;
  }
  return pieces;
}

}  // namespace

TEST_CASE("files written through the writer's buffers are the bytes appended and hash to them") {
  custodian::testing::TempDir dir;
  // Buffers of three pages, so that the files cross many of them, are written directly in
  // whole pages and end with a tail through the page cache.
  PackageWriter writer(PosixFilesystem::Instance(), dir.path(), /*durable=*/true,
                       3 * kDirectWriteAlignment, 2);
  const std::vector<std::string> a = RandomPieces(200000, 1), b = RandomPieces(3 * 4096, 2);
  auto fa = writer.Open("working/a.mp4");
  auto fb = writer.Open("b.bin");
  REQUIRE(fa.ok());
  REQUIRE(fb.ok());
  std::string want_a, want_b;
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(writer.Append(*fa, reinterpret_cast<const uint8_t*>(a[i].data()), a[i].size()).ok());
    want_a += a[i];
    if (i < b.size()) {
      REQUIRE(writer.Append(*fb, reinterpret_cast<const uint8_t*>(b[i].data()), b[i].size()).ok());
      want_b += b[i];
    }
    if (i % 3 == 0) writer.Commit();
  }
  REQUIRE(writer.Close(*fa).ok());
  REQUIRE(writer.Close(*fb).ok());
  REQUIRE(writer.WriteSmall("small.txt", "a few bytes\n").ok());
  CHECK(ReadAll(dir.File("working/a.mp4")) == want_a);
  CHECK(ReadAll(dir.File("b.bin")) == want_b);
  CHECK(writer.Digest("working/a.mp4") == Sha256Hex(want_a));
  CHECK(writer.Digest("b.bin") == Sha256Hex(want_b));
  CHECK(writer.Digest("small.txt") == Sha256Hex(std::string("a few bytes\n")));
  CHECK(writer.total_bytes() ==
        static_cast<int64_t>(want_a.size() + want_b.size() + std::string("a few bytes\n").size()));
}

TEST_CASE("a disk that fills under the writer's direct writes fails the file as out of space") {
  custodian::testing::TempDir dir;
  FaultInjectingFilesystem full(PosixFilesystem::Instance());
  full.FailWritesAfter(5 * kDirectWriteAlignment);
  PackageWriter writer(full, dir.path(), /*durable=*/true, 2 * kDirectWriteAlignment, 2);
  auto f = writer.Open("working/a.mp4");
  REQUIRE(f.ok());
  const std::string bytes(kDirectWriteAlignment, 'x');
  Status st = Status::Ok();
  for (int i = 0; i < 16 && st.ok(); ++i) {
    st = writer.Append(*f, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  if (st.ok()) st = writer.Close(*f);
  REQUIRE(st.kind() == ErrorKind::kResourceExhausted);
  CHECK(st.message().find("(injected)") != std::string::npos);
}
