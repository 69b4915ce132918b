#include "sim/oracle.hpp"

#include <algorithm>
#include <cmath>

namespace batching::sim {

bool acceptable(const run_result& r) {
  return r.slo_met && r.throttle_rate <= 0.01 && r.lost == 0;
}

bool better(const run_result& a, const run_result& b) {
  if (acceptable(a) != acceptable(b))
    return acceptable(a);
  if (a.goodput != b.goodput)
    return a.goodput > b.goodput;
  return a.p99_ms < b.p99_ms;
}

namespace {

struct tried {
  strategy_spec config;
  run_result result;
};

strategy_spec candidate(std::uint32_t size, std::uint32_t n, double rate,
                        double linger) {
  strategy_spec s{"oracle", strategy_kind::fixed, flow_kind::fixed};
  s.batch_size = size;
  s.max_in_flight = n;
  s.rate = rate;
  s.linger_ms = linger;
  return s;
}

/// Runs task(0..count-1) in order. Sequential on purpose: two CAF 0.17
/// actor systems built and torn down on two threads at once hung once in
/// testing (both threads blocked, no CPU), so the sweep stays on one.
template <class Task>
auto in_order(std::size_t count, const Task& task) {
  std::vector<decltype(task(0))> results;
  for (std::size_t i = 0; i < count; ++i)
    results.push_back(task(i));
  return results;
}

} // namespace

oracle_result
find_oracle(const scenario& sc,
            const std::function<void(std::size_t, std::size_t)>& progress) {
  std::vector<double> rates;
  for (double r = 0.25; r <= 200; r *= 1.12)
    rates.push_back(std::round(r * 100) / 100);
  const std::vector<std::uint32_t> in_flight{1, 2, 4, 8, 16};
  auto cap = sc.backend.max_items_per_request;
  std::vector<std::uint32_t> sizes;
  for (std::uint32_t b : {10u, 25u, 50u, 75u, 100u, 200u, 500u})
    if (b < cap)
      sizes.push_back(b);
  sizes.push_back(cap);
  const std::vector<double> lingers{5, 20, 50, 200, 1000};
  // An upper bound for the progress display; pruning runs fewer.
  auto total
    = (rates.size() + 1) * in_flight.size() + sizes.size() * lingers.size();
  std::size_t done = 0;
  run_options quiet;
  quiet.series = false;
  auto run = [&](const strategy_spec& s) {
    auto r = run_strategy(sc, s, quiet);
    ++done;
    if (progress)
      progress(done, total);
    return r;
  };
  // Stage 1, one task per in-flight value: unpaced, then rates upwards
  // until throttling sets in for good (higher rates only throttle more).
  auto row = [&](std::size_t i) {
    auto n = in_flight[i];
    std::vector<tried> out;
    auto unpaced = candidate(cap, n, 0, 50);
    out.push_back({unpaced, run(unpaced)});
    int throttling = 0;
    for (auto rate : rates) {
      auto s = candidate(cap, n, rate, 50);
      out.push_back({s, run(s)});
      throttling = out.back().result.throttle_rate > 0.05 ? throttling + 1 : 0;
      if (throttling >= 2)
        break;
    }
    return out;
  };
  oracle_result best;
  auto pick = [&](std::vector<tried>& all) {
    for (auto& t : all)
      if (best.candidates++ == 0 || better(t.result, best.result)) {
        best.config = t.config;
        best.result = std::move(t.result);
      }
  };
  for (auto& r : in_order(in_flight.size(), row))
    pick(r);
  auto stage1 = best.config;
  std::vector<strategy_spec> stage2;
  for (auto size : sizes)
    for (auto linger : lingers)
      stage2.push_back(
        candidate(size, stage1.max_in_flight, stage1.rate, linger));
  for (auto& r : in_order(stage2.size(), [&](std::size_t i) {
         return std::vector<tried>{{stage2[i], run(stage2[i])}};
       }))
    pick(r);
  best.result.strategy = "oracle";
  return best;
}

} // namespace batching::sim
