#include "api/metrics.h"

#include <sstream>

namespace custodian::api {

namespace {

const char* RouteLabel(size_t index) {
  return index < static_cast<size_t>(RouteId::kCount) ? RouteTable()[index].action : "unmatched";
}

}  // namespace

void Metrics::CountRequest(const RouteSpec* route, int status, int64_t duration_us) {
  size_t r = route ? static_cast<size_t>(route->id) : kRoutes - 1;
  size_t c = status >= 100 && status < 600 ? static_cast<size_t>(status / 100 - 1) : 4;
  requests_[r][c]++;
  size_t b = 0;
  while (b < kBucketsUs.size() && duration_us > kBucketsUs[b]) ++b;
  latency_buckets_[b]++;
  latency_sum_us_ += duration_us;
}

std::string Metrics::Render() const {
  std::ostringstream o;
  o << "# HELP custodian_http_requests_total HTTP requests answered, by route and status class.\n"
       "# TYPE custodian_http_requests_total counter\n";
  for (size_t r = 0; r < kRoutes; ++r) {
    for (size_t c = 0; c < kClasses; ++c) {
      int64_t n = requests_[r][c].load();
      if (n == 0) continue;
      o << "custodian_http_requests_total{route=\"" << RouteLabel(r) << "\",status=\"" << (c + 1)
        << "xx\"} " << n << "\n";
    }
  }
  o << "# HELP custodian_http_request_duration_seconds Time from request read to response "
       "ready.\n# TYPE custodian_http_request_duration_seconds histogram\n";
  int64_t cumulative = 0;
  for (size_t b = 0; b < kBucketsUs.size(); ++b) {
    cumulative += latency_buckets_[b].load();
    o << "custodian_http_request_duration_seconds_bucket{le=\""
      << static_cast<double>(kBucketsUs[b]) / 1e6 << "\"} " << cumulative << "\n";
  }
  cumulative += latency_buckets_[kBucketsUs.size()].load();
  o << "custodian_http_request_duration_seconds_bucket{le=\"+Inf\"} " << cumulative << "\n"
    << "custodian_http_request_duration_seconds_sum " << static_cast<double>(latency_sum_us_) / 1e6
    << "\ncustodian_http_request_duration_seconds_count " << cumulative << "\n";
  auto gauge = [&](const char* name, const char* type, const char* help, int64_t v) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
      << name << " " << v << "\n";
  };
  gauge("custodian_login_failures_total", "counter", "Failed sign-ins.", login_failures_);
  gauge("custodian_access_log_entries_total", "counter", "Access-log entries written.",
        access_entries_);
  gauge("custodian_access_log_failures_total", "counter",
        "Access-log entries that could not be written (the request was refused).",
        access_failures_);
  gauge("custodian_http_connections_open", "gauge", "Open connections.", connections_open_);
  gauge("custodian_http_connections_total", "counter", "Accepted connections.", connections_total_);
  gauge("custodian_http_connections_rejected_total", "counter",
        "Connections closed at once because the connection limit was reached.",
        connections_rejected_);
  gauge("custodian_http_edge_rejections_total", "counter",
        "Requests refused before routing: oversized headers or body, malformed HTTP.",
        edge_rejections_);
  return o.str();
}

}  // namespace custodian::api
