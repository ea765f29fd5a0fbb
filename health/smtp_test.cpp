#include "health/smtp.h"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "base/testing/temp_dir.h"
#include "health/alarm_watcher.h"
#include "health/testing/fake_smtp_relay.h"

using namespace custodian;
using namespace custodian::health;
using custodian::health::testing::FakeSmtpOptions;
using custodian::health::testing::FakeSmtpRelay;
using custodian::testing::TempDir;

namespace {

constexpr UtcMicros kDate{1'800'000'000'000'000};
constexpr int kWaitMs = 30'000;

// The fake relay's certificate: self-signed for 127.0.0.1 by the openssl command, so the
// client can verify both the chain (it is its own CA) and the name.
struct RelayCert {
  TempDir dir;
  std::string cert = dir.File("relay-cert.pem");
  std::string key = dir.File("relay-key.pem");
  RelayCert() {
    const std::string command =
        std::string(CUSTODIAN_OPENSSL_CLI) +
        " req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2"
        " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '" +
        key + "' -out '" + cert + "' 2>/dev/null";
    REQUIRE(std::system(command.c_str()) == 0);
  }
};

FakeSmtpOptions Options(const RelayCert& cert) {
  FakeSmtpOptions o;
  o.cert_path = cert.cert;
  o.key_path = cert.key;
  return o;
}

SmtpRelay RelayFor(const FakeSmtpRelay& fake, const RelayCert& cert) {
  SmtpRelay r;
  r.host = "127.0.0.1";
  r.port = fake.port();
  r.ca_file = cert.cert;
  r.timeout_us = 20 * kMicrosPerSecond;
  return r;
}

Mail TestMail() {
  Mail m;
  m.from = "custodian@site.example";
  m.to = {"manager@site.example", "dpo@site.example"};
  m.subject = "Camera Yard is offline";
  m.body = "Raised at 05:00.\n.a line starting with a dot\nend\n";
  return m;
}

}  // namespace

TEST_CASE("an e-mail goes to the relay after STARTTLS, with the login inside TLS") {
  RelayCert cert;
  FakeSmtpOptions o = Options(cert);
  o.accept_auth = "custodian:relay-secret";
  FakeSmtpRelay fake(o);
  SmtpRelay relay = RelayFor(fake, cert);
  relay.username = "custodian";
  relay.password = "relay-secret";
  REQUIRE(SendMail(relay, TestMail(), kDate).ok());
  auto got = fake.WaitForMessages(1, kWaitMs);
  REQUIRE(got.size() == 1);
  CHECK(got[0].over_tls);
  CHECK(got[0].auth == "custodian:relay-secret");
  CHECK(got[0].from == "custodian@site.example");
  CHECK(got[0].to == std::vector<std::string>{"manager@site.example", "dpo@site.example"});
  CHECK(got[0].data.find("Subject: Camera Yard is offline\n") != std::string::npos);
  CHECK(got[0].data.find("\n.a line starting with a dot\n") != std::string::npos);
  CHECK(got[0].data.find("Date: Fri, 15 Jan 2027 08:00:00 +0000") != std::string::npos);
}

TEST_CASE("a relay that does not offer STARTTLS gets nothing, not a plain-text mail") {
  RelayCert cert;
  FakeSmtpOptions o = Options(cert);
  o.offer_starttls = false;
  o.accept_auth = "custodian:relay-secret";
  FakeSmtpRelay fake(o);
  SmtpRelay relay = RelayFor(fake, cert);
  relay.username = "custodian";
  relay.password = "relay-secret";
  Status sent = SendMail(relay, TestMail(), kDate);
  CHECK(sent.kind() == ErrorKind::kFailedPrecondition);
  CHECK(sent.message().find("STARTTLS") != std::string::npos);
  CHECK(fake.WaitForMessages(1, 200).empty());
}

TEST_CASE("a relay whose certificate is not the one trusted is refused") {
  RelayCert cert;
  RelayCert other;
  FakeSmtpRelay fake(Options(cert));
  SmtpRelay relay = RelayFor(fake, cert);
  relay.ca_file = other.cert;
  Status sent = SendMail(relay, TestMail(), kDate);
  CHECK(sent.kind() == ErrorKind::kFailedPrecondition);
  CHECK(fake.WaitForMessages(1, 200).empty());
}

TEST_CASE("a refused login is PermissionDenied and its message holds no password") {
  RelayCert cert;
  FakeSmtpOptions o = Options(cert);
  o.accept_auth = "custodian:another";
  FakeSmtpRelay fake(o);
  SmtpRelay relay = RelayFor(fake, cert);
  relay.username = "custodian";
  relay.password = "relay-secret";
  Status sent = SendMail(relay, TestMail(), kDate);
  CHECK(sent.kind() == ErrorKind::kPermissionDenied);
  CHECK(sent.message().find("relay-secret") == std::string::npos);
}

TEST_CASE("a relay refusing recipients for now is Unavailable, to try again later") {
  RelayCert cert;
  FakeSmtpOptions o = Options(cert);
  o.rcpt_reply = 450;
  FakeSmtpRelay fake(o);
  CHECK(SendMail(RelayFor(fake, cert), TestMail(), kDate).kind() == ErrorKind::kUnavailable);
}

TEST_CASE("a header with a line break is refused before anything is sent") {
  RelayCert cert;
  FakeSmtpRelay fake(Options(cert));
  Mail m = TestMail();
  m.subject = "hello\r\nBcc: someone@else.example";
  CHECK(SendMail(RelayFor(fake, cert), m, kDate).kind() == ErrorKind::kInvalidArgument);
  CHECK(fake.connections() == 0);
}

namespace {

// Records with one camera, yard, that has never sent a picture, and a relay certificate.
struct WatchedSite {
  RelayCert cert;
  TempDir dir;
  SystemClock& clock = SystemClock::Instance();
  std::unique_ptr<records::Database> db;
  WatchedSite() {
    auto opened = records::Database::Open(dir.File("records.db"), clock);
    REQUIRE(opened.ok());
    db = std::move(opened).value();
    REQUIRE(db->UpsertCamera({"yard", "Yard", {}}).ok());
  }
};

// A watcher that raises yard's offline alarm at once and e-mails it through fake.
AlarmWatcherOptions WatchYard(const FakeSmtpRelay& fake, const RelayCert& cert,
                              int64_t interval_us) {
  AlarmWatcherOptions w;
  w.site_name = "Test House";
  w.cameras = {{"yard", "Yard"}};
  w.policy.camera_offline_us = 1;  // at once: the camera has never sent a picture
  w.policy.backup_overdue_us = 0;
  w.interval_us = interval_us;
  AlarmEmail email;
  email.relay = RelayFor(fake, cert);
  email.from = "custodian@site.example";
  email.to = {"manager@site.example"};
  w.email = email;
  return w;
}

}  // namespace

TEST_CASE("the watcher e-mails a camera that went offline and marks the alarm as sent") {
  WatchedSite site;
  records::Database& d = *site.db;
  auto fake = std::make_unique<FakeSmtpRelay>(Options(site.cert));
  auto watcher = AlarmWatcher::Start(d, site.clock, WatchYard(*fake, site.cert, 100'000));
  REQUIRE(watcher.ok());

  auto got = fake->WaitForMessages(1, kWaitMs);
  REQUIRE(!got.empty());
  bool offline_mail = false;
  for (const auto& m : got) {
    offline_mail = offline_mail ||
                   m.data.find("Subject: [Test House] Camera Yard is offline") != std::string::npos;
  }
  CHECK(offline_mail);
  (*watcher)->Stop();
  auto alarms = d.ListRecentAlarms(UtcMicros{0}, 10);
  REQUIRE(alarms.ok());
  bool marked = false;
  for (const auto& a : *alarms) {
    if (a.kind == "camera_offline:yard") marked = a.notified.has_value() && a.notified->us > 0;
  }
  CHECK(marked);
}

namespace {

// Refuses reads of one path until allowed, counting the refusals.
class PasswordGate final : public ForwardingFilesystem {
 public:
  PasswordGate(Filesystem& base, std::string path)
      : ForwardingFilesystem(base), path_(std::move(path)) {}
  Result<std::unique_ptr<SequentialFile>> OpenSequential(const std::string& path) override {
    if (path == path_ && !allowed_) {
      ++refused_;
      return ErrnoStatus("open " + path + " (injected)", EIO);
    }
    return base_.OpenSequential(path);
  }
  std::atomic<bool> allowed_{false};
  std::atomic<int> refused_{0};

 private:
  const std::string path_;
};

}  // namespace

TEST_CASE("an unreadable SMTP password file sends nothing and loses no alarm") {
  WatchedSite site;
  records::Database& d = *site.db;
  const std::string password_file = site.dir.File("smtp.password");
  REQUIRE(WriteFileAtomically(PosixFilesystem::Instance(), password_file, "relay-secret\n").ok());
  PasswordGate gate(PosixFilesystem::Instance(), password_file);
  FakeSmtpOptions o = Options(site.cert);
  o.accept_auth = "custodian:relay-secret";
  auto fake = std::make_unique<FakeSmtpRelay>(o);
  AlarmWatcherOptions w = WatchYard(*fake, site.cert, 20'000);
  w.fs = &gate;
  w.email->relay.username = "custodian";
  w.email->password_file = password_file;
  auto watcher = AlarmWatcher::Start(d, site.clock, w);
  REQUIRE(watcher.ok());

  // Two rounds found an alarm to send and could not read the password: nothing went out.
  for (int i = 0; i < kWaitMs / 10 && gate.refused_ < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(gate.refused_ >= 2);
  CHECK(fake->connections() == 0);
  auto waiting = d.ListAlarmsToNotify(10);
  REQUIRE(waiting.ok());
  CHECK(std::any_of(waiting->begin(), waiting->end(),
                    [](const records::AlarmRow& a) { return a.kind == "camera_offline:yard"; }));

  // Once it reads again, the same alarm is sent with the password from the file.
  gate.allowed_ = true;
  auto got = fake->WaitForMessages(1, kWaitMs);
  REQUIRE(!got.empty());
  CHECK(got[0].auth == "custodian:relay-secret");
  (*watcher)->Stop();
}
