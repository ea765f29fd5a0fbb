// Test harness for recorder tests: a temporary site (site.yaml, data dir, password files),
// the real `custodian record` process, and checks that records and disk agree.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "records/database.h"

namespace custodian::testing {

struct TestCamera {
  TestCamera(std::string id_, std::string url_, std::string transport_ = "tcp",
             std::string username_ = "", std::string password_ = "")
      : id(std::move(id_)), url(std::move(url_)), transport(std::move(transport_)),
        username(std::move(username_)), password(std::move(password_)) {}
  std::string id;
  std::string url;
  std::string transport = "tcp";
  std::string username;
  std::string password;  // written to a password file when set
  std::string sub_url;   // the camera's sub stream, when set
};

class TestSite {
 public:
  // Creates a fresh directory under /tmp with site.yaml for these cameras.
  TestSite(const std::vector<TestCamera>& cameras, int segment_seconds,
           int stall_timeout_seconds = 5);
  // Rewrites site.yaml with these cameras (for SIGHUP reload tests).
  void WriteConfig(const std::vector<TestCamera>& cameras);
  const std::string& dir() const { return dir_; }
  std::string config() const { return dir_ + "/site.yaml"; }
  std::string data_dir() const { return dir_ + "/data"; }
  std::string log() const { return dir_ + "/record.log"; }
  std::unique_ptr<records::Database> OpenRecords() const;

 private:
  std::string dir_;
  int segment_seconds_;
  int stall_timeout_seconds_;
};

// `custodian --config SITE record`, output appended to site.log().
class RecorderProcess {
 public:
  explicit RecorderProcess(const TestSite& site);
  ~RecorderProcess();
  int Stop();  // StopChild: SIGTERM, bounded wait, SIGKILL; returns the exit status
  void Signal(int sig);
  void Kill(); // SIGKILL, wait
 private:
  pid_t pid_ = -1;
};

// Runs `custodian ARGS...` and returns its exit code; output into *out when given.
int RunCustodian(const std::vector<std::string>& args, std::string* out = nullptr);

// Polls `pred` every 100 ms until true or timeout; returns its last value.
bool WaitFor(const std::function<bool()>& pred, int timeout_ms);

// Complete segments of a camera, ordered by start.
std::vector<records::SegmentRow> CompleteSegments(records::Database& db, const std::string& camera);

// Every complete segment's file exists, matches bytes and SHA-256, plays and decodes without
// error. Uses Catch2 assertions.
void RequireSegmentsPlayAndMatch(records::Database& db, const std::string& data_dir);

UtcMicros WallNow();

}  // namespace custodian::testing
