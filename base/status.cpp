#include "base/status.h"

#include <cerrno>
#include <cstring>

namespace custodian {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kOk: return "ok";
    case ErrorKind::kInvalidArgument: return "invalid_argument";
    case ErrorKind::kNotFound: return "not_found";
    case ErrorKind::kAlreadyExists: return "already_exists";
    case ErrorKind::kPermissionDenied: return "permission_denied";
    case ErrorKind::kUnauthenticated: return "unauthenticated";
    case ErrorKind::kFailedPrecondition: return "failed_precondition";
    case ErrorKind::kResourceExhausted: return "resource_exhausted";
    case ErrorKind::kUnavailable: return "unavailable";
    case ErrorKind::kDataLoss: return "data_loss";
    case ErrorKind::kIo: return "io";
    case ErrorKind::kInternal: return "internal";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(ErrorKindName(kind_)) + ": " + message_;
}


Status ErrnoStatus(const std::string& what, int err) {
  std::string msg = what + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return ResourceExhausted(msg);
  if (err == ENOENT) return NotFound(msg);
  if (err == EACCES || err == EPERM) return PermissionDenied(msg);
  return IoError(msg);
}

}  // namespace custodian
