#include "health/alarm_watcher.h"

#include <chrono>
#include <sstream>

#include "base/log.h"
#include "health/alarm_words.h"

namespace custodian::health {

namespace {

constexpr int64_t kFirstBackoffUs = 15 * kMicrosPerSecond;
constexpr int64_t kMaxBackoffUs = 300 * kMicrosPerSecond;
constexpr int kMailsPerRound = 10;
// A camera clock measured longer ago than this is not judged (the camera has stopped
// sending sender reports, or stopped).
constexpr int64_t kCameraClockLookbackUs = kMicrosPerDay;

// A password file larger than this is certainly the wrong file.
constexpr uint64_t kMaxPasswordFileBytes = 4096;

// The first line of the password file.
Result<std::string> ReadPassword(Filesystem& fs, const std::string& path) {
  auto read = ReadFileToString(fs, path, kMaxPasswordFileBytes);
  if (!read.ok()) {
    return FailedPrecondition("the SMTP password file " + path +
                              " cannot be read: " + read.status().message());
  }
  std::string password = read->substr(0, read->find('\n'));
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

std::string CameraName(const AlarmWatcherOptions& o, const std::string& id) {
  for (const auto& [cid, name] : o.cameras) {
    if (cid == id) return name;
  }
  return id;
}

}  // namespace

AlarmWatcher::AlarmWatcher(records::Database& db, const Clock& clock, AlarmWatcherOptions options)
    : db_(db), clock_(clock), options_(std::move(options)), started_(clock.Now()) {}

Result<std::unique_ptr<AlarmWatcher>> AlarmWatcher::Start(records::Database& db,
                                                          const Clock& clock,
                                                          AlarmWatcherOptions options) {
  std::unique_ptr<AlarmWatcher> w(new AlarmWatcher(db, clock, std::move(options)));
  CUSTODIAN_RETURN_IF_ERROR(db.MarkAlarmsNotNotified({w->started_.us - kMicrosPerDay}));
  w->thread_ = std::thread([raw = w.get()] { raw->Run(); });
  return w;
}

AlarmWatcher::~AlarmWatcher() { Stop(); }

void AlarmWatcher::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AlarmWatcher::Run() {
  for (;;) {
    Status checked = Check();
    if (!checked.ok()) LogWarn("health") << "alarms not checked: " << checked.ToString() << "; next round in a few seconds";
    if (options_.email) Notify();
    MutexLock lock(mu_);
    if (lock.WaitFor(wake_, std::chrono::microseconds(options_.interval_us),
                     [this]() REQUIRES(mu_) { return stopping_; })) {
      return;
    }
  }
}

Status AlarmWatcher::Check() {
  SiteFacts f;
  f.now = clock_.Now();
  f.watching_since = started_;
  for (const auto& [id, name] : options_.cameras) f.cameras.push_back(id);
  auto statuses = db_.ListCameraStatus();
  if (!statuses.ok()) return statuses.status();
  f.statuses = std::move(*statuses);
  f.clock_synchronized = clock_.Synchronized();
  auto backup = db_.GetSetting(kLastBackupSetting);
  if (!backup.ok()) return backup.status();
  if (auto us = IntegerSetting(*backup)) f.last_backup = UtcMicros{*us};
  records::RequestFilter dsars;
  dsars.type = records::RequestType::kDsar;
  auto requests = db_.ListFootageRequests(dsars);
  if (!requests.ok()) return requests.status();
  for (const records::FootageRequestRow& r : *requests) {
    bool open = r.state != records::RequestState::kClosed &&
                r.state != records::RequestState::kWithdrawn &&
                r.state != records::RequestState::kDisclosed &&
                r.state != records::RequestState::kRefused;
    if (open && r.deadline) f.open_dsars.push_back({r.id, *r.deadline});
  }
  for (const std::string& camera : f.cameras) {
    auto latest = db_.LatestClockOffset(camera, {f.now.us - kCameraClockLookbackUs});
    if (!latest.ok()) return latest.status();
    if (*latest) f.camera_clocks.push_back({camera, *(*latest)->clock_offset_us, (*latest)->start});
  }
  MonoMicros mono = clock_.Monotonic();
  bool check_log = !last_access_log_check_ ||
                   mono.us - last_access_log_check_->us >= options_.access_log_interval_us;
  if (check_log) {
    auto verified = db_.VerifyAccessLog();
    if (!verified.ok()) return verified.status();
    f.access_log = *verified;
    last_access_log_check_ = mono;
  }
  return ApplyAlarms(db_, WantedAlarms(f, options_.policy), check_log);
}

Mail AlarmWatcher::MailFor(const AlarmWatcherOptions& o, const records::AlarmRow& a) {
  AlarmWords words = DescribeAlarm(a.kind, CameraName(o, AlarmCamera(a.kind)));
  Mail mail;
  mail.from = o.email ? o.email->from : "";
  if (o.email) mail.to = o.email->to;
  mail.subject = "[" + o.site_name + "] " + (a.cleared ? "(cleared) " : "") + words.title;
  std::ostringstream body;
  body << words.title << "\n\n"
       << "Raised: " << UtcText(a.raised) << "\n";
  if (a.cleared) body << "Cleared: " << UtcText(*a.cleared) << "\n";
  if (!a.detail.empty()) body << "Detail: " << a.detail << "\n";
  body << "\nWhat to do: " << words.what_to_do << "\n\n"
       << "The health page of the site's Custodian shows every open alarm; acknowledge it "
          "there once someone is dealing with it.\n"
       << "Alarm " << a.id << " (" << a.kind << ").\n";
  mail.body = body.str();
  return mail;
}

void AlarmWatcher::Notify() {
  MonoMicros mono = clock_.Monotonic();
  if (mono.us < next_send_.us) return;
  auto due = db_.ListAlarmsToNotify(kMailsPerRound);
  if (!due.ok()) {
    LogWarn("health") << "alarms to e-mail not read: " << due.status().ToString();
    return;
  }
  SmtpRelay relay = options_.email->relay;
  if (!due->empty() && !options_.email->password_file.empty()) {
    auto password =
        ReadPassword(options_.fs != nullptr ? *options_.fs : PosixFilesystem::Instance(),
                     options_.email->password_file);
    if (!password.ok()) {
      LogError("health") << password.status().message() << "; alarm e-mail not sent";
      return;
    }
    relay.password = *password;
  }
  for (const records::AlarmRow& a : *due) {
    Status sent = SendMail(relay, MailFor(options_, a), clock_.Now());
    if (!sent.ok()) {
      send_backoff_us_ = send_backoff_us_ == 0 ? kFirstBackoffUs
                                               : std::min(send_backoff_us_ * 2, kMaxBackoffUs);
      next_send_ = MonoMicros{clock_.Monotonic().us + send_backoff_us_};
      LogWarn("health") << "alarm " << a.id << " (" << a.kind << ") not e-mailed: "
                        << sent.ToString() << "; trying again in "
                        << send_backoff_us_ / kMicrosPerSecond << " s";
      return;
    }
    send_backoff_us_ = 0;
    Status marked = db_.MarkAlarmNotified(a.id);
    LogInfo("health") << "alarm " << a.id << " (" << a.kind << ") e-mailed to "
                      << options_.email->to.size() << " recipient(s)"
                      << (marked.ok() ? "" : "; not marked as sent: " + marked.ToString());
  }
}

}  // namespace custodian::health
