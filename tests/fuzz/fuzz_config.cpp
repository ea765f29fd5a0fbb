// Fuzz target: the site file parser (config::LoadSiteConfig) on arbitrary bytes. A bad file
// must come back as a Status, never a crash, a hang or an exception.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "config/site_config.h"

namespace {

// One file per process, rewritten for every input; LoadSiteConfig reads paths only.
const std::string& SitePath() {
  static const std::string path = [] {
    char tmpl[] = "/tmp/custodian-fuzz-config-XXXXXX";
    static std::string dir = mkdtemp(tmpl) ? tmpl : "";
    if (dir.empty()) std::abort();
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    });
    return dir + "/site.yaml";
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FILE* f = std::fopen(SitePath().c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  auto site = custodian::config::LoadSiteConfig(SitePath());
  if (site.ok()) (void)custodian::config::RecordsDbPath(*site);
  return 0;
}
