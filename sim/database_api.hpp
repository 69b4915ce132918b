#pragma once

// A database-like backend as a pure, seeded model (virtual time): no
// request budget, but batches cost less per item as they grow, and
// concurrent batches contend for locks.
//
// Model. A batch of n items arriving while c - 1 others are in flight:
//   latency = (base + item_cost * n^0.8) * (1 + contention * (c - 1))
//             * lognormal jitter (sigma)
//   -> throughput n / latency grows with n with diminishing returns, and
//      more concurrency buys less and less;
//   c > overload_concurrency: the batch fails (retryable, "deadlock /
//      overloaded") with probability overload_error_rate;
//   plus the item/byte caps, outages and random errors of
//   rate_limited_api.
// Invariants: the same seed and inputs give the same answers.

#include <cstdint>
#include <queue>
#include <vector>

#include "runtime/policy/random.hpp"
#include "runtime/policy/types.hpp"
#include "sim/delayed_answer.hpp"
#include "sim/rate_limited_api.hpp"

namespace batching::sim {

class database_api {
public:
  struct config {
    std::uint32_t max_items_per_request = 1000;
    std::uint64_t max_payload_bytes = 10'000'000;
    double base_latency_ms = 5;
    double item_cost_ms = 1;
    double contention = 0.5;
    double overload_concurrency = 8;
    double overload_error_rate = 0.2;
    double jitter_sigma = 0.2;
    double error_rate = 0;
    std::vector<rate_limited_api::outage> outages;
    std::uint64_t seed = 1;
  };

  database_api(config cfg, time_point start);

  void reconfigure(const config& cfg) { cfg_ = cfg; }
  const config& settings() const { return cfg_; }

  delayed_answer serve(const batch& b, time_point now);

  /// Mean latency (ms) of a batch of n with c in flight, without jitter.
  static double latency_ms(const config& cfg, double n, double c);

  std::uint64_t requests() const { return requests_; }
  std::uint64_t failed() const { return failed_; }

private:
  config cfg_;
  time_point start_;
  seeded_random rng_;
  std::priority_queue<time_point, std::vector<time_point>,
                      std::greater<time_point>>
    busy_until_;
  std::uint64_t requests_ = 0;
  std::uint64_t failed_ = 0;
};

} // namespace batching::sim
