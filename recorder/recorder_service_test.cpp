// RegisterCameras: the cameras into the records, and a withheld password into the access log.
#include "recorder/recorder_service.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <map>

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

TEST_CASE("a camera's sub stream is recorded as its own records camera, its password kept home") {
  config::SiteConfig site;
  config::CameraConfig lobby;
  lobby.id = "lobby";
  lobby.name = "Lobby";
  lobby.url = "rtsp://cam:554/main";
  lobby.sub_url = "rtsp://cam/sub";
  config::CameraConfig yard = lobby;
  yard.id = "yard";
  yard.sub_url = "rtsp://elsewhere.example/sub";
  yard.username = "viewer";
  char tmpl[] = "/tmp/custodian-substream-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  {
    yard.password_file = dir + "/yard.password";
    FILE* f = std::fopen(yard.password_file.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("pw\n", f);
    std::fclose(f);
    site.cameras = {lobby, yard};
    auto settings = recorder::CameraSettingsFromConfig(site);
    REQUIRE(settings.ok());
    std::map<std::string, recorder::CameraSettings> by_id;
    for (const auto& s : *settings) by_id[s.id] = s;
    REQUIRE(by_id.size() == 4);
    CHECK(by_id["lobby"].url == "rtsp://cam:554/main");
    CHECK(by_id["lobby--sub"].url == "rtsp://cam/sub");
    CHECK(by_id["yard"].password == "pw");
    CHECK(by_id["yard--sub"].password.empty());
    CHECK(by_id["yard--sub"].password_withheld.find("not sent there") != std::string::npos);

    auto db = records::Database::Open(dir + "/records.db", SystemClock::Instance());
    REQUIRE(db.ok());
    REQUIRE(recorder::RegisterCameras(**db, site).ok());
    auto cameras = (*db)->ListCameras();
    REQUIRE(cameras.ok());
    std::map<std::string, std::string> names;
    for (const auto& c : *cameras) names[c.id] = c.name;
    CHECK(names["lobby--sub"] == "Lobby (sub stream)");
    CHECK(names.count("yard--sub") == 1);
  }
  std::filesystem::remove_all(dir);
}
