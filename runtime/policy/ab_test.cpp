#include "runtime/policy/ab_test.hpp"

#include <algorithm>
#include <cmath>

namespace batching {

void arm_stats::add(double x) {
  ++n;
  double delta = x - mean;
  mean += delta / static_cast<double>(n);
  m2 += delta * (x - mean);
}

std::vector<double> batch_means(const std::vector<double>& xs) {
  auto n = xs.size();
  if (n == 0)
    return {};
  auto b = std::max<std::size_t>(1, n / batches_wanted);
  std::vector<double> means;
  for (auto i = n % b; i + b <= n; i += b) {
    double sum = 0;
    for (auto j = i; j < i + b; ++j)
      sum += xs[j];
    means.push_back(sum / static_cast<double>(b));
  }
  return means;
}

std::optional<welch_statistic> welch_of(const arm_stats& control,
                                        const arm_stats& test) {
  if (control.n < 2 || test.n < 2)
    return std::nullopt;
  double a = control.variance() / static_cast<double>(control.n);
  double b = test.variance() / static_cast<double>(test.n);
  if (a + b <= 0)
    return std::nullopt;
  welch_statistic w;
  w.t = (test.mean - control.mean) / std::sqrt(a + b);
  w.df = (a + b) * (a + b)
         / (a * a / static_cast<double>(control.n - 1)
            + b * b / static_cast<double>(test.n - 1));
  return w;
}

namespace {

arm_stats stats_of(const std::vector<double>& xs) {
  arm_stats s;
  for (double x : xs)
    s.add(x);
  return s;
}

} // namespace

std::optional<welch_statistic> ab_test::welch() const {
  return welch_of(control_, test_);
}

std::optional<welch_statistic> ab_test::batch_welch() const {
  return welch_of(stats_of(batch_means(control_samples_)),
                  stats_of(batch_means(test_samples_)));
}

ab_test_result ab_test::result(std::string test_id, double p_value) const {
  ab_test_result r;
  r.test_id = std::move(test_id);
  r.name = cfg_.name;
  r.control_strategy = cfg_.control;
  r.test_strategy = cfg_.test;
  r.control_samples = control_.n;
  r.test_samples = test_.n;
  r.control_batches = batch_means(control_samples_).size();
  r.test_batches = batch_means(test_samples_).size();
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
