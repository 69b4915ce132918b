#include "sim/ab.hpp"

#include "runtime/stats/t_test.hpp"

namespace batching::sim {

ab_outcome run_ab_test(const scenario& sc, const strategy_spec& control,
                       const strategy_spec& test, std::uint64_t min_samples,
                       double significance) {
  ab_outcome out;
  out.control = run_strategy(sc, control);
  out.test = run_strategy(sc, test);
  ab_test t{{sc.name + ": " + control.name + " vs " + test.name, control.name,
             test.name, min_samples, significance, true}};
  auto record = [&](const run_result& r, bool test_arm) {
    for (const auto& p : r.series)
      if (p.t_s <= sc.duration_s)
        t.record(test_arm, p.goodput);
  };
  record(out.control, false);
  record(out.test, true);
  out.result
    = stats::analyze(t, sc.name + "/" + control.name + "/" + test.name);
  return out;
}

} // namespace batching::sim
