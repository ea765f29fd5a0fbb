// Metrics: counters and a latency histogram for /metrics, in Prometheus text format.
// Every method is lock-free and thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "api/routes.h"

namespace custodian::api {

class Metrics {
 public:
  // One finished request: its route (nullptr when none matched), HTTP status and time.
  void CountRequest(const RouteSpec* route, int status, int64_t duration_us);
  void CountLoginFailure() { login_failures_++; }
  void CountAccessEntry(bool ok) { (ok ? access_entries_ : access_failures_)++; }
  // Connection gauges, kept by the server.
  void ConnectionOpened() {
    connections_open_++;
    connections_total_++;
  }
  void ConnectionClosed() { connections_open_--; }
  void ConnectionRejected() { connections_rejected_++; }
  void EdgeRejection() { edge_rejections_++; }  // oversized or malformed requests

  // Prometheus exposition text (version 0.0.4).
  std::string Render() const;

 private:
  static constexpr size_t kRoutes = static_cast<size_t>(RouteId::kCount) + 1;  // + unmatched
  static constexpr size_t kClasses = 5;                                        // 1xx..5xx
  static constexpr std::array<int64_t, 8> kBucketsUs = {1000,  2500,  5000,   10000,
                                                        25000, 50000, 100000, 1000000};

  std::array<std::array<std::atomic<int64_t>, kClasses>, kRoutes> requests_{};
  std::array<std::atomic<int64_t>, kBucketsUs.size() + 1> latency_buckets_{};
  std::atomic<int64_t> latency_sum_us_{0};
  std::atomic<int64_t> login_failures_{0};
  std::atomic<int64_t> access_entries_{0};
  std::atomic<int64_t> access_failures_{0};
  std::atomic<int64_t> connections_open_{0};
  std::atomic<int64_t> connections_total_{0};
  std::atomic<int64_t> connections_rejected_{0};
  std::atomic<int64_t> edge_rejections_{0};
};

}  // namespace custodian::api
