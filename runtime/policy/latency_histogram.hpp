#pragma once

// Latency distribution in fixed memory: log-linear buckets (8 per power of
// two, microsecond resolution, up to ~2^40 us), so quantiles are accurate to
// within one bucket (< 9%) for any number of samples.
//
// quantile(q) returns the upper edge of the bucket holding the q-th sample
// (never under-reports); mean() and max() are exact.

#include <array>
#include <cstdint>

#include "runtime/policy/types.hpp"

namespace batching {

class latency_histogram {
public:
  static constexpr int sub_buckets = 8;
  static constexpr int powers = 41;

  /// Records `n` samples of latency `d`.
  void record(duration d, std::uint64_t n = 1);

  std::uint64_t count() const { return count_; }

  /// Milliseconds; 0 when empty.
  double quantile_ms(double q) const;
  double mean_ms() const;
  double max_ms() const { return max_us_ / 1000.0; }

  /// Samples at most `ms` (counted per bucket: a bucket counts when its
  /// upper edge is within `ms`, so this never over-reports).
  std::uint64_t count_at_most_ms(double ms) const;

  double sum_ms() const { return sum_us_ / 1000.0; }

  /// p50, p95, p99, mean and max in milliseconds.
  latency_summary summary() const;

private:
  static int bucket_of(std::uint64_t us);
  static double upper_edge_us(int bucket);

  std::array<std::uint64_t, sub_buckets * powers> buckets_{};
  std::uint64_t count_ = 0;
  double sum_us_ = 0;
  double max_us_ = 0;
};

} // namespace batching
