#include "sim/oracle.hpp"

#include <algorithm>
#include <cmath>

namespace batching::sim {

namespace {

bool acceptable(const run_result& r) {
  return r.slo_met && r.throttle_rate <= 0.01 && r.lost == 0;
}

/// Whether `a` is a better pick than `b`.
bool better(const run_result& a, const run_result& b) {
  if (acceptable(a) != acceptable(b))
    return acceptable(a);
  if (a.goodput != b.goodput)
    return a.goodput > b.goodput;
  return a.p99_ms < b.p99_ms;
}

} // namespace

oracle_result
find_oracle(const scenario& sc,
            const std::function<void(std::size_t, std::size_t)>& progress) {
  std::vector<double> rates{0}; // 0: unpaced
  for (double r = 0.25; r <= 200; r *= 1.12)
    rates.push_back(std::round(r * 100) / 100);
  std::vector<std::uint32_t> in_flight{1, 2, 4, 8, 16};
  auto cap = sc.backend.max_items_per_request;
  std::vector<std::uint32_t> sizes;
  for (std::uint32_t b : {10u, 25u, 50u, 75u, 100u, 200u, 500u})
    if (b < cap)
      sizes.push_back(b);
  sizes.push_back(cap);
  std::vector<double> lingers{5, 20, 50, 200, 1000};
  auto total = rates.size() * in_flight.size() + sizes.size() * lingers.size();
  oracle_result best;
  std::size_t done = 0;
  run_options quiet;
  quiet.series = false;
  auto consider = [&](strategy_spec s) {
    auto r = run_strategy(sc, s, quiet);
    if (done == 0 || better(r, best.result)) {
      best.config = s;
      best.result = std::move(r);
    }
    ++done;
    if (progress)
      progress(done, total);
  };
  auto base
    = [&](std::uint32_t size, std::uint32_t n, double rate, double linger) {
        strategy_spec s{"oracle", strategy_kind::fixed, flow_kind::fixed};
        s.batch_size = size;
        s.max_in_flight = n;
        s.rate = rate;
        s.linger_ms = linger;
        return s;
      };
  for (auto n : in_flight)
    for (auto rate : rates)
      consider(base(cap, n, rate, 50));
  auto stage1 = best.config;
  for (auto size : sizes)
    for (auto linger : lingers)
      consider(base(size, stage1.max_in_flight, stage1.rate, linger));
  best.candidates = done;
  best.result.strategy = "oracle";
  return best;
}

} // namespace batching::sim
