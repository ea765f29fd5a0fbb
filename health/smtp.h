// SendMail: one e-mail through an SMTP relay over TLS, for alarm notifications.
//
// The relay is reached either with STARTTLS (port 587, the usual submission port) or with
// TLS from the first byte (port 465); there is no plain-text mode, so a password and the
// alarms' text never cross the LAN in the clear. The relay's certificate is verified
// against ca_file (or the system's CAs when empty) and its name against host. With a
// username, AUTH PLAIN is sent only inside TLS.
//
// Every read and write is bounded by timeout_us; a call never blocks longer than a few
// times that. Errors, whose messages never contain the password:
//   kUnavailable         the relay could not be reached, timed out, or answered 4xx
//                        (try again later)
//   kFailedPrecondition  TLS could not be set up: no STARTTLS offered, certificate or name
//                        not verified
//   kPermissionDenied    the relay refused the username and password
//   kInvalidArgument     the relay refused the sender or a recipient (5xx), or a header
//                        held a line break
// Thread-safe: calls share nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace custodian::health {

struct SmtpRelay {
  enum class Security { kStartTls, kTls };
  std::string host;
  int port = 587;
  Security security = Security::kStartTls;
  std::string ca_file;   // PEM; empty: the system's CAs
  std::string username;  // empty: no AUTH
  std::string password;  // never logged, never in a message
  std::string helo_name = "custodian";
  int64_t timeout_us = 30 * kMicrosPerSecond;
};

struct Mail {
  std::string from;
  std::vector<std::string> to;
  std::string subject;
  std::string body;  // plain text; lines end in \n or \r\n
};

Status SendMail(const SmtpRelay& relay, const Mail& mail, UtcMicros date);

}  // namespace custodian::health
