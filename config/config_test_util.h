// Helpers for the config tests: a temporary directory to write config files into, and
// the error text of a load that must fail.
#pragma once

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

#include "config/site_config.h"

namespace custodian::config::testing {

class TempConfigDir {
 public:
  TempConfigDir() {
    char tmpl[] = "/tmp/custodian-config-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
  }
  ~TempConfigDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TempConfigDir(const TempConfigDir&) = delete;
  TempConfigDir& operator=(const TempConfigDir&) = delete;

  const std::string& dir() const { return dir_; }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // Writes text to name (parent directories created) and returns its path.
  std::string Write(const std::string& name, const std::string& text) const {
    std::filesystem::path p = Path(name);
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }

 private:
  std::string dir_;
};

// The message of a load that must fail with kInvalidArgument.
inline std::string LoadErrors(const std::string& path) {
  Result<SiteConfig> site = LoadSiteConfig(path);
  REQUIRE_FALSE(site.ok());
  REQUIRE(site.status().kind() == ErrorKind::kInvalidArgument);
  return site.status().message();
}

// Expected error lines joined as LoadSiteConfig joins them.
inline std::string Lines(std::initializer_list<std::string> lines) {
  std::string out;
  for (const std::string& line : lines) out += (out.empty() ? "" : "\n") + line;
  return out;
}

// A minimal valid site file's first lines; tests append their own keys below them, so the
// first line a test adds is line 3.
inline const char* kSiteHead =
    "site: { name: Test }\n"
    "data_dir: data\n";

}  // namespace custodian::config::testing
