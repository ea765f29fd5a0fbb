// docs/ref/openapi.yaml must document every route in the table, with an example for each
// response, and nothing that the server does not serve.
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <set>

#include "api/routes.h"

namespace custodian::api {
namespace {

std::string DocPath(const RouteSpec& r) {
  std::string p = r.pattern;
  auto at = p.find("{asset...}");
  if (at != std::string::npos) p.replace(at, 10, "{asset}");
  return p;
}

std::string Lower(const char* method) {
  std::string m = method;
  for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return m;
}

// Whether some response of the operation (following "#/components/responses/..." refs)
// carries an example.
bool HasExample(const YAML::Node& doc, const YAML::Node& operation) {
  for (const auto& entry : operation["responses"]) {
    YAML::Node response = entry.second;
    if (response["$ref"]) {
      const std::string ref = response["$ref"].as<std::string>();
      const std::string prefix = "#/components/responses/";
      if (ref.rfind(prefix, 0) != 0) continue;
      response = doc["components"]["responses"][ref.substr(prefix.size())];
    }
    for (const auto& content : response["content"]) {
      if (content.second["example"] || content.second["examples"]) return true;
    }
  }
  return false;
}

TEST_CASE("api OpenAPI reference documents every route with an example") {
  YAML::Node doc = YAML::LoadFile(std::string(CUSTODIAN_SOURCE_DIR) + "/docs/ref/openapi.yaml");
  REQUIRE(doc["openapi"].as<std::string>().rfind("3.", 0) == 0);
  const YAML::Node paths = doc["paths"];
  REQUIRE(paths.IsMap());
  std::set<std::string> served;
  for (const RouteSpec& r : RouteTable()) {
    const std::string path = DocPath(r), method = Lower(MethodName(r.method));
    served.insert(method + " " + path);
    INFO(method << " " << path);
    REQUIRE(paths[path]);
    REQUIRE(paths[path][method]);
    CHECK(paths[path][method]["summary"]);
    CHECK(HasExample(doc, paths[path][method]));
  }
  for (const auto& p : paths) {
    for (const auto& op : p.second) {
      const std::string key = op.first.as<std::string>();
      if (key == "parameters") continue;
      INFO("documented but not served: " << key << " " << p.first.as<std::string>());
      CHECK(served.count(key + " " + p.first.as<std::string>()) == 1);
    }
  }
}

}  // namespace
}  // namespace custodian::api
