#include "tests/reliability/figures.h"

#include <algorithm>
#include <cstdio>

namespace custodian::testing {

void Figure(const std::string& name, const std::string& value) {
  std::printf("figure %s: %s\n", name.c_str(), value.c_str());
  std::fflush(stdout);
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double Max(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

}  // namespace custodian::testing
