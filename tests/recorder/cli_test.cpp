// The custodian command line: exit codes and messages that operators and scripts rely on.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "tests/recorder/recorder_harness.h"

using namespace custodian;
using namespace custodian::testing;

namespace {
std::string TempDir() {
  char tmpl[] = "/tmp/custodian-cli-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return tmpl;
}
}  // namespace

TEST_CASE("custodian --version prints the version and git revision") {
  std::string out;
  REQUIRE(RunCustodian({"--version"}, &out) == 0);
  REQUIRE(out.rfind("custodian 0.", 0) == 0);
  REQUIRE(out.find("(git ") != std::string::npos);
}

TEST_CASE("an unknown verb or option is a usage error, and no verb is a stub") {
  std::string out;
  REQUIRE(RunCustodian({"frobnicate"}, &out) == 2);
  REQUIRE(out.find("unknown verb 'frobnicate'") != std::string::npos);
  REQUIRE(RunCustodian({"--bogus", "check"}, &out) == 2);
}

TEST_CASE("check names the file, line and key of every config error and exits 3") {
  std::string dir = TempDir();
  std::ofstream(dir + "/site.yaml") << "site: { name: \"X\" }\n"
                                       "data_dir: data\n"
                                       "cameras:\n"
                                       "  - id: Lobby\n"
                                       "    url: rtsp://127.0.0.1/a\n"
                                       "    transprt: tcp\n";
  std::string out;
  REQUIRE(RunCustodian({"--config", dir + "/site.yaml", "check"}, &out) == 3);
  REQUIRE(out.find("site.yaml:4: cameras[0].id") != std::string::npos);
  REQUIRE(out.find("site.yaml:6: cameras[0].transprt") != std::string::npos);
  REQUIRE(RunCustodian({"--config", dir + "/missing.yaml", "check"}, &out) == 3);
}

TEST_CASE("audit verify finds an access-log row altered with the sqlite3 CLI") {
  std::string dir = TempDir();
  std::ofstream(dir + "/site.yaml") << "site: { name: \"X\" }\ndata_dir: data\ncameras: []\n";
  std::string out;
  REQUIRE(RunCustodian({"--config", dir + "/site.yaml", "check"}, &out) == 0);
  {
    auto db = records::Database::Open(dir + "/data/records.db", SystemClock::Instance());
    REQUIRE(db.ok());
    for (int i = 0; i < 3; ++i) {
      records::AccessEntry e;
      e.user_name = "alice";
      e.action = "segment.download";
      e.purpose_category = "incident_review";
      e.purpose_text = "entry " + std::to_string(i);
      e.client = "127.0.0.1";
      e.result = records::AccessResult::kOk;
      REQUIRE((*db)->AppendAccess(e).ok());
    }
  }
  REQUIRE(RunCustodian({"--config", dir + "/site.yaml", "audit", "verify"}, &out) == 0);
  REQUIRE(out.find("3 entries") != std::string::npos);

  std::string sql = "sqlite3 " + dir + "/data/records.db \"UPDATE access_log SET purpose_text='nothing to see' WHERE id=2;\"";
  // The trigger's name is the records module's business: drop whichever forbids updates.
  std::string drop_all = "sqlite3 " + dir + "/data/records.db \"SELECT name FROM sqlite_master WHERE "
                         "type='trigger' AND tbl_name='access_log'\" | while read t; do sqlite3 " +
                         dir + "/data/records.db \"DROP TRIGGER $t\"; done";
  REQUIRE(std::system(drop_all.c_str()) == 0);
  REQUIRE(std::system(sql.c_str()) == 0);
  REQUIRE(RunCustodian({"--config", dir + "/site.yaml", "audit", "verify"}, &out) == 1);
  REQUIRE(out.find("first bad entry 2") != std::string::npos);
}
