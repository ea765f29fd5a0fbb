// serve's background worker (jobs/worker.h: export and redaction jobs, hold release) on
// a records connection of its own, as `custodian serve` runs it, for tests that drive an
// ApiServerFixture. Stopped (and its connection closed) by Stop() or the destructor.
#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>

#include "api/testing/api_fixture.h"
#include "base/filesystem.h"
#include "jobs/worker.h"

namespace custodian::api::testing {

class ServeWorker {
 public:
  explicit ServeWorker(ApiServerFixture& f) : f_(f) {}
  ~ServeWorker() { Stop(); }

  void Start() {
    auto db = records::Database::Open(f_.data_dir() + "/records.db", f_.clock);
    REQUIRE(db.ok());
    db_ = std::move(db).value();
    jobs::JobWorkerOptions o;
    o.exports.data_dir = f_.data_dir();
    o.exports.keys_dir = f_.data_dir() + "/keys";
    o.exports.site_name = "Test hostel";
    o.exports.worker = "test-worker";
    o.idle = std::chrono::milliseconds(50);
    auto w = jobs::JobWorker::Start(*db_, PosixFilesystem::Instance(), f_.clock, o);
    REQUIRE(w.ok());
    worker_ = std::move(w).value();
  }
  void Stop() {
    worker_.reset();
    db_.reset();
  }

 private:
  ApiServerFixture& f_;
  std::unique_ptr<records::Database> db_;
  std::unique_ptr<jobs::JobWorker> worker_;
};

}  // namespace custodian::api::testing
