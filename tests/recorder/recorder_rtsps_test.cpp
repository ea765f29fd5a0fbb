// An rtsps:// camera (custodian-sim serving RTSPS with a throwaway certificate) recorded
// through the recorder's own TCP client: its certificate pinned on first use, a changed
// certificate stopping the recording with a status and an alarm, and acceptance resuming it;
// the pinned certificate's subject and expiry kept, and its near expiry raising an alarm.
#include <catch2/catch.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "base/filesystem.h"
#include "media/rtsp/certificate_pin.h"
#include "tests/recorder/recorder_harness.h"
#include "tests/sim/sim_process.h"

using namespace custodian;
using namespace custodian::testing;

namespace {

// A self-signed certificate for /CN=<name>, valid for `days`, and its key in one PEM file,
// made with the openssl tool; returns the certificate's SHA-256 fingerprint in lower-case hex.
std::string MakeCertificate(const std::string& dir, const std::string& name, int days) {
  const std::string base = dir + "/" + name;
  const std::string make = "openssl req -x509 -newkey rsa:2048 -nodes -days " +
                           std::to_string(days) + " -subj /CN=" + name + std::string(" -keyout ") +
                           base + ".key -out " + base + ".crt 2>/dev/null && cat " + base +
                           ".crt " + base + ".key > " + base + ".pem";
  REQUIRE(std::system(make.c_str()) == 0);
  const std::string fp = "openssl x509 -noout -fingerprint -sha256 -in " + base + ".crt";
  FILE* p = ::popen(fp.c_str(), "r");
  REQUIRE(p != nullptr);
  char line[256] = {};
  REQUIRE(std::fgets(line, sizeof line, p) != nullptr);
  ::pclose(p);
  std::string hex;
  for (const char* c = std::strchr(line, '=') + 1; *c && *c != '\n'; ++c) {
    if (*c != ':') hex += static_cast<char>(std::tolower(static_cast<unsigned char>(*c)));
  }
  REQUIRE(hex.size() == 64);
  return hex;
}

std::optional<records::CameraStatusRow> CameraStatus(records::Database& db, const std::string& id) {
  auto rows = db.ListCameraStatus();
  REQUIRE(rows.ok());
  for (const auto& r : *rows) {
    if (r.camera_id == id) return r;
  }
  return std::nullopt;
}

bool AlarmActive(records::Database& db, const std::string& kind) {
  auto alarms = db.ListActiveAlarms();
  REQUIRE(alarms.ok());
  for (const auto& a : *alarms) {
    if (a.kind == kind) return true;
  }
  return false;
}

// Sets ASAN_OPTIONS for the processes started while it lives (posix_spawn passes this
// process's environment), then puts it back.
class ChildAsanOptions {
 public:
  explicit ChildAsanOptions(const std::string& extra) {
    const char* old = std::getenv("ASAN_OPTIONS");
    if (old != nullptr) old_ = old;
    const std::string value = old_ ? *old_ + ":" + extra : extra;
    setenv("ASAN_OPTIONS", value.c_str(), 1);
  }
  ~ChildAsanOptions() {
    if (old_) {
      setenv("ASAN_OPTIONS", old_->c_str(), 1);
    } else {
      unsetenv("ASAN_OPTIONS");
    }
  }

 private:
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("an rtsps camera is recorded over the TCP client with its certificate pinned") {
  char tmpl[] = "/tmp/custodian-rtsps-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string certs = tmpl;
  // The first expires in 2 days (within the 30 warned of), the second in 400.
  const std::string first = MakeCertificate(certs, "first", 2);
  const std::string second = MakeCertificate(certs, "second", 400);
  sim::SimulatorOptions options;
  options.extra_args = {"--tls", certs + "/first.pem"};
  // The simulator is test equipment: in the sanitized build LeakSanitizer's tracer crashed
  // once ("Tracer caught signal 11") at the exit of a custodian-sim serving RTSPS, with
  // GIO's TLS threads still running, which fails the whole run. Its leak check is off; the
  // recorder's stays on (it is started after this scope).
  auto sim = [&] {
    ChildAsanOptions no_leak_check("detect_leaks=0");
    return sim::SimulatorProcess::Start({"lobby:codec=h264,width=320,height=180,gop=25,clip=4"},
                                        options);
  }();
  REQUIRE(sim.ok());
  const std::string url = (*sim)->Url("lobby");
  REQUIRE(url.rfind("rtsps://", 0) == 0);
  TestSite site({{"lobby", url, "tcp"}}, /*segment_seconds=*/2);
  RecorderProcess recorder(site);
  auto db = site.OpenRecords();
  PosixFilesystem fs;
  const std::string pin_path = media::rtsp::CertificatePinPath(site.data_dir(), "lobby");

  // Recorded, and the certificate pinned on first use.
  REQUIRE(WaitFor([&] { return CompleteSegments(*db, "lobby").size() >= 2; }, 60'000));
  auto pin = media::rtsp::ReadCertificatePin(fs, pin_path);
  REQUIRE(pin.ok());
  REQUIRE(pin->has_value());
  CHECK((*pin)->sha256 == first);
  CHECK((*pin)->pinned_by == "first use");
  // What the certificate states, kept for the camera page; its near expiry is an alarm,
  // and recording goes on.
  CHECK((*pin)->subject == "CN=first");
  REQUIRE((*pin)->expires);
  const int64_t left = *(*pin)->expires - WallNow();
  CHECK(left > kMicrosPerDay);
  CHECK(left <= 2 * kMicrosPerDay);
  REQUIRE(WaitFor([&] { return AlarmActive(*db, "camera_certificate_expiry:lobby"); }, 30'000));
  std::string log;
  {
    auto text = ReadFileToString(fs, site.log());
    REQUIRE(text.ok());
    log = *text;
  }
  CHECK(log.find("TLS certificate pinned on first use") != std::string::npos);

  // A new certificate: the camera is refused, its status and an alarm say why.
  REQUIRE((*sim)->Command("certificate " + certs + "/second.pem").ok());
  REQUIRE(WaitFor([&] { return AlarmActive(*db, "camera_certificate:lobby"); }, 30'000));
  REQUIRE(WaitFor(
      [&] {
        auto s = CameraStatus(*db, "lobby");
        return s && !s->online && s->last_error &&
               s->last_error->find("TLS certificate has changed") != std::string::npos &&
               s->last_error->find(second) != std::string::npos;
      },
      30'000));
  const size_t stopped_at = CompleteSegments(*db, "lobby").size();
  auto recording = db->ListSegmentsInState(records::SegmentState::kRecording);
  REQUIRE(recording.ok());
  CHECK(recording->empty());
  pin = media::rtsp::ReadCertificatePin(fs, pin_path);
  REQUIRE(pin.ok());
  CHECK((*pin)->sha256 == first);
  CHECK((*pin)->presented == second);
  CHECK((*pin)->presented_subject == "CN=second");
  std::this_thread::sleep_for(std::chrono::seconds(5));
  CHECK(CompleteSegments(*db, "lobby").size() == stopped_at);  // nothing recorded meanwhile

  // Accepted (as the API does): recording resumes on the next attempt, the alarm clears.
  REQUIRE(media::rtsp::AcceptPresentedCertificate(fs, pin_path, second, "admin", WallNow()).ok());
  REQUIRE(WaitFor([&] { return CompleteSegments(*db, "lobby").size() >= stopped_at + 2; }, 60'000));
  REQUIRE(WaitFor([&] { return !AlarmActive(*db, "camera_certificate:lobby"); }, 30'000));
  // The new certificate is good for 400 days: the expiry alarm clears too.
  REQUIRE(WaitFor([&] { return !AlarmActive(*db, "camera_certificate_expiry:lobby"); }, 30'000));
  pin = media::rtsp::ReadCertificatePin(fs, pin_path);
  REQUIRE(pin.ok());
  CHECK((*pin)->subject == "CN=second");
  REQUIRE(recorder.Stop() == 0);
  RequireSegmentsPlayAndMatch(*db, site.data_dir());
  std::filesystem::remove_all(certs);
}
