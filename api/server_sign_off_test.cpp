// The redaction sign-off over HTTP holds no records lock while it builds and signs: footage
// requests on another connection are answered while a sign-off of a large package is held
// in the middle of hashing it (a Filesystem that stops the sign-off's first read of the
// redacted video until the test lets it go).
//
// The export is built by the export run (jobs/export_run.h) in the test, and the redaction
// is made done with stand-in files (jobs/testing.h): nothing here runs the redaction
// pipeline, so this binary links neither OpenCV nor dlib.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/testing/api_fixture.h"
#include "base/filesystem.h"
#include "base/mutex.h"
#include "exports/export_jobs.h"
#include "jobs/export_run.h"
#include "jobs/testing.h"

namespace custodian::api::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Generous for a loaded, sanitized 2-core machine (a playlist takes milliseconds), and far
// below how long the sign-off is held: a request that waits for the sign-off fails it.
constexpr auto kRequestBound = std::chrono::seconds(10);
constexpr auto kHeld = std::chrono::seconds(60);  // the longest the sign-off is held
constexpr int kRequests = 5;

// Passes everything to the real filesystem, except that the first read of a file whose
// path contains `gated` waits until Release().
class GatedFilesystem final : public ForwardingFilesystem {
 public:
  explicit GatedFilesystem(std::string gated)
      : ForwardingFilesystem(PosixFilesystem::Instance()), gated_(std::move(gated)) {}

  // Waits up to d for the gated read to begin; true if it did.
  bool WaitUntilReached(std::chrono::seconds d) {
    MutexLock lock(mu_);
    return lock.WaitFor(cv_, d, [&]() REQUIRES(mu_) { return reached_; });
  }
  void Release() {
    {
      MutexLock lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }

  Result<std::unique_ptr<SequentialFile>> OpenSequential(const std::string& p) override {
    auto f = base_.OpenSequential(p);
    if (!f.ok() || p.find(gated_) == std::string::npos) return f;
    return std::unique_ptr<SequentialFile>(new GatedFile(std::move(f).value(), *this));
  }

 private:
  class GatedFile final : public SequentialFile {
   public:
    GatedFile(std::unique_ptr<SequentialFile> base, GatedFilesystem& fs)
        : base_(std::move(base)), fs_(fs) {}
    Result<size_t> Read(void* data, size_t size) override {
      if (first_) {
        first_ = false;
        fs_.Arrive();
      }
      return base_->Read(data, size);
    }

   private:
    std::unique_ptr<SequentialFile> base_;
    GatedFilesystem& fs_;
    bool first_ = true;
  };

  void Arrive() {
    MutexLock lock(mu_);
    reached_ = true;
    cv_.notify_all();
    lock.Wait(cv_, [&]() REQUIRES(mu_) { return released_; });
  }

  const std::string gated_;
  Mutex mu_;
  std::condition_variable cv_;
  bool reached_ GUARDED_BY(mu_) = false;
  bool released_ GUARDED_BY(mu_) = false;
};

// A DSAR of door-1 logged, verified, approved and exported; returns the ready export.
records::ExportRow ReadyExport(ApiServerFixture& f, const SignedIn& ann, const SignedIn& ben) {
  const std::string request =
      ApprovedDsar(f, ann, ben, kFootageT0 + kSecond, kFootageT0 + 3 * kSecond);
  auto queued = f.Call("POST", request + "/exports", ben, "{}");
  INFO(queued.body);
  REQUIRE(queued.status == 202);
  exports::ExportServiceOptions o;
  o.data_dir = f.data_dir();
  o.keys_dir = f.data_dir() + "/keys";
  o.site_name = "Test hostel";
  jobs::ExportJobRunner runner(f.db(), PosixFilesystem::Instance(), f.clock, o);
  REQUIRE(runner.RunNext().ok());
  auto e = f.db().GetExport(json::parse(queued.body)["export_id"].get<int64_t>());
  REQUIRE(e.ok());
  REQUIRE((*e)->state == records::ExportState::kReady);
  return **e;
}

TEST_CASE("footage requests are answered while a large redaction is signed off") {
  GatedFilesystem gated("-redaction-");
  FixtureOptions options;
  options.filesystem = &gated;
  ApiServerFixture f(options);
  const int64_t ann_id = f.AddUser("ann", records::Role::kManager, {"door-1"});
  f.AddUser("ben", records::Role::kManager, {"door-1"});
  f.AddUser("sam", records::Role::kStaff, {"door-1"});
  f.AddSegment("door-1", kFootageT0);
  const SignedIn ann = f.Login("ann"), ben = f.Login("ben"), sam = f.Login("sam");
  const records::ExportRow e = ReadyExport(f, ann, ben);
  const int64_t redaction =
      jobs::testing::DoneRedaction(f.db(), f.data_dir(), e, ann_id, uint64_t{64} << 20);

  ClientResponse signed_off;
  std::thread signer([&] {
    signed_off =
        f.Call("POST", "/api/v1/redactions/" + std::to_string(redaction) + "/sign-off", ben,
               json{{"note", "contact sheet and both ranges watched"},
                    {"checked", jobs::testing::kFlaggedRanges}}
                   .dump());
  });
  const bool held = gated.WaitUntilReached(std::chrono::seconds(120));

  // Footage, on a connection of its own, while the sign-off is held mid-hash.
  HttpsClient viewer(f.server().port(), f.cert_path());
  std::mutex mu;
  std::condition_variable cv;
  int served = 0;  // guarded by mu
  std::vector<Clock::duration> latencies;
  std::thread watcher([&] {
    if (!held) return;
    for (int i = 0; i < kRequests; ++i) {
      const auto start = Clock::now();
      auto pl = viewer.Send("GET",
                            "/api/v1/cameras/door-1/playlist.m3u8?from=" + At(kFootageT0) +
                                "&to=" + At(kFootageT0 + 4 * kSecond) + "&" + PurposeParams(),
                            {{"Cookie", sam.cookie}});
      latencies.push_back(Clock::now() - start);
      std::lock_guard lock(mu);
      if (pl.status == 200) ++served;
      cv.notify_all();
    }
  });
  bool answered_while_held;
  {
    std::unique_lock lock(mu);
    answered_while_held = cv.wait_for(lock, kHeld, [&] { return served == kRequests; });
  }
  gated.Release();
  watcher.join();
  signer.join();

  REQUIRE(held);
  REQUIRE(answered_while_held);
  const auto slowest = *std::max_element(latencies.begin(), latencies.end());
  std::fprintf(stderr, "slowest of %d footage requests during the sign-off: %lld ms\n", kRequests,
               static_cast<long long>(
                   std::chrono::duration_cast<std::chrono::milliseconds>(slowest).count()));
  REQUIRE(slowest < kRequestBound);
  INFO(signed_off.body);
  REQUIRE(signed_off.status == 200);
  REQUIRE(f.db().GetRedaction(redaction).value()->signed_off.has_value());
}

}  // namespace
}  // namespace custodian::api::testing
