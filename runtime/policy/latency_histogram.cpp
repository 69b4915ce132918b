#include "runtime/policy/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace batching {

int latency_histogram::bucket_of(std::uint64_t us) {
  if (us < sub_buckets)
    return static_cast<int>(us);
  // Power p = index of the highest bit; 8 linear steps within [2^p, 2^p+1).
  int p = std::bit_width(us) - 1;
  int step = static_cast<int>((us >> (p - 3)) & (sub_buckets - 1));
  int bucket = (p - 2) * sub_buckets + step;
  return std::min(bucket, sub_buckets * powers - 1);
}

double latency_histogram::upper_edge_us(int bucket) {
  if (bucket < sub_buckets)
    return bucket + 1;
  int p = bucket / sub_buckets + 2;
  int step = bucket % sub_buckets;
  return std::ldexp(1.0 + (step + 1) / 8.0, p);
}

void latency_histogram::record(duration d, std::uint64_t n) {
  if (n == 0)
    return;
  auto us = std::max<std::int64_t>(
    0, std::chrono::duration_cast<std::chrono::microseconds>(d).count());
  buckets_[bucket_of(static_cast<std::uint64_t>(us))] += n;
  count_ += n;
  sum_us_ += static_cast<double>(us) * static_cast<double>(n);
  max_us_ = std::max(max_us_, static_cast<double>(us));
}

double latency_histogram::quantile_ms(double q) const {
  if (count_ == 0)
    return 0;
  auto rank = static_cast<std::uint64_t>(
    std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_)));
  rank = std::max<std::uint64_t>(rank, 1);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank)
      return std::min(upper_edge_us(static_cast<int>(i)), max_us_) / 1000.0;
  }
  return max_us_ / 1000.0;
}

std::uint64_t latency_histogram::count_at_most_ms(double ms) const {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    if (upper_edge_us(static_cast<int>(i)) > ms * 1000.0)
      break;
    n += buckets_[i];
  }
  return n;
}

double latency_histogram::mean_ms() const {
  return count_ == 0 ? 0 : sum_us_ / static_cast<double>(count_) / 1000.0;
}

latency_summary latency_histogram::summary() const {
  return {quantile_ms(0.5), quantile_ms(0.95), quantile_ms(0.99), mean_ms(),
          max_ms()};
}

} // namespace batching
