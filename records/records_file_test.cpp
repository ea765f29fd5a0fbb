#include "records/records_file.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "records/migrations.h"
#include "records/test_util.h"

using namespace custodian;
using namespace custodian::records;
using namespace custodian::records::testing;

namespace {

AccessEntry Entry(int64_t user, const std::string& detail) {
  AccessEntry e;
  e.user_id = user;
  e.user_name = "manager-1";
  e.action = "view";
  e.client = "test";
  e.detail = detail;
  return e;
}

}  // namespace

TEST_CASE("a snapshot taken while the records are written is a sound copy with its log head") {
  TestDb t;
  REQUIRE(t.db->AppendAccess(Entry(t.manager_id, "before")).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    while (!stop) {
      if (t.db->AppendAccess(Entry(t.manager_id, "during")).ok()) ++written;
    }
  });
  const std::string copy = t.dir.File("snapshot.db");
  Status st = SnapshotRecordsFile(t.path, copy);
  stop = true;
  writer.join();
  INFO(st.ToString());
  REQUIRE(st.ok());

  auto info = InspectRecordsFile(copy);
  INFO(info.status().ToString());
  REQUIRE(info.ok());
  REQUIRE(info->schema_version == LatestSchemaVersion());
  // The copy's head is an entry of the live log, with the live log's hash for it.
  auto copy_db = Database::Open(copy, t.clock);
  REQUIRE(copy_db.ok());
  auto head = (*copy_db)->AccessLogHead();
  REQUIRE(head.ok());
  REQUIRE(head->has_value());
  REQUIRE(info->access_log_head == std::to_string((*head)->id) + " " + (*head)->hash);
  REQUIRE((*copy_db)->VerifyAccessLog()->ok);
  auto live = t.db->QueryAccess({});
  REQUIRE(live.ok());
  bool found = false;
  for (const AccessEntry& e : *live) found |= e.id == (*head)->id && e.hash == (*head)->hash;
  REQUIRE(found);
}

TEST_CASE("inspecting a records file refuses a damaged file, another database and a newer schema") {
  TestDb t;
  REQUIRE(InspectRecordsFile(t.path)->access_log_head == "0 " + std::string(64, '0'));

  const std::string other = t.dir.File("other.db");
  REQUIRE(RawExec(other, "CREATE TABLE notes (body TEXT)") == SQLITE_OK);
  auto not_records = InspectRecordsFile(other);
  REQUIRE(not_records.status().kind() == ErrorKind::kDataLoss);
  REQUIRE(not_records.status().message().find("not a records database") != std::string::npos);

  const std::string junk = t.dir.File("junk.db");
  std::ofstream(junk) << std::string(8192, 'x');
  REQUIRE(InspectRecordsFile(junk).status().kind() == ErrorKind::kDataLoss);

  REQUIRE(InspectRecordsFile(t.dir.File("missing.db")).status().kind() == ErrorKind::kIo);

  t.db.reset();
  REQUIRE(RawExec(t.path, "INSERT INTO schema_version VALUES (99, 0, 'from a newer custodian')") ==
          SQLITE_OK);
  auto newer = InspectRecordsFile(t.path);
  REQUIRE(newer.status().kind() == ErrorKind::kFailedPrecondition);
  REQUIRE(newer.status().message().find("schema version 99") != std::string::npos);
}
