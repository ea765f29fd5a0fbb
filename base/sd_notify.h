// Service notifications to systemd (sd_notify(3)), without linking libsystemd.
//
// A unit with Type=notify starts the service with $NOTIFY_SOCKET naming a datagram socket;
// the service sends "READY=1" once it is serving, "WATCHDOG=1" at least every half of
// WatchdogSec (systemd kills and restarts it otherwise), and "STOPPING=1" when it begins
// to shut down. Outside systemd the variable is unset and every call does nothing, so the
// verbs call these unconditionally. A socket path starting with '@' is in Linux's abstract
// namespace (the '@' stands for a leading NUL byte).
//
// Thread-safe: each call opens, sends on and closes its own socket.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace custodian {

// Sends state (e.g. "READY=1", or several "K=V" lines) to $NOTIFY_SOCKET. Ok without
// sending when the variable is unset or empty; kInvalidArgument for a malformed socket
// name; an errno status when the datagram could not be sent.
Status SdNotify(const std::string& state);

// The watchdog interval systemd asked for ($WATCHDOG_USEC), or 0 when there is no
// watchdog or it is meant for another process ($WATCHDOG_PID names a different pid).
int64_t SdWatchdogIntervalUs();

// Convenience wrappers that log a failure once as a warning and carry on: a service must
// not stop recording because systemd could not be told something.
void NotifyReady(const char* component);
void NotifyWatchdog(const char* component);
void NotifyStopping(const char* component);

}  // namespace custodian
