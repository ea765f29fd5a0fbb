// Fuzz target: request routing. The first byte picks the method; the rest is the request
// target as a client sent it. SplitTarget, PercentDecode and MatchRoute must accept any
// bytes, and a match must carry only parameters of the documented shape.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "api/http.h"
#include "api/routes.h"

using namespace custodian;
using namespace custodian::api;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const Method kMethods[] = {Method::kGet,   Method::kHead,   Method::kPost, Method::kPut,
                                    Method::kPatch, Method::kDelete, Method::kOther};
  const Method method = kMethods[data[0] % 7];
  const std::string target(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string path;
  std::map<std::string, std::string> query;
  SplitTarget(target, &path, &query);
  (void)PercentDecode(target, true);
  (void)PercentEncode(target);
  std::string allowed;
  auto match = MatchRoute(method, path, &allowed);
  if (match.ok()) {
    const RouteParams& p = match->params;
    // The router's promise to handlers: ids are positive, camera ids are well formed,
    // assets never climb out of the web root.
    if (p.id && *p.id <= 0) std::abort();
    if (!p.camera.empty() && !IsValidCameraId(p.camera)) std::abort();
    if (p.asset.find("..") != std::string::npos) std::abort();
  }
  return 0;
}
