#pragma once

// Retry with exponential backoff and seeded jitter.
//
// Algorithm: an operation that failed retryably after `attempts` attempts is
// retried while attempts < max_attempts, after
//     backoff(attempts) = min(max, base * 2^(attempts-1)) * U[0.5, 1.5)
// where U comes from the caller's seeded generator (deterministic per seed).
// Throttling (HTTP 429) is not a failure: it never consumes an attempt and is
// paced by Retry-After instead (see pacer.hpp).
//
// Invariants: backoff(n) <= 1.5 * max; backoff(n) >= 0.5 * min(max, base).

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "runtime/policy/random.hpp"
#include "runtime/policy/types.hpp"

namespace batching {

class retry_policy {
public:
  struct config {
    std::uint32_t max_attempts = 5;
    duration base = std::chrono::milliseconds{500};
    duration max = std::chrono::seconds{30};
  };

  explicit retry_policy(config cfg) : cfg_(cfg) {
    // nop
  }

  /// Whether an operation that failed retryably after `attempts` attempts
  /// may try again.
  bool may_retry(std::uint32_t attempts) const {
    return attempts < cfg_.max_attempts;
  }

  /// How long to wait before the attempt after `attempts` (>= 1) attempts.
  duration backoff(std::uint32_t attempts, seeded_random& rng) const {
    auto exponent
      = std::min<std::uint32_t>(attempts > 0 ? attempts - 1 : 0, 62);
    auto raw = std::min(static_cast<double>(cfg_.max.count()),
                        static_cast<double>(cfg_.base.count())
                          * std::ldexp(1.0, static_cast<int>(exponent)));
    return duration{static_cast<duration::rep>(raw * rng.uniform(0.5, 1.5))};
  }

  const config& settings() const { return cfg_; }

private:
  config cfg_;
};

} // namespace batching
