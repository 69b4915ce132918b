#pragma once

// The oracle: the static configuration a careful operator would pick with
// hindsight, found by sweeping static configurations (fixed batch size,
// requests in flight, linger and request rate; no adaptation) on the same
// scenario and seed.
//
// Sweep. Stage 1: batch size = the backend's item cap, linger 50 ms;
//   for each in-flight in {1, 2, 4, 8, 16}: unpaced, then request rates
//   upwards on a geometric grid (0.25 .. 200 requests/s, 12% steps) until
//   two rates in a row throttle more than 5% of requests (a higher rate
//   only throttles more).
// Stage 2: at the best (in-flight, rate): batch size in {10, 25, 50, 75,
//   100, 200, 500} (up to the cap) x linger in {5, 20, 50, 200, 1000} ms.
// Best: the most goodput among runs that meet the SLO with throttle_rate
//   <= 1% and lose nothing; if none does, the most goodput. Ties: lower p99.

#include <functional>

#include "sim/runner.hpp"

namespace batching::sim {

/// Meets the SLO with throttle_rate <= 1% and loses nothing.
bool acceptable(const run_result& r);

/// Whether `a` is a better pick than `b`: acceptable first, then more
/// goodput, then a lower p99.
bool better(const run_result& a, const run_result& b);

struct oracle_result {
  strategy_spec config;
  run_result result;
  std::size_t candidates = 0;
};

/// `progress(done, total)` after each candidate run.
oracle_result
find_oracle(const scenario& sc,
            const std::function<void(std::size_t, std::size_t)>& progress = {});

} // namespace batching::sim
