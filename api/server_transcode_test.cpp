// The H.264 copy of a segment over real HTTPS (transcoded_footage.h): it is footage like the
// file's own bytes, with the same purpose, permission and viewing rules, and bad input is
// refused with a reason and logged.
#include <nlohmann/json.hpp>
#include <string>

#include "api/testing/api_fixture.h"

namespace custodian::api::testing {
namespace {

using records::AccessResult;
using records::Role;
using json = nlohmann::json;

struct Copy {
  std::string bytes;
  int requests = 0;
  std::string first_entry;  // X-Access-Entry of the first piece
};

// Takes the copy piece by piece, as the browser's player does, until it is complete.
Copy TakeCopy(ApiServerFixture& f, const std::string& file, const SignedIn& who) {
  Copy c;
  for (int i = 0; i < 200; ++i) {
    auto r = f.Get(file + "?transcode=h264&offset=" + std::to_string(c.bytes.size()) + "&" +
                       PurposeParams(),
                   who);
    INFO(r.body.substr(0, 200));
    REQUIRE(r.status == 200);
    CHECK(r.Header("content-type") == "video/mp4");
    if (c.first_entry.empty()) c.first_entry = r.Header("x-access-entry");
    CHECK(r.Header("x-access-entry") == c.first_entry);
    c.bytes += r.body;
    ++c.requests;
    if (r.Header("x-transcode-complete") == "yes") return c;
  }
  FAIL("the copy never completed");
  return c;
}

}  // namespace

TEST_CASE("api the H.264 copy of a segment is one viewing, logged with its purpose before it is sent") {
  ApiServerFixture f;
  f.AddUser("sam", Role::kStaff, {"door-1"});
  const int64_t id = f.AddSegment("door-1", kFootageT0);
  const std::string file = "/api/v1/segments/" + std::to_string(id) + "/file";
  SignedIn sam = f.Login("sam");
  const size_t before = f.AccessLog().size();

  Copy c = TakeCopy(f, file, sam);
  CHECK(c.bytes.compare(4, 4, "ftyp") == 0);
  CHECK(c.bytes.find("avcC") != std::string::npos);
  CHECK(c.bytes.find("moof") != std::string::npos);
  auto log = f.AccessLog();
  REQUIRE(log.size() == before + 1);  // the pieces join the first one's viewing
  const records::AccessEntry& e = log.back();
  CHECK(std::to_string(e.id) == c.first_entry);
  CHECK(e.action == "download");
  CHECK(e.camera_id == "door-1");
  CHECK(e.purpose_text == kPurposeText);
  CHECK(e.result == AccessResult::kOk);
  CHECK(e.from == kFootageT0);
  CHECK(e.detail.find("transcoded to H.264") != std::string::npos);

  SECTION("a second reader gets the same copy") {
    f.AddUser("dee", Role::kDpo, {"door-1"});
    CHECK(TakeCopy(f, file, f.Login("dee")).bytes == c.bytes);
  }
}

TEST_CASE("api the H.264 copy needs the purpose and the camera, and refuses other codecs and offsets") {
  ApiServerFixture f;
  f.AddUser("sam", Role::kStaff, {"door-1"});
  f.AddUser("nat", Role::kStaff, {"yard"});
  const int64_t id = f.AddSegment("door-1", kFootageT0);
  const std::string file = "/api/v1/segments/" + std::to_string(id) + "/file";
  SignedIn sam = f.Login("sam");

  struct Case {
    std::string target;
    std::optional<SignedIn> who;
    int status;
    AccessResult logged;  // bad input is logged as refused, like every footage route's
    std::string says;
  };
  const std::vector<Case> cases = {
      {file + "?transcode=h264", sam, 400, AccessResult::kDenied, "purpose"},
      {file + "?transcode=h264&" + PurposeParams(), f.Login("nat"), 403, AccessResult::kDenied,
       ""},
      {file + "?transcode=vp9&" + PurposeParams(), sam, 400, AccessResult::kDenied, "h264"},
      {file + "?transcode=h264&offset=-1&" + PurposeParams(), sam, 400, AccessResult::kDenied,
       "offset"},
      {file + "?transcode=h264&offset=99999999&" + PurposeParams(), sam, 400,
       AccessResult::kDenied, "past"},
  };
  for (const Case& c : cases) {
    INFO(c.target);
    const size_t before = f.AccessLog().size();
    auto r = f.Get(c.target, c.who);
    CHECK(r.status == c.status);
    CHECK(r.body.find("ftyp") == std::string::npos);
    if (!c.says.empty()) {
      CHECK(json::parse(r.body)["error"]["message"].get<std::string>().find(c.says) !=
            std::string::npos);
    }
    auto log = f.AccessLog();
    REQUIRE(log.size() == before + 1);
    CHECK(log.back().result == c.logged);
    CHECK(log.back().camera_id == "door-1");
  }
}

}  // namespace custodian::api::testing
