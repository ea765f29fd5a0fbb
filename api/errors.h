// Errors as the API shows them: the one place where an ErrorKind becomes an HTTP status,
// and where an error becomes a JSON body.
//
// Every error response is
//
//   {"error": {"code": "not_found", "message": "no segment 12"}}
//
// with the code taken from the ErrorKind (base/status.h). Messages from the API layer are
// written for the client. Messages from lower layers may name tables or SQL, so they are
// never shown: kinds that mean a server-side fault (kIo, kDataLoss, kInternal, kUnavailable,
// kResourceExhausted) always get a fixed message, and any message from the records layer
// is replaced too. The real message goes to the server log.
#pragma once

#include <string>

#include "api/http.h"
#include "base/status.h"

namespace custodian::api {

// The HTTP status for an error kind (kOk -> 200).
int HttpStatusFor(ErrorKind kind);

// A complete JSON error response for a non-ok status. Logs server-side faults.
HttpResponse ErrorResponse(const Status& status);
// A JSON error response with an explicit HTTP status and code, for errors that no
// ErrorKind names: 405, 413, 416, 431.
HttpResponse ErrorResponse(int http_status, const std::string& code, const std::string& message);

// A records-layer failure as the API reports it: same kind, a message safe to show
// ("could not <what>"), the original logged.
Status FromRecords(const Status& records_status, const std::string& what);

}  // namespace custodian::api
