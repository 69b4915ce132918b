#include "runtime/policy/ab_test.hpp"

#include <cmath>

namespace batching {

void arm_stats::add(double x) {
  ++n;
  double delta = x - mean;
  mean += delta / static_cast<double>(n);
  m2 += delta * (x - mean);
}

std::optional<welch_statistic> ab_test::welch() const {
  if (control_.n < 2 || test_.n < 2)
    return std::nullopt;
  double a = control_.variance() / static_cast<double>(control_.n);
  double b = test_.variance() / static_cast<double>(test_.n);
  if (a + b <= 0)
    return std::nullopt;
  welch_statistic w;
  w.t = (test_.mean - control_.mean) / std::sqrt(a + b);
  w.df = (a + b) * (a + b)
         / (a * a / static_cast<double>(control_.n - 1)
            + b * b / static_cast<double>(test_.n - 1));
  return w;
}

ab_test_result ab_test::result(std::string test_id, double p_value) const {
  ab_test_result r;
  r.test_id = std::move(test_id);
  r.name = cfg_.name;
  r.control_strategy = cfg_.control;
  r.test_strategy = cfg_.test;
  r.control_samples = control_.n;
  r.test_samples = test_.n;
  r.control_mean = control_.mean;
  r.test_mean = test_.mean;
  double sign = cfg_.higher_is_better ? 1 : -1;
  if (control_.mean != 0)
    r.improvement_percent
      = sign * (test_.mean - control_.mean) / std::abs(control_.mean) * 100;
  r.p_value = std::isfinite(p_value) ? p_value : 1;
  bool enough = control_.n >= cfg_.min_samples && test_.n >= cfg_.min_samples;
  if (!enough || !std::isfinite(p_value) || p_value > cfg_.significance
      || test_.mean == control_.mean)
    r.recommendation = ab_recommendation::inconclusive;
  else
    r.recommendation = sign * (test_.mean - control_.mean) > 0
                         ? ab_recommendation::adopt
                         : ab_recommendation::keep;
  return r;
}

} // namespace batching
