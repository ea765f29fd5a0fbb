#include "api/errors.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace custodian::api {
namespace {

TEST_CASE("api maps every error kind to one HTTP status") {
  CHECK(HttpStatusFor(ErrorKind::kInvalidArgument) == 400);
  CHECK(HttpStatusFor(ErrorKind::kUnauthenticated) == 401);
  CHECK(HttpStatusFor(ErrorKind::kPermissionDenied) == 403);
  CHECK(HttpStatusFor(ErrorKind::kNotFound) == 404);
  CHECK(HttpStatusFor(ErrorKind::kAlreadyExists) == 409);
  CHECK(HttpStatusFor(ErrorKind::kFailedPrecondition) == 409);
  CHECK(HttpStatusFor(ErrorKind::kUnavailable) == 503);
  CHECK(HttpStatusFor(ErrorKind::kInternal) == 500);
  CHECK(HttpStatusFor(ErrorKind::kIo) == 500);
  CHECK(HttpStatusFor(ErrorKind::kDataLoss) == 500);
}

TEST_CASE("api error bodies carry a code and a message, never SQL") {
  auto body = [](const Status& st) { return nlohmann::json::parse(ErrorResponse(st).body); };
  auto j = body(NotFound("no segment 12"));
  CHECK(j["error"]["code"] == "not_found");
  CHECK(j["error"]["message"] == "no segment 12");
  auto sql = body(Internal("records: SELECT id FROM users WHERE name = ?: disk I/O error"));
  CHECK(sql["error"]["code"] == "internal");
  CHECK(sql.dump().find("SELECT") == std::string::npos);
  auto taken = body(AlreadyExists("records: INSERT INTO users: UNIQUE constraint failed"));
  CHECK(taken.dump().find("INSERT") == std::string::npos);
  auto hidden = body(FromRecords(FailedPrecondition("records: UPDATE holds ..."), "release it"));
  CHECK(hidden["error"]["message"] == "could not release it");
}

}  // namespace
}  // namespace custodian::api
