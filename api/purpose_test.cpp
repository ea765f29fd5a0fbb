#include "api/purpose.h"

#include <catch2/catch.hpp>

namespace custodian::api {
namespace {

HttpRequest WithQuery(const std::string& target) {
  HttpRequest r;
  r.target = target;
  SplitTarget(target, &r.path, &r.query);
  return r;
}

TEST_CASE("api purpose comes from query parameters or headers") {
  auto q = PurposeOf(WithQuery("/x?purpose=incident_review&purpose_text=fight+at+the+door"));
  REQUIRE(q.ok());
  CHECK(q->category == "incident_review");
  CHECK(q->text == "fight at the door");
  HttpRequest h;
  h.headers = {{"x-purpose", "safeguarding"}, {"x-purpose-text", "resident welfare check"}};
  auto p = PurposeOf(h);
  REQUIRE(p.ok());
  CHECK(p->category == "safeguarding");
}

TEST_CASE("api purpose is refused when missing, unknown or without a reason") {
  CHECK(PurposeOf(WithQuery("/x")).status().kind() == ErrorKind::kInvalidArgument);
  CHECK_FALSE(PurposeOf(WithQuery("/x?purpose=curiosity&purpose_text=just+looking")).ok());
  CHECK_FALSE(PurposeOf(WithQuery("/x?purpose=request")).ok());
  CHECK_FALSE(PurposeOf(WithQuery("/x?purpose=request&purpose_text=ab")).ok());
  CHECK_FALSE(PurposeOf(WithQuery("/x?purpose=request&purpose_text=line%0Abreak")).ok());
  CHECK_FALSE(PurposeOf(WithQuery("/x?purpose=request&purpose_text=bad%FFutf8")).ok());
  CHECK_FALSE(
      PurposeOf(WithQuery("/x?purpose=request&purpose_text=" + std::string(501, 'a'))).ok());
}

TEST_CASE("api purpose round-trips through a query string") {
  Purpose p{"request", "DSAR 2026/14 & police ref \"X\""};
  auto back = PurposeOf(WithQuery("/x?" + PurposeQuery(p)));
  REQUIRE(back.ok());
  CHECK(back->text == p.text);
}

TEST_CASE("api UTF-8 check accepts text and refuses controls and broken sequences") {
  CHECK(IsPrintableUtf8("caf\xC3\xA9 \xE2\x82\xAC"));
  CHECK_FALSE(IsPrintableUtf8("a\tb"));
  CHECK_FALSE(IsPrintableUtf8("\xC3"));
  CHECK_FALSE(IsPrintableUtf8("\xE2\x82"));
  CHECK_FALSE(IsPrintableUtf8(std::string("a\0b", 3)));
}

}  // namespace
}  // namespace custodian::api
