// Figures the fault and load suite prints for docs/design/reliability.md.
#pragma once

#include <string>
#include <vector>

namespace custodian::testing {

// Prints "figure NAME: VALUE" on stdout (seen with ctest -V or when running the binary).
void Figure(const std::string& name, const std::string& value);

double Median(std::vector<double> v);
double Max(const std::vector<double>& v);

}  // namespace custodian::testing
