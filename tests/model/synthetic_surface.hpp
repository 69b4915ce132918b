#pragma once

// A known response surface for model tests: throughput saturates with
// batch size towards the arrival rate; latency has its minimum at batch
// size 80 (filling time below, request time above) and grows with the
// queue. Samples carry 2% multiplicative noise from a fixed seed.

#include <cmath>
#include <random>
#include <vector>

#include "runtime/policy/types.hpp"

namespace batching::testing_support {

inline double true_throughput(const feature_vector& f) {
  return f.arrival_rate * (1 - std::exp(-f.batch_size / 30));
}

inline double true_latency(const feature_vector& f) {
  double b = f.batch_size;
  return 100 + (b - 80) * (b - 80) / 10 + f.pending_operations / 20;
}

inline feature_vector random_features(std::mt19937_64& rng, double lo_size,
                                      double hi_size) {
  std::uniform_real_distribution<double> u(0, 1);
  feature_vector f;
  f.batch_size = lo_size + (hi_size - lo_size) * u(rng);
  f.in_flight_batches = 1 + 3 * u(rng);
  f.pending_operations = 1000 * u(rng);
  f.arrival_rate = 100 + 200 * u(rng);
  f.recent_latency_ms = 200 + 100 * u(rng);
  f.cpu_percent = 20 + 10 * u(rng);
  f.memory_percent = 40 + 5 * u(rng);
  f.seconds_since_throttle = 600;
  return f;
}

inline std::vector<training_sample> synthetic(std::size_t n, std::uint64_t seed,
                                              double lo_size = 10,
                                              double hi_size = 200) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 0.02);
  std::vector<training_sample> out;
  for (std::size_t i = 0; i < n; ++i) {
    training_sample s;
    s.op_type = "write";
    s.features = random_features(rng, lo_size, hi_size);
    s.throughput = true_throughput(s.features) * (1 + noise(rng));
    s.item_latency_ms = true_latency(s.features) * (1 + noise(rng));
    s.success_rate = 1;
    out.push_back(s);
  }
  return out;
}

} // namespace batching::testing_support
