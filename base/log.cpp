#include "base/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "base/clock.h"

namespace custodian {

namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::mutex g_write_mu;
const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarn: return "WARN";
    case LogLevel::kError: return "ERROR";
  }
  return "?";
}
}  // namespace

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }

bool ParseLogLevel(const std::string& s, LogLevel* out) {
  if (s == "debug") *out = LogLevel::kDebug;
  else if (s == "info") *out = LogLevel::kInfo;
  else if (s == "warn") *out = LogLevel::kWarn;
  else if (s == "error") *out = LogLevel::kError;
  else return false;
  return true;
}

LogLine::LogLine(LogLevel level, const char* component)
    : enabled_(static_cast<int>(level) >= g_level.load()), level_(level), component_(component) {}

LogLine::~LogLine() {
  if (!enabled_) return;
  std::string line = FormatUtc(SystemClock::Instance().Now()) + " " + LevelName(level_) + " [" +
                     component_ + "] " + out_.str() + "\n";
  std::lock_guard l(g_write_mu);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

std::string RedactUrl(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto host_start = scheme + 3;
  auto at = url.find('@', host_start);
  auto slash = url.find('/', host_start);
  if (at == std::string::npos || (slash != std::string::npos && at > slash)) return url;
  return url.substr(0, host_start) + "***@" + url.substr(at + 1);
}

}  // namespace custodian
