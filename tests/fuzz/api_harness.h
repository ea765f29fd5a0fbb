// What the HTTP and JSON-body fuzz targets share: a real Api over a real records.db in a
// temporary directory (under /dev/shm when it exists, so that the access log's fsyncs are
// cheap), with two signed-in accounts, an admin and a DPO, whose cookies and CSRF tokens
// a target may attach to the requests it builds.
#pragma once

#include <memory>
#include <string>

#include "api/api.h"
#include "api/http.h"
#include "base/clock.h"
#include "records/database.h"

namespace custodian::fuzz {

using api::Api;
using api::HttpRequest;
using api::HttpResponse;

struct SignedIn {
  std::string cookie;  // "Cookie" header value
  std::string csrf;    // "X-CSRF-Token" header value
};

class ApiHarness {
 public:
  // The process-wide harness, made on first use; aborts if it cannot be set up.
  static ApiHarness& Get();

  HttpResponse Handle(const HttpRequest& request) { return api_->Handle(request); }
  const SignedIn& admin() const { return admin_; }
  const SignedIn& dpo() const { return dpo_; }
  // Attaches `who`'s cookie, CSRF token and same-origin headers to `request`.
  static void SignIn(HttpRequest& request, const SignedIn& who);

 private:
  ApiHarness();
  SignedIn Login(const std::string& name);

  std::string dir_;
  std::unique_ptr<records::Database> db_;
  std::unique_ptr<records::Database> log_db_;
  std::unique_ptr<Api> api_;
  SignedIn admin_, dpo_;
};

}  // namespace custodian::fuzz
