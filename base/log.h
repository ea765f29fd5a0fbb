// Logging: one line per event to stdout (journald captures it in production).
//
//   LogInfo("recorder") << "camera " << id << " online; next segment in " << s << " s";
//
// A line says what happened, to what, and what happens next. Never log personal data
// beyond ids, nor secrets (passwords, tokens, camera credentials: see RedactUrl).
// Thread-safe: each line is written whole.
#pragma once

#include <sstream>
#include <string>

namespace custodian {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Parses "debug|info|warn|error"; false otherwise.
bool ParseLogLevel(const std::string& s, LogLevel* out);

class LogLine {
 public:
  LogLine(LogLevel level, const char* component);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  template <typename T>
  LogLine& operator<<(const T& v) {
    if (enabled_) out_ << v;
    return *this;
  }

 private:
  bool enabled_;
  LogLevel level_;
  const char* component_;
  std::ostringstream out_;
};

inline LogLine LogDebug(const char* c) { return LogLine(LogLevel::kDebug, c); }
inline LogLine LogInfo(const char* c) { return LogLine(LogLevel::kInfo, c); }
inline LogLine LogWarn(const char* c) { return LogLine(LogLevel::kWarn, c); }
inline LogLine LogError(const char* c) { return LogLine(LogLevel::kError, c); }

// "rtsp://user:secret@host/path" -> "rtsp://***@host/path": safe to log.
std::string RedactUrl(const std::string& url);

}  // namespace custodian
