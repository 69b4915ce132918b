#pragma once

// A/B tests in the simulator: both arms run the same scenario with the same
// seed (common random numbers), each second of arrivals is one sample of
// the metric (goodput, operations that succeeded in that second), and
// Welch's t-test decides (runtime/policy/ab_test.hpp).

#include "runtime/policy/ab_test.hpp"
#include "sim/runner.hpp"

namespace batching::sim {

struct ab_outcome {
  ab_test_result result;
  run_result control;
  run_result test;
};

ab_outcome run_ab_test(const scenario& sc, const strategy_spec& control,
                       const strategy_spec& test,
                       std::uint64_t min_samples = 30,
                       double significance = 0.05);

} // namespace batching::sim
