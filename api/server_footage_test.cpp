// Footage routes: purpose, access-log entries, ranges, playlists across segments and gaps,
// thumbnails, and the DPO's view of the log.
#include <sqlite3.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "api/testing/api_fixture.h"
#include "base/testing/temp_dir.h"
#include "exports/testing.h"

namespace custodian::api::testing {
namespace {

using records::AccessResult;
using records::Role;
using json = nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// door-1: segments [T0, T0+4s), [T0+4s, T0+8s), a gap until T0+20s, [T0+20s, T0+24s).
struct Footage {
  Footage() {
    f.AddUser("sam", Role::kStaff, {"door-1"});
    f.AddUser("dee", Role::kDpo, {"door-1"});
    a = f.AddSegment("door-1", kFootageT0);
    b = f.AddSegment("door-1", kFootageT0 + 4 * kSecond);
    c = f.AddSegment("door-1", kFootageT0 + 20 * kSecond);
    REQUIRE(f.db()
                .InsertGap({0, "door-1", kFootageT0 + 8 * kSecond, kFootageT0 + 20 * kSecond,
                            records::GapReason::kCameraOffline, "camera unreachable"})
                .ok());
    sam = f.Login("sam");
  }
  std::string File(int64_t id) { return "/api/v1/segments/" + std::to_string(id) + "/file"; }

  ApiServerFixture f;
  int64_t a = 0, b = 0, c = 0;
  SignedIn sam;
};

void CheckLogged(const records::AccessEntry& e, const std::string& action, AccessResult result) {
  CHECK(e.action == action);
  CHECK(e.user_name == "sam");
  CHECK(e.camera_id == "door-1");
  CHECK(e.purpose_category == "incident_review");
  CHECK(e.purpose_text == kPurposeText);
  CHECK(e.client == "127.0.0.1");
  CHECK(e.result == result);
}

TEST_CASE("api every footage route starts its viewing's access-log entry with the purpose") {
  Footage t;
  const std::string range = "from=" + At(kFootageT0) + "&to=" + At(kFootageT0 + 30 * kSecond);

  REQUIRE(t.f.Get(t.File(t.a) + "?" + PurposeParams(), t.sam).status == 200);
  auto e = t.f.LastAccess();
  CheckLogged(e, "download", AccessResult::kOk);
  CHECK(e.from == kFootageT0);
  CHECK(e.to == kFootageT0 + 4 * kSecond);

  // The playlist reaches further than that download: a viewing of its own, reaching the
  // segments it lists, whole.
  auto pl = t.f.Get("/api/v1/cameras/door-1/playlist.m3u8?" + range + "&" + PurposeParams(), t.sam);
  REQUIRE(pl.status == 200);
  e = t.f.LastAccess();
  CheckLogged(e, "play", AccessResult::kOk);
  CHECK(e.from == kFootageT0);
  CHECK(e.to == kFootageT0 + 24 * kSecond);
  CHECK(pl.Header("x-access-entry") == std::to_string(e.id));

  // A thumbnail within its reach joins the viewing: no entry of its own.
  const size_t entries = t.f.AccessLog().size();
  auto thumb = t.f.Get("/api/v1/cameras/door-1/thumbnail.jpg?at=" + At(kFootageT0 + kSecond) +
                           "&" + PurposeParams(),
                       t.sam);
  REQUIRE(thumb.status == 200);
  CHECK(thumb.Header("x-access-entry") == std::to_string(e.id));
  CHECK(t.f.AccessLog().size() == entries);
  // The same picture for another purpose is a viewing of its own.
  REQUIRE(t.f.Get("/api/v1/cameras/door-1/thumbnail.jpg?at=" + At(kFootageT0 + kSecond) +
                      "&purpose=safeguarding&purpose_text=resident%20welfare",
                  t.sam)
              .status == 200);
  CHECK(t.f.LastAccess().action == "thumbnail");
  CHECK(t.f.LastAccess().purpose_category == "safeguarding");

  // The purpose may come as headers instead; the same purpose joins the playback.
  auto by_header = t.f.Get(t.File(t.b), t.sam,
                           {{"X-Purpose", "incident_review"}, {"X-Purpose-Text", kPurposeText}});
  REQUIRE(by_header.status == 200);
  CHECK(by_header.Header("x-access-entry") == std::to_string(e.id));
  // The chain still verifies after all of that.
  auto verified = t.f.db().VerifyAccessLog();
  REQUIRE(verified.ok());
  CHECK(verified->ok);
}

TEST_CASE("api footage without a purpose is refused and the refusal logged") {
  Footage t;
  for (const std::string& target :
       std::vector<std::string>{t.File(t.a), t.File(t.a) + "?purpose=incident_review",
                                t.File(t.a) + "?purpose=nosiness&purpose_text=just+looking",
                                "/api/v1/cameras/door-1/playlist.m3u8?from=" + At(kFootageT0) +
                                    "&to=" + At(kFootageT0 + 8 * kSecond),
                                "/api/v1/cameras/door-1/thumbnail.jpg?at=" + At(kFootageT0)}) {
    INFO(target);
    const size_t before = t.f.AccessLog().size();
    auto r = t.f.Get(target, t.sam);
    CHECK(r.status == 400);
    CHECK(json::parse(r.body)["error"]["message"].get<std::string>().find("purpose") !=
          std::string::npos);
    auto log = t.f.AccessLog();
    REQUIRE(log.size() == before + 1);
    CHECK(log.back().result == AccessResult::kDenied);
    CHECK(log.back().camera_id == "door-1");
    CHECK(r.body.find("ftyp") == std::string::npos);
  }
  // Without a session the refusal is logged too, with no user.
  auto anon = t.f.Get(t.File(t.a) + "?" + PurposeParams());
  CHECK(anon.status == 401);
  CHECK(t.f.LastAccess().action == "download");
  CHECK(t.f.LastAccess().user_name == "(no session)");
  CHECK(t.f.LastAccess().result == AccessResult::kDenied);
}

TEST_CASE("api segment downloads honour byte ranges") {
  Footage t;
  const std::string file = ReadFile(t.f.SegmentFilePath(t.a));
  const std::string url = t.File(t.a) + "?" + PurposeParams();
  auto whole = t.f.Get(url, t.sam);
  REQUIRE(whole.status == 200);
  CHECK(whole.body == file);
  CHECK(whole.Header("content-type") == "video/mp4");
  CHECK(whole.Header("accept-ranges") == "bytes");

  auto head = t.f.Get(url, t.sam, {{"Range", "bytes=0-99"}});
  REQUIRE(head.status == 206);
  CHECK(head.body == file.substr(0, 100));
  CHECK(head.Header("content-range") == "bytes 0-99/" + std::to_string(file.size()));
  // The range joins the viewing the whole download started.
  CHECK(head.Header("x-access-entry") == whole.Header("x-access-entry"));
  CHECK(t.f.LastAccess().detail.find("whole file") != std::string::npos);

  auto tail = t.f.Get(url, t.sam, {{"Range", "bytes=-10"}});
  REQUIRE(tail.status == 206);
  CHECK(tail.body == file.substr(file.size() - 10));

  auto mid = t.f.Get(url, t.sam, {{"Range", "bytes=1000-"}});
  REQUIRE(mid.status == 206);
  CHECK(mid.body == file.substr(1000));

  auto beyond = t.f.Get(url, t.sam, {{"Range", "bytes=" + std::to_string(file.size()) + "-"}});
  CHECK(beyond.status == 416);
  CHECK(beyond.Header("content-range") == "bytes */" + std::to_string(file.size()));
  CHECK(t.f.LastAccess().result == AccessResult::kError);

  auto multi = t.f.Get(url, t.sam, {{"Range", "bytes=0-1,5-6"}});
  CHECK(multi.status == 200);
  CHECK(multi.body.size() == file.size());
}

TEST_CASE("api a time range across segments and a gap: timeline and playlist") {
  Footage t;
  const std::string range =
      "from=" + At(kFootageT0 + 2 * kSecond) + "&to=" + At(kFootageT0 + 22 * kSecond);
  auto tl = t.f.Get("/api/v1/cameras/door-1/timeline?" + range, t.sam);
  REQUIRE(tl.status == 200);
  auto j = json::parse(tl.body);
  REQUIRE(j["segments"].size() == 3);
  CHECK(j["segments"][0]["start"] == At(kFootageT0));
  CHECK(j["segments"][2]["start"] == At(kFootageT0 + 20 * kSecond));
  REQUIRE(j["gaps"].size() == 1);
  CHECK(j["gaps"][0]["reason"] == "camera_offline");
  CHECK(j["gaps"][0]["start"] == At(kFootageT0 + 8 * kSecond));

  auto pl = t.f.Get("/api/v1/cameras/door-1/playlist.m3u8?" + range + "&" + PurposeParams(), t.sam);
  REQUIRE(pl.status == 200);
  CHECK(pl.Header("content-type") == "application/vnd.apple.mpegurl");
  size_t maps = 0;
  for (size_t at = pl.body.find("#EXT-X-MAP"); at != std::string::npos;
       at = pl.body.find("#EXT-X-MAP", at + 1)) {
    ++maps;
  }
  CHECK(maps == 3);
  CHECK(pl.body.find("#EXT-X-PROGRAM-DATE-TIME:" + At(kFootageT0 + 20 * kSecond)) !=
        std::string::npos);
  CHECK(t.f.LastAccess().detail.find(": 3 segments") != std::string::npos);

  // The player follows the playlist: its byte ranges are the init section and fragments.
  const size_t uri_at = pl.body.find("URI=\"") + 5;
  const std::string uri = pl.body.substr(uri_at, pl.body.find('"', uri_at) - uri_at);
  CHECK(uri.find("purpose=incident_review") != std::string::npos);
  const size_t br = pl.body.find("#EXT-X-BYTERANGE:") + 17;
  const std::string spec = pl.body.substr(br, pl.body.find('\n', br) - br);
  const uint64_t len = std::stoull(spec.substr(0, spec.find('@')));
  const uint64_t off = std::stoull(spec.substr(spec.find('@') + 1));
  auto media =
      t.f.Get(uri, t.sam,
              {{"Range", "bytes=" + std::to_string(off) + "-" + std::to_string(off + len - 1)}});
  REQUIRE(media.status == 206);
  CHECK(media.body.substr(4, 4) == "moof");
  auto init = t.f.Get(uri, t.sam, {{"Range", "bytes=0-" + std::to_string(off - 1)}});
  REQUIRE(init.status == 206);
  CHECK(init.body.substr(4, 4) == "ftyp");
  CHECK(init.body.find("moov") != std::string::npos);

  // A range holding only the gap has nothing to play, and says so.
  auto empty = t.f.Get("/api/v1/cameras/door-1/playlist.m3u8?from=" + At(kFootageT0 + 9 * kSecond) +
                           "&to=" + At(kFootageT0 + 19 * kSecond) + "&" + PurposeParams(),
                       t.sam);
  CHECK(empty.status == 404);
  CHECK(t.f.LastAccess().result == AccessResult::kError);
}

TEST_CASE("api thumbnails are JPEGs of the nearest frame, and none in a gap") {
  Footage t;
  auto r = t.f.Get(
      "/api/v1/cameras/door-1/thumbnail.jpg?at=" + At(kFootageT0 + 1500000) + "&" + PurposeParams(),
      t.sam);
  REQUIRE(r.status == 200);
  CHECK(r.Header("content-type") == "image/jpeg");
  REQUIRE(r.body.size() > 1000);
  CHECK(static_cast<unsigned char>(r.body[0]) == 0xFF);
  CHECK(static_cast<unsigned char>(r.body[1]) == 0xD8);
  CHECK(static_cast<unsigned char>(r.body[r.body.size() - 2]) == 0xFF);
  CHECK(static_cast<unsigned char>(r.body[r.body.size() - 1]) == 0xD9);
  auto gap = t.f.Get("/api/v1/cameras/door-1/thumbnail.jpg?at=" + At(kFootageT0 + 10 * kSecond) +
                         "&" + PurposeParams(),
                     t.sam);
  CHECK(gap.status == 404);
  CHECK(t.f.LastAccess().result == AccessResult::kError);
}

TEST_CASE("api saving a still needs a manager and is an access-log entry of its own each time") {
  Footage t;
  t.f.AddUser("meg", Role::kManager, {"door-1"});
  SignedIn meg = t.f.Login("meg");
  const std::string still =
      "/api/v1/cameras/door-1/still.jpg?at=" + At(kFootageT0 + 1500000) + "&" + PurposeParams();
  // Staff may look at the frame in the player (the thumbnail) but not keep it as a file.
  REQUIRE(t.f.Get("/api/v1/cameras/door-1/thumbnail.jpg?at=" + At(kFootageT0 + 1500000) + "&" +
                      PurposeParams(),
                  t.sam)
              .status == 200);
  auto refused = t.f.Get(still, t.sam);
  CHECK(refused.status == 403);
  CHECK(refused.body.find("manager") != std::string::npos);
  CHECK(refused.Header("content-disposition").empty());
  CheckLogged(t.f.LastAccess(), "still_save", AccessResult::kDenied);

  // A manager gets the JPEG as a file to keep, and each still is an entry with its purpose,
  // even within a viewing that already reaches it.
  REQUIRE(t.f.Get("/api/v1/cameras/door-1/playlist.m3u8?from=" + At(kFootageT0) +
                      "&to=" + At(kFootageT0 + 8 * kSecond) + "&" + PurposeParams(),
                  meg)
              .status == 200);
  for (int i = 0; i < 2; ++i) {
    const size_t before = t.f.AccessLog().size();
    auto saved = t.f.Get(still, meg);
    REQUIRE(saved.status == 200);
    CHECK(saved.Header("content-type") == "image/jpeg");
    CHECK(saved.Header("content-disposition").find("attachment; filename=\"still-door-1-") == 0);
    REQUIRE(saved.body.size() > 1000);
    CHECK(static_cast<unsigned char>(saved.body[0]) == 0xFF);
    CHECK(static_cast<unsigned char>(saved.body[1]) == 0xD8);
    auto log = t.f.AccessLog();
    REQUIRE(log.size() == before + 1);
    const auto& e = log.back();
    CHECK(e.action == "still_save");
    CHECK(e.user_name == "meg");
    CHECK(e.camera_id == "door-1");
    CHECK(e.result == AccessResult::kOk);
    CHECK(e.purpose_category == "incident_review");
    CHECK(e.purpose_text == kPurposeText);
    CHECK(e.from == kFootageT0 + 1500000);
    CHECK(e.to == kFootageT0 + 1500000);
    CHECK(e.detail.find("still saved as a file") != std::string::npos);
  }
  // In a gap there is nothing to save; the failure is logged.
  auto gap = t.f.Get("/api/v1/cameras/door-1/still.jpg?at=" + At(kFootageT0 + 10 * kSecond) + "&" +
                         PurposeParams(),
                     meg);
  CHECK(gap.status == 404);
  CHECK(t.f.LastAccess().action == "still_save");
  CHECK(t.f.LastAccess().result == AccessResult::kError);
}

TEST_CASE("api a saved still is the recording's whole picture with its time and camera drawn in") {
  Footage t;
  REQUIRE(t.f.db().UpsertCamera({"hall-1", "Hall", kFootageT0}).ok());
  exports::testing::AddSegment(t.f.db(), t.f.data_dir(), "hall-1", kFootageT0, 1280, 720, 2);
  t.f.AddUser("meg", Role::kManager, {"hall-1"});
  SignedIn meg = t.f.Login("meg");
  const std::string at = At(kFootageT0 + 1000000) + "&" + PurposeParams();
  auto thumb = t.f.Get("/api/v1/cameras/hall-1/thumbnail.jpg?at=" + at, meg);
  auto still = t.f.Get("/api/v1/cameras/hall-1/still.jpg?at=" + at, meg);
  REQUIRE(thumb.status == 200);
  REQUIRE(still.status == 200);
  custodian::testing::TempDir tmp("still");
  const std::string thumb_jpg = tmp.File("thumb.jpg"), still_jpg = tmp.File("still.jpg");
  std::ofstream(thumb_jpg, std::ios::binary) << thumb.body;
  std::ofstream(still_jpg, std::ios::binary) << still.body;
  // The thumbnail is made small for the page; the still is the recording's full picture.
  CHECK(exports::testing::ProbeVideo(thumb_jpg).rfind("640x360", 0) == 0);
  CHECK(exports::testing::ProbeVideo(still_jpg).rfind("1280x720", 0) == 0);
  // Its caption (date, time, camera) sits in the bottom-left corner: there the still differs
  // from the recorded frame far more than elsewhere (a JPEG of a frame of the moving test
  // pattern near that time: close, not equal).
  auto grey = [](const std::string& input, const std::string& seek) {
    return exports::testing::RunOutput(std::string(CUSTODIAN_FFMPEG_CLI) + " -nostdin -v quiet " +
                                       seek + " -i '" + input +
                                       "' -frames:v 1 -f rawvideo -pix_fmt gray - 2>/dev/null");
  };
  const std::string drawn = grey(still_jpg, "");
  const std::string recorded =
      grey(t.f.data_dir() + "/footage/hall-1/" + FormatUtcCompact(kFootageT0) + ".mp4", "-ss 1");
  REQUIRE(drawn.size() == 1280u * 720u);
  REQUIRE(recorded.size() == 1280u * 720u);
  auto mean_difference = [&](int x0, int x1, int y0, int y1) {
    double sum = 0;
    for (int y = y0; y < y1; ++y) {
      for (int x = x0; x < x1; ++x) {
        const size_t i = static_cast<size_t>(y) * 1280 + x;
        sum +=
            std::abs(int{static_cast<uint8_t>(drawn[i])} - int{static_cast<uint8_t>(recorded[i])});
      }
    }
    return sum / ((x1 - x0) * (y1 - y0));
  };
  const double caption = mean_difference(30, 500, 660, 700),
               elsewhere = mean_difference(0, 1280, 0, 500);
  INFO("caption " << caption << ", elsewhere " << elsewhere);
  CHECK(caption > 25);
  CHECK(caption > 3 * elsewhere);  // the test pattern moves from frame to frame
}

TEST_CASE("api footage is not sent when its access-log entry cannot be written") {
  FixtureOptions o;
  o.busy_timeout_ms = 200;
  ApiServerFixture f(o);
  f.AddUser("sam", Role::kStaff, {"door-1"});
  const int64_t seg = f.AddSegment("door-1", kFootageT0);
  SignedIn sam = f.Login("sam");
  // Another process holds the write lock, as a stuck writer would.
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open((f.data_dir() + "/records.db").c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  auto r = f.Get("/api/v1/segments/" + std::to_string(seg) + "/file?" + PurposeParams(), sam);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  CHECK(r.status == 503);
  CHECK(r.body.find("ftyp") == std::string::npos);
  CHECK(r.body.find("SELECT") == std::string::npos);
  CHECK(r.body.find("INSERT") == std::string::npos);
}

TEST_CASE("api the DPO queries the access log by user, camera, time and action, and as CSV") {
  Footage t;
  REQUIRE(t.f.Get(t.File(t.a) + "?" + PurposeParams(), t.sam).status == 200);
  REQUIRE(
      t.f.Get(t.File(t.b) + "?purpose=request&purpose_text=%3DHYPERLINK(%22x%22)", t.sam).status ==
      200);
  SignedIn dee = t.f.Login("dee");
  auto q =
      t.f.Get("/api/v1/access-log?user=sam&camera=door-1&action=download&from=" +
                  At(t.f.clock.Now() - 60 * kSecond) + "&to=" + At(t.f.clock.Now() + 60 * kSecond),
              dee);
  REQUIRE(q.status == 200);
  auto entries = json::parse(q.body)["entries"];
  REQUIRE(entries.size() == 2);
  CHECK(entries[0]["purpose_category"] == "request");  // newest first
  CHECK(entries[1]["purpose_text"] == kPurposeText);
  CHECK(entries[1]["user_name"] == "sam");
  CHECK(json::parse(t.f.Get("/api/v1/access-log?user=nobody", dee).body)["entries"].empty());
  CHECK(t.f.LastAccess().action == "access_log_query");

  auto csv = t.f.Get("/api/v1/access-log.csv?action=download", dee);
  REQUIRE(csv.status == 200);
  CHECK(csv.Header("content-type").rfind("text/csv", 0) == 0);
  CHECK(csv.Header("content-disposition").find("attachment") != std::string::npos);
  CHECK(csv.body.rfind("id,at,user_id,user_name,action,", 0) == 0);
  size_t lines = 0;
  for (char c : csv.body) lines += c == '\n';
  CHECK(lines == 3);  // header + 2 downloads
  // A purpose a spreadsheet would run as a formula is defused.
  CHECK(csv.body.find("'=HYPERLINK") != std::string::npos);
  CHECK(csv.body.find(",=HYPERLINK") == std::string::npos);
  CHECK(csv.body.find(",\"=HYPERLINK") == std::string::npos);
}

}  // namespace
}  // namespace custodian::api::testing
