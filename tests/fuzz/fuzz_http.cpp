// Fuzz target: HTTP request handling without TLS. The input is a raw HTTP/1.1 request as a
// client would send it; it is parsed with the server's Beast parser and limits, converted
// as the server does, and handed to the real Api (routing, sessions, CSRF, role rules,
// handlers, access log) over a real records.db. The first byte's low bits choose whether
// the request carries the admin's or the DPO's session. Any answer is fine; a crash, a
// sanitizer report or a 5xx other than 503 is not.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "api/http.h"
#include "tests/fuzz/api_harness.h"

namespace beast = boost::beast;
namespace http = beast::http;
using namespace custodian;
using namespace custodian::api;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::ApiHarness::Get();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t who = data[0] % 3;
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);  // ServerLimits' defaults
  parser.body_limit(1024 * 1024);
  parser.eager(true);
  beast::error_code ec;
  parser.put(boost::asio::buffer(data + 1, size - 1), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;
  http::request<http::string_body> in = parser.release();

  HttpRequest r;
  r.method = ParseMethod(std::string_view(in.method_string().data(), in.method_string().size()));
  r.target = std::string(in.target());
  SplitTarget(r.target, &r.path, &r.query);
  for (const auto& field : in)
    r.headers.emplace_back(ToLower(std::string_view(field.name_string().data(), field.name_string().size())),
                           std::string(field.value()));
  r.body = std::move(in.body());
  r.client = "127.0.0.1";
  r.client_is_loopback = true;
  fuzz::ApiHarness& h = fuzz::ApiHarness::Get();
  if (who == 1) fuzz::ApiHarness::SignIn(r, h.admin());
  if (who == 2) fuzz::ApiHarness::SignIn(r, h.dpo());
  HttpResponse resp = h.Handle(r);
  if (resp.status >= 500 && resp.status != 503) {
    std::fprintf(stderr, "server error %d for %s %s: %s\n", resp.status, MethodName(r.method),
                 r.target.c_str(), resp.body.c_str());
    std::abort();
  }
  return 0;
}
