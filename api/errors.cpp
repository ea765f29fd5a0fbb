#include "api/errors.h"

#include <nlohmann/json.hpp>

#include "base/log.h"

namespace custodian::api {

namespace {

bool IsServerFault(ErrorKind kind) { return HttpStatusFor(kind) >= 500; }

std::string PublicMessage(const Status& status) {
  switch (status.kind()) {
    case ErrorKind::kUnavailable:
      return "the records are busy; retry shortly";
    case ErrorKind::kResourceExhausted:
      return "the server is out of a resource (disk space or capacity); retry later";
    default:
      break;
  }
  if (IsServerFault(status.kind())) return "internal error; the server log has the details";
  // Defence in depth: a records message may quote SQL.
  if (status.message().rfind("records:", 0) == 0) return ErrorKindName(status.kind());
  return status.message();
}

}  // namespace

int HttpStatusFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kOk:
      return 200;
    case ErrorKind::kInvalidArgument:
      return 400;
    case ErrorKind::kUnauthenticated:
      return 401;
    case ErrorKind::kPermissionDenied:
      return 403;
    case ErrorKind::kNotFound:
      return 404;
    case ErrorKind::kAlreadyExists:
      return 409;
    case ErrorKind::kFailedPrecondition:
      return 409;
    case ErrorKind::kResourceExhausted:
      return 503;
    case ErrorKind::kUnavailable:
      return 503;
    case ErrorKind::kDataLoss:
      return 500;
    case ErrorKind::kIo:
      return 500;
    case ErrorKind::kInternal:
      return 500;
  }
  return 500;
}

HttpResponse ErrorResponse(int http_status, const std::string& code, const std::string& message) {
  HttpResponse r;
  r.status = http_status;
  nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  // Replacement of invalid UTF-8 keeps a hostile byte in a message from throwing.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (http_status == 503) r.SetHeader("Retry-After", "5");
  return r;
}

HttpResponse ErrorResponse(const Status& status) {
  if (IsServerFault(status.kind())) {
    LogWarn("api") << "request failed: " << status.ToString();
  }
  return ErrorResponse(HttpStatusFor(status.kind()), ErrorKindName(status.kind()),
                       PublicMessage(status));
}

Status FromRecords(const Status& records_status, const std::string& what) {
  LogWarn("api") << "could not " << what << ": " << records_status.ToString();
  return Status(records_status.kind(), "could not " + what);
}

}  // namespace custodian::api
