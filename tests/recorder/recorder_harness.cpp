#include "tests/recorder/recorder_harness.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <limits>
#include <thread>

#include "base/sha256.h"
#include "base/testing/child_process.h"
#include "media/probe.h"

namespace custodian::testing {

UtcMicros WallNow() { return SystemClock::Instance().Now(); }

TestSite::TestSite(const std::vector<TestCamera>& cameras, int segment_seconds,
                   int stall_timeout_seconds)
    : segment_seconds_(segment_seconds), stall_timeout_seconds_(stall_timeout_seconds) {
  char tmpl[] = "/tmp/custodian-rec-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  dir_ = tmpl;
  REQUIRE(mkdir(data_dir().c_str(), 0750) == 0);
  WriteConfig(cameras);
}

void TestSite::WriteConfig(const std::vector<TestCamera>& cameras) {
  std::ofstream site(config());
  site << "site: { name: \"Recorder test\" }\n"
       << "data_dir: data\n"
       << "recorder: { segment_seconds: " << segment_seconds_
       << ", stall_timeout_seconds: " << stall_timeout_seconds_ << " }\n"
       << "cameras:\n";
  for (const TestCamera& c : cameras) {
    site << "  - id: " << c.id << "\n    url: " << c.url << "\n    transport: " << c.transport << "\n";
    if (!c.sub_url.empty()) site << "    sub_url: " << c.sub_url << "\n";
    if (!c.username.empty()) site << "    username: " << c.username << "\n";
    if (!c.password.empty()) {
      std::string pw = dir_ + "/" + c.id + ".password";
      std::ofstream(pw) << c.password << "\n";
      site << "    password_file: " << pw << "\n";
    }
  }
}

std::unique_ptr<records::Database> TestSite::OpenRecords() const {
  auto db = records::Database::Open(data_dir() + "/records.db", SystemClock::Instance());
  REQUIRE(db.ok());
  return std::move(db).value();
}

RecorderProcess::RecorderProcess(const TestSite& site) {
  pid_ = fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    int fd = open(site.log().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(CUSTODIAN_BINARY, CUSTODIAN_BINARY, "--config", site.config().c_str(), "record",
          static_cast<char*>(nullptr));
    _exit(127);
  }
}

RecorderProcess::~RecorderProcess() { Stop(); }

int RecorderProcess::Stop() {
  if (pid_ <= 0) return -1;
  int status = StopChild(pid_);
  pid_ = -1;
  return status;
}

void RecorderProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

void RecorderProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int RunCustodian(const std::vector<std::string>& args, std::string* out) {
  std::string cmd = CUSTODIAN_BINARY;
  for (const std::string& a : args) cmd += " '" + a + "'";
  cmd += " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::string text;
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
  int status = pclose(p);
  if (out) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool WaitFor(const std::function<bool()>& pred, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

std::vector<records::SegmentRow> CompleteSegments(records::Database& db, const std::string& camera) {
  auto rows = db.ListSegments(camera, UtcMicros{0}, UtcMicros{std::numeric_limits<int64_t>::max() / 2});
  REQUIRE(rows.ok());
  std::vector<records::SegmentRow> out;
  for (const auto& r : *rows)
    if (r.state == records::SegmentState::kComplete) out.push_back(r);
  return out;
}

void RequireSegmentsPlayAndMatch(records::Database& db, const std::string& data_dir) {
  auto rows = db.ListAllSegments();
  REQUIRE(rows.ok());
  for (const records::SegmentRow& s : *rows) {
    INFO("segment " << s.id << " " << s.path);
    REQUIRE(s.state == records::SegmentState::kComplete);
    std::string path = data_dir + "/" + s.path;
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    REQUIRE(f.good());
    REQUIRE(static_cast<int64_t>(f.tellg()) == s.bytes);
    REQUIRE(Sha256File(path).value() == s.sha256.value_or(""));
    auto probe = media::ProbeFile(path, /*decode=*/true);
    REQUIRE(probe.ok());
    REQUIRE(probe->video_frames > 0);
    REQUIRE(probe->decode_errors == 0);
    REQUIRE(probe->video_codec == s.video_codec);
    REQUIRE(probe->width == s.width);
    REQUIRE(std::llabs(probe->duration_us - s.duration_us) <= 100'000);
  }
}

}  // namespace custodian::testing
