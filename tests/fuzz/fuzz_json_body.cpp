// Fuzz target: JSON request bodies. The first byte picks one of the routes that take a JSON
// body (as the admin or the DPO, whichever may call it); the rest is the body, sent with a
// valid session and CSRF token so that it reaches the handler's parser. Any 4xx is fine; a
// crash, a sanitizer report or a 5xx other than 503 is not.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "api/http.h"
#include "tests/fuzz/api_harness.h"

using namespace custodian;
using namespace custodian::api;

namespace {

struct BodyRoute {
  Method method;
  const char* target;
  bool admin;  // else the DPO
};

const BodyRoute kRoutes[] = {
    {Method::kPost, "/api/v1/auth/password", true},
    {Method::kPost, "/api/v1/users", true},
    {Method::kPatch, "/api/v1/users/3", true},
    {Method::kPut, "/api/v1/users/3/cameras", true},
    {Method::kPost, "/api/v1/holds", false},
    {Method::kPost, "/api/v1/holds/1/release", false},
    {Method::kPost, "/api/v1/requests", false},
    {Method::kPost, "/api/v1/requests/1/verifications", false},
    {Method::kPost, "/api/v1/requests/1/decision", false},
    {Method::kPost, "/api/v1/requests/1/extension", false},
    {Method::kPost, "/api/v1/requests/1/exports", false},
    {Method::kPost, "/api/v1/disclosures", false},
    {Method::kPost, "/api/v1/auth/login", false},
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::ApiHarness::Get();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const BodyRoute& route = kRoutes[data[0] % (sizeof kRoutes / sizeof kRoutes[0])];
  HttpRequest r;
  r.method = route.method;
  r.target = route.target;
  SplitTarget(r.target, &r.path, &r.query);
  r.headers = {{"host", "127.0.0.1:8443"}, {"content-type", "application/json"}};
  r.body.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  r.client = "127.0.0.1";
  r.client_is_loopback = true;
  fuzz::ApiHarness& h = fuzz::ApiHarness::Get();
  fuzz::ApiHarness::SignIn(r, route.admin ? h.admin() : h.dpo());
  HttpResponse resp = h.Handle(r);
  if (resp.status >= 500 && resp.status != 503) {
    std::fprintf(stderr, "server error %d for %s: %s\n", resp.status, route.target, resp.body.c_str());
    std::abort();
  }
  return 0;
}
