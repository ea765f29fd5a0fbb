#include "api/byte_range.h"

#include <catch2/catch.hpp>

namespace custodian::api {
namespace {

using K = ByteRange::Kind;

TEST_CASE("api byte ranges: first-last, open-ended and suffix forms") {
  auto r = ParseByteRange("bytes=0-99", 1000);
  CHECK(r.kind == K::kPartial);
  CHECK(r.offset == 0);
  CHECK(r.length == 100);
  r = ParseByteRange("bytes=900-", 1000);
  CHECK((r.kind == K::kPartial && r.offset == 900 && r.length == 100));
  r = ParseByteRange("bytes=-100", 1000);
  CHECK((r.kind == K::kPartial && r.offset == 900 && r.length == 100));
  r = ParseByteRange("bytes=-5000", 1000);
  CHECK((r.kind == K::kPartial && r.offset == 0 && r.length == 1000));
  r = ParseByteRange("bytes=990-5000", 1000);
  CHECK((r.kind == K::kPartial && r.offset == 990 && r.length == 10));
}

TEST_CASE("api byte ranges past the end are unsatisfiable") {
  CHECK(ParseByteRange("bytes=1000-", 1000).kind == K::kUnsatisfiable);
  CHECK(ParseByteRange("bytes=5000-6000", 1000).kind == K::kUnsatisfiable);
  CHECK(ParseByteRange("bytes=-0", 1000).kind == K::kUnsatisfiable);
  CHECK(ParseByteRange("bytes=0-", 0).kind == K::kUnsatisfiable);
}

TEST_CASE("api byte ranges that are malformed or multiple are ignored") {
  for (const char* h : {"", "bytes", "items=0-1", "bytes=a-b", "bytes=5-1", "bytes=0-1,5-6",
                        "bytes=--1", "bytes=+1-2", "bytes=99999999999999999999-"}) {
    INFO(h);
    auto r = ParseByteRange(h, 1000);
    CHECK(r.kind == K::kWhole);
    CHECK(r.length == 1000);
  }
}

}  // namespace
}  // namespace custodian::api
