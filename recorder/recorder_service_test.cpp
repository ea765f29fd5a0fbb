// RegisterCameras: the cameras into the records, and a withheld password into the access
// log (issue 18).
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "recorder/recorder_service.h"
#include "records/database.h"

using namespace custodian;

TEST_CASE("a camera whose URL was changed by hand has its withheld password logged once") {
  char tmpl[] = "/tmp/custodian-register-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  {
    auto db = records::Database::Open(dir + "/records.db", SystemClock::Instance());
    REQUIRE(db.ok());
    config::SiteConfig site;
    config::CameraConfig moved;
    moved.id = "yard-moved";
    moved.name = "Yard";
    moved.url = "rtsp://elsewhere.example/yard";
    moved.source = "cameras/yard-moved.yaml:1";
    moved.password_withheld = "the stored password was entered for rtsp://cam:554 and the URL "
                              "now points at rtsp://elsewhere.example:554; it is not sent there";
    config::CameraConfig plain;
    plain.id = "door";
    plain.name = "Door";
    plain.url = "rtsp://cam/door";
    site.cameras = {moved, plain};
    REQUIRE(recorder::RegisterCameras(**db, site).ok());
    REQUIRE(recorder::RegisterCameras(**db, site).ok());  // a reload: not logged again
    records::AccessFilter filter;
    filter.action = "camera_password_withheld";
    auto rows = (*db)->QueryAccess(filter);
    REQUIRE(rows.ok());
    REQUIRE(rows->size() == 1);
    CHECK((*rows)[0].camera_id == "yard-moved");
    CHECK((*rows)[0].detail.find("not sent there") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}
