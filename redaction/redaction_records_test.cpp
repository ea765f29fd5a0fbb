// The redactions table (schema v3) through its typed API: a redaction stored with its
// record, listed by export, signed off once.
#include <catch2/catch.hpp>

#include "records/test_util.h"

namespace custodian::records {
namespace {

using testing::TestDb;

Database::RedactionRow SampleRedaction() {
  Database::RedactionRow r;
  r.input_sha256 = std::string(64, 'a');
  r.output_sha256 = std::string(64, 'b');
  r.record_json = R"({"record":"custodian-redaction","mode":"faces"})";
  return r;
}

TEST_CASE("a redaction is stored with its record and signed off once") {
  TestDb t;
  auto id = t.db->AddRedaction(SampleRedaction());
  REQUIRE(id.ok());
  auto got = t.db->GetRedaction(*id);
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK((*got)->input_sha256 == std::string(64, 'a'));
  CHECK((*got)->record_json.find("faces") != std::string::npos);
  CHECK((*got)->created == testing::kT0);
  CHECK_FALSE((*got)->signed_off.has_value());

  t.clock.Advance(testing::kMinute);
  REQUIRE(t.db->SignOffRedaction(*id, t.manager_id).ok());
  got = t.db->GetRedaction(*id);
  CHECK((*got)->reviewer_user_id == t.manager_id);
  CHECK((*got)->signed_off->us == testing::kT0.us + testing::kMinute);
  Status again = t.db->SignOffRedaction(*id, t.manager_id);
  CHECK(again.kind() == ErrorKind::kFailedPrecondition);
  CHECK(t.db->SignOffRedaction(*id + 100, t.manager_id).kind() == ErrorKind::kNotFound);
}

TEST_CASE("a redaction's record is replaced until it is signed off") {
  TestDb t;
  auto id = t.db->AddRedaction(SampleRedaction());
  REQUIRE(id.ok());
  const std::string record = R"({"record":"custodian-redaction","mode":"keep-subject"})";
  REQUIRE(t.db->UpdateRedactionRecord(*id, std::string(64, 'c'), record).ok());
  auto got = t.db->GetRedaction(*id);
  REQUIRE(got.ok());
  CHECK((*got)->output_sha256 == std::string(64, 'c'));
  CHECK((*got)->record_json == record);

  CHECK(t.db->UpdateRedactionRecord(*id + 100, std::string(64, 'd'), record).kind() ==
        ErrorKind::kNotFound);
  REQUIRE(t.db->SignOffRedaction(*id, t.manager_id).ok());
  CHECK(t.db->UpdateRedactionRecord(*id, std::string(64, 'd'), record).kind() ==
        ErrorKind::kFailedPrecondition);
  got = t.db->GetRedaction(*id);
  CHECK((*got)->output_sha256 == std::string(64, 'c'));
}

TEST_CASE("the redactions table refuses bad hashes, bad JSON and unknown exports") {
  TestDb t;
  auto bad_hash = SampleRedaction();
  bad_hash.output_sha256 = "abc";
  CHECK_FALSE(t.db->AddRedaction(bad_hash).ok());
  auto bad_json = SampleRedaction();
  bad_json.record_json = "{not json";
  CHECK_FALSE(t.db->AddRedaction(bad_json).ok());
  auto no_export = SampleRedaction();
  no_export.export_id = 999;
  CHECK_FALSE(t.db->AddRedaction(no_export).ok());
  auto unsigned_reviewer = SampleRedaction();
  unsigned_reviewer.signed_off = testing::kT0;
  CHECK(t.db->AddRedaction(unsigned_reviewer).status().kind() == ErrorKind::kInvalidArgument);
  auto list = t.db->ListRedactionsForExport(1);
  REQUIRE(list.ok());
  CHECK(list->empty());
}

}  // namespace
}  // namespace custodian::records
