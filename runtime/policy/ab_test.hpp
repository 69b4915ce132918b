#pragma once

// A/B test bookkeeping and verdict, pure: samples per arm (Welford's running
// mean and variance), Welch's t statistic and degrees of freedom, and the
// recommendation once a p-value is known (runtime/stats computes it; the
// policy layer stays free of Boost).
//
// Algorithm. Per arm: n, mean, M2 (Welford). Welch:
//   t  = (mean_test - mean_control) / sqrt(v_c / n_c + v_t / n_t)
//   df = (v_c/n_c + v_t/n_t)^2 / ((v_c/n_c)^2/(n_c-1) + (v_t/n_t)^2/(n_t-1))
// improvement % = (mean_test - mean_control) / |mean_control| * 100, sign
//   flipped when lower is better (latency);
// recommendation: inconclusive while either arm has < min_samples or
//   p > significance (or the statistics are undefined); else adopt when
//   the test arm is better, keep when the control arm is.
// Invariants: recording never changes the other arm; the verdict depends
// only on the samples and the configuration.

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/policy/types.hpp"

namespace batching {

/// Running mean and variance of one arm (Welford).
struct arm_stats {
  std::uint64_t n = 0;
  double mean = 0;
  double m2 = 0;

  void add(double x);

  /// Sample variance (n - 1); 0 below two samples.
  double variance() const {
    return n > 1 ? m2 / static_cast<double>(n - 1) : 0;
  }
};

/// Welch's t statistic and its degrees of freedom.
struct welch_statistic {
  double t = 0;
  double df = 0;
};

class ab_test {
public:
  struct config {
    std::string name;
    std::string control;
    std::string test;
    std::uint64_t min_samples = 30;
    double significance = 0.05;
    bool higher_is_better = true;
  };

  explicit ab_test(config cfg) : cfg_(std::move(cfg)) {
    // nop
  }

  void record(bool test_arm, double value) {
    (test_arm ? test_ : control_).add(value);
  }

  const arm_stats& control() const { return control_; }
  const arm_stats& test() const { return test_; }
  const config& settings() const { return cfg_; }

  /// Welch's t and df; nothing while either arm has < 2 samples or both
  /// variances are 0.
  std::optional<welch_statistic> welch() const;

  /// The result with `p_value` (two-sided) from Welch's t-test.
  ab_test_result result(std::string test_id, double p_value) const;

private:
  config cfg_;
  arm_stats control_;
  arm_stats test_;
};

} // namespace batching
