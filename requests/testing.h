// Test fixture shared by the requests and exports tests: a temporary data directory with a
// records.db on a manual clock, cameras, and users of every role.
#pragma once

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/testing/temp_dir.h"
#include "records/database.h"

namespace custodian::requests::testing {

// 2026-01-15T10:00:00Z, a Thursday in GMT.
inline constexpr UtcMicros kT0{1768471200LL * kMicrosPerSecond};
inline constexpr int64_t kMinute = 60 * kMicrosPerSecond;
inline constexpr int64_t kHour = 60 * kMinute;

// A temporary directory, removed afterwards.
class TempDir : public ::custodian::testing::TempDir {
 public:
  TempDir() : ::custodian::testing::TempDir("custodian-req") {}
};

struct Site {
  TempDir dir;
  ManualClock clock{kT0};
  std::unique_ptr<records::Database> db;
  int64_t staff = 0;      // "sam", staff
  int64_t manager_a = 0;  // "alex", manager
  int64_t manager_b = 0;  // "blake", manager
  int64_t dpo = 0;        // "dana", DPO
  int64_t admin = 0;      // "ari", admin

  Site() {
    auto opened = records::Database::Open(dir.File("records.db"), clock);
    INFO(opened.status().ToString());
    REQUIRE(opened.ok());
    db = std::move(opened).value();
    REQUIRE(db->UpsertCamera({"door-1", "Front door", {}}).ok());
    REQUIRE(db->UpsertCamera({"yard", "Yard", {}}).ok());
    staff = AddUser("sam", records::Role::kStaff);
    manager_a = AddUser("alex", records::Role::kManager);
    manager_b = AddUser("blake", records::Role::kManager);
    dpo = AddUser("dana", records::Role::kDpo);
    admin = AddUser("ari", records::Role::kAdmin);
  }

  int64_t AddUser(const std::string& name, records::Role role) {
    auto id = db->CreateUser({name, role, "hash:x", false});
    REQUIRE(id.ok());
    return *id;
  }
};

inline UtcMicros Utc(const std::string& text) {
  UtcMicros t;
  REQUIRE(ParseUtc(text, &t));
  return t;
}

}  // namespace custodian::requests::testing
