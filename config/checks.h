// Checks on single config values, shared by the loader and by anything else that accepts
// the same values (an API that adds a camera, a CLI flag naming one).
//
// Each check returns the problem as a message that completes "<key path>: ", or nothing when
// the value is good. Messages quote the value, except that a camera URL containing '@' is
// never quoted, because it may carry a password.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"

namespace custodian::config {

inline constexpr size_t kMaxCameraIdLength = 64;

// [a-z0-9-]+, at most kMaxCameraIdLength characters, starting with a letter or digit (so
// that an id is never mistaken for a command-line option or a hidden file).
std::optional<std::string> CheckCameraId(const std::string& id);

// rtsp:// or rtsps://, a host (name, IPv4, or [IPv6]), an optional port 1-65535, no spaces,
// and no user name or password: those belong in username and password_file.
std::optional<std::string> CheckCameraUrl(const std::string& url);

// Where a camera URL sends its credentials: "scheme://host:port", lower-cased, with the
// scheme's default port (554 for rtsp, 322 for rtsps) made explicit, so that two URLs of
// one endpoint compare equal. "" for a URL that CheckCameraUrl refuses. A stored password
// belongs to one endpoint (an admin who could point a camera elsewhere and
// "test" it would harvest the password).
std::string CameraEndpoint(const std::string& url);

inline constexpr size_t kMaxDeviceTextLength = 64;

// A camera's make, model or firmware: printable ASCII (space to ~), at most
// kMaxDeviceTextLength characters.
std::optional<std::string> CheckDeviceText(const std::string& text);

struct ListenAddress {
  std::string host;  // IPv6 without brackets
  int port = 0;
};

// "host:port" with IPv6 as "[addr]:port"; the host is required ("0.0.0.0" or "[::]" for
// every interface). On error the status is kInvalidArgument with a message as above.
Result<ListenAddress> ParseListenAddress(const std::string& listen);

}  // namespace custodian::config
